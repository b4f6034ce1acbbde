"""`tutor eval grounding`: agreement of the groundedness check with labelled answer sentences."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
@click.option("--labels", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Labelled sentences (default: evals/genai-models/grounding.yaml).")
@click.option("--show-errors", is_flag=True, help="List every sentence the check judges differently from its label.")
def eval_grounding(as_json: bool, labels: Path | None, show_errors: bool) -> None:
    """How well the groundedness check agrees with labelled sentences, and groundedness by labels vs by the check."""
    from tutor.config import offline
    from tutor.llm import grounding_eval as ge
    from tutor.llm.errors import LLMError
    from tutor.llm.grounding import SENTENCE_SUPPORT
    from tutor.retrieval import load_embedder
    from tutor.retrieval.errors import RetrievalError

    offline()
    try:
        items = ge.load_labels(labels)
        scored = ge.score_items(items, load_embedder().encode)
    except (LLMError, RetrievalError) as exc:
        raise click.ClickException(str(exc)) from None
    shipped = ge.agreement(scored, SENTENCE_SUPPORT)
    sweep = [ge.agreement(scored, t) for t in ge.SWEEP]
    groups = ge.by_group(scored, SENTENCE_SUPPORT)
    cv = ge.cross_validate(scored, SENTENCE_SUPPORT)
    if as_json:
        click.echo(json.dumps({"shipped_threshold": asdict(shipped), "groups": [asdict(g) for g in groups],
                               "sweep": [asdict(a) for a in sweep], "cross_validated": asdict(cv) if cv else None}))
        return

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    click.echo(f"{shipped.n} labelled sentences, {shipped.unsupported} unsupported, {shipped.wrong} plainly wrong; "
               f"check threshold {SENTENCE_SUPPORT}")
    click.echo(f"agreement {fmt(shipped.agreement)}  balanced accuracy {fmt(shipped.balanced_accuracy)}  "
               f"flag precision {fmt(shipped.flag_precision)}  flag recall {fmt(shipped.flag_recall)}  "
               f"wrong sentences caught {fmt(shipped.wrong_caught)}")
    click.echo("")
    click.echo(f"{'group':<24} {'answers':>7} {'sentences':>9} {'grounded (labels)':>17} {'grounded (check)':>16} {'wrong':>6}")
    for g in groups:
        click.echo(f"{g.group:<24} {g.answers:>7} {g.sentences:>9} {g.grounded_by_labels:>17.3f} "
                   f"{g.grounded_by_check:>16.3f} {g.wrong_share:>6.3f}")
    click.echo("")
    click.echo(f"{'threshold':>9} {'flagged':>7} {'agreement':>9} {'bal. acc.':>9} {'precision':>9} {'recall':>6} {'wrong caught':>12}")
    for a in sweep:
        click.echo(f"{a.threshold:>9.2f} {a.flagged:>7} {fmt(a.agreement):>9} {fmt(a.balanced_accuracy):>9} "
                   f"{fmt(a.flag_precision):>9} {fmt(a.flag_recall):>6} {fmt(a.wrong_caught):>12}")
    if cv is not None:
        click.echo(f"\ncross-validated by question (2 folds): thresholds chosen {', '.join(f'{t:.2f}' for t in cv.folds)}; "
                   f"held-out balanced accuracy {cv.chosen_balanced_accuracy:.3f} vs {cv.shipped_balanced_accuracy:.3f} "
                   f"at {SENTENCE_SUPPORT}")
    if show_errors:
        click.echo("")
        for s in scored:
            if (s.score < SENTENCE_SUPPORT) != s.unsupported:
                click.echo(f"[{s.item.id} {s.item.source}] label {s.item.label}, score {s.score:.2f}: {s.item.sentence}")
