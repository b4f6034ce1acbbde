"""`tutor train-embedder`: fine-tune MiniLM on this course (a LoRA adapter), calibrate scope, write the card.

Steps: generate (question, section) pairs from the course and the dev split;
train one adapter per cross-fitting fold and the final one; choose the fusion
weight and fit the scope classifier for the base and the tuned model on the dev
split; measure both on the dev and heldout splits; write adapters/embedder/
{adapter files, calibration*.json, card.md, card.json, *.svg}.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("train-embedder")
@click.option("--course", type=click.Path(), default=None, help="Course folder (default: shipped course).")
@click.option("--questions", type=click.Path(), default=None, help="Dev set YAML (its dev split is used).")
@click.option("--out", "out", type=click.Path(), default=None, help="Adapter folder (default: adapters/embedder).")
@click.option("--epochs", type=click.IntRange(1, 50), default=None, help="Training epochs.")
@click.option("--folds", type=click.IntRange(0, 10), default=2, show_default=True,
              help="Cross-fitting folds for honest calibration (0 = calibrate on the final adapter's own scores).")
@click.option("--calibrate-only", is_flag=True, help="Keep the adapter; refit fusion, scope and the card.")
@click.option("--jobs", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Train the cross-fitting folds and the final adapter in this many parallel processes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
def train_embedder(
    course: str | None, questions: str | None, out: str | None, epochs: int | None, folds: int,
    calibrate_only: bool, jobs: int, as_json: bool,
) -> None:
    """Fine-tune the retrieval embedder on this course."""
    from tutor.retrieval.errors import RetrievalError
    from tutor.retrieval.pipeline import train_and_calibrate

    log = (lambda _m: None) if as_json else (lambda m: click.echo(m, err=True))
    try:
        summary = train_and_calibrate(
            course_path=course,
            questions=Path(questions) if questions else None,
            out_dir=Path(out) if out else None,
            epochs=epochs,
            folds=folds,
            calibrate_only=calibrate_only,
            log=log,
            jobs=jobs,
        )
    except RetrievalError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"Adapter: {summary['out_dir']} ({summary['adapter_bytes'] / 1e6:.2f} MB)")
    for split, figures in summary["results"].items():
        for name, f in figures.items():
            click.echo(
                f"  {split:<8} {name:<6} R@1 {f['recall_at_1']:.3f}  R@3 {f['recall_at_3']:.3f}  "
                f"in-scope kept {f['in_scope_kept']:.3f}  out-of-scope declined {f['out_of_scope_declined']:.3f}"
            )
    click.echo(f"Card: {summary['out_dir']}/card.md")
