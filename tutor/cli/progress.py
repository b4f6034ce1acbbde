"""`tutor progress`: a learner's mastery per concept and objective, and the next reviews due."""

from __future__ import annotations

import json

import click


def _pct(p: float) -> str:
    return f"{round(p * 100):>3}%"


@click.command()
@click.option("--learner", required=True, help="Learner name.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--db", "db_url", metavar="URL", default=None, help="Database URL (default: TUTOR_DB_URL or data folder).")
@click.option("--course", default=None, help="Course folder (default: shipped course).")
@click.option("--bank", default=None, help="Question bank folder (default: the course's bank).")
def progress(learner: str, as_json: bool, db_url: str | None, course: str | None, bank: str | None) -> None:
    """Show a learner's mastery per concept and objective and the next due reviews."""
    from tutor.learner.progress import learner_progress
    from tutor.quiz.errors import QuizError
    from tutor.quiz.service import load_content, load_learner_params, open_store
    from tutor.store import StoreError

    try:
        loaded_course, loaded_bank = load_content(course, bank)
        params = load_learner_params(loaded_course.id)
        store = open_store(db_url)
    except QuizError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        record = store.get_learner(learner.strip())
        if record is None:
            raise click.ClickException(f"no learner named '{learner}' in {store.location}")
        report = learner_progress(store, loaded_course, loaded_bank, record.id, params=params)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()

    if as_json:
        click.echo(json.dumps({"learner": record.name, **report.to_dict()}))
        return
    click.echo(f"Progress of {record.name}: {report.answered} answers, {report.correct} right. "
               f"Mastered means a knowledge-tracing estimate of 95% or more.")
    for objective in report.objectives:
        click.echo("")
        click.echo(f"Objective: {objective.text}")
        click.echo(f"  mean mastery {_pct(objective.mastery).strip()}, {objective.mastered} of {objective.concepts} "
                   "concepts mastered")
        for c in report.concepts:
            if c.objective != objective.objective_id:
                continue
            state = "mastered" if c.mastered else ("not practised" if not c.practised else "learning")
            detail = f"{c.correct} of {c.attempts} right" if c.attempts else (
                "no questions yet" if c.items == 0 else f"{c.items} questions available")
            click.echo(f"  {_pct(c.p_known)}  {c.name}: {state}, {detail}")
    click.echo("")
    if report.reviews:
        click.echo("Next reviews:")
        for r in report.reviews:
            when = "due now" if r.overdue else "due " + r.due.astimezone().strftime("%Y-%m-%d %H:%M")
            click.echo(f"  {when}: {r.title}")
    else:
        click.echo("No reviews scheduled yet.")
    click.echo(f"Next step: {report.next_step}")
