"""`tutor eval answers`: key-fact accuracy, evidence accuracy, groundedness and scope of tutor answers."""

from __future__ import annotations

import json

import click

LEVELS = ("beginner", "intermediate", "advanced")
STYLES = ("analogy", "example", "step-by-step", "concise")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
@click.option("--adapter", default=None, help="LoRA adapter folder, or 'none' for the base model (default: shipped).")
@click.option("--model", "model", type=click.Path(), default=None, help="A local transformers causal-LM folder.")
@click.option("--split", type=click.Choice(("heldout", "dev", "all")), default="dev", show_default=True)
@click.option("--limit", type=click.IntRange(1, None), default=None, help="First N in-scope and N out-of-scope questions.")
@click.option("--level", type=click.Choice(LEVELS), default="beginner", show_default=True)
@click.option("--style", type=click.Choice(STYLES), default="example", show_default=True)
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), default=None, help="Questions YAML.")
@click.option("--cases", "with_cases", is_flag=True, help="Include every question's answer in the JSON.")
@click.option("--show", is_flag=True, help="Print each answer as it is scored (to stderr).")
def eval_answers(
    as_json: bool,
    adapter: str | None,
    model: str | None,
    split: str,
    limit: int | None,
    level: str,
    style: str,
    questions: str | None,
    with_cases: bool,
    show: bool,
) -> None:
    """Run the dev questions through the tutor and score its answers."""
    from tutor.llm.answer import Tutor, TutorConfig
    from tutor.llm.errors import LLMError
    from tutor.llm.evaluate import limit_cases, load_cases, run_eval
    from tutor.llm.types import Profile

    def progress(n: int, total: int, case) -> None:
        if show:
            facts = "".join("+" if f else "-" for f in case.facts_answer) or ("declined" if not case.in_scope else "")
            click.echo(f"[{n}/{total}] {case.id} {facts} {case.question}\n    {case.answer}", err=True)
        elif n % 10 == 0 or n == total:
            click.echo(f"  {n}/{total} questions", err=True)

    try:
        cases = limit_cases(load_cases(questions, split), limit)
        if not cases:
            raise LLMError(f"no questions in split {split!r}")
        tutor = Tutor.load(TutorConfig(model=model, adapter=adapter, keys_for_split=split))
        report = run_eval(tutor, cases, profile=Profile(level=level, style=style), split=split, progress=progress)
    except LLMError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.to_json(with_cases=with_cases)))
    else:
        click.echo(report.table())
