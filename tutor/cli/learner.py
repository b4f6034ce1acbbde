"""`tutor learner`: maintenance of the learner model (fit the knowledge-tracing parameters)."""

from __future__ import annotations

import json

import click


@click.group()
def learner() -> None:
    """Learner-model maintenance (fit knowledge-tracing parameters)."""


@learner.command()
@click.option("--db", "db_url", metavar="URL", default=None, help="Database URL (default: TUTOR_DB_URL or data folder).")
@click.option("--course", default=None, help="Course folder (default: shipped course).")
@click.option("--bank", default=None, help="Question bank folder (default: the course's bank).")
@click.option("--min-attempts", default=None, type=click.IntRange(1), help="Answers a concept needs to be fitted.")
@click.option("--min-learners", default=None, type=click.IntRange(1), help="Learners a concept needs to be fitted.")
@click.option("--dry-run", is_flag=True, help="Show the fit without saving it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def fit(db_url: str | None, course: str | None, bank: str | None, min_attempts: int | None,
        min_learners: int | None, dry_run: bool, as_json: bool) -> None:
    """Fit BKT parameters per concept from the stored answers (EM); thin concepts keep the defaults."""
    from tutor.learner.fit import MIN_ATTEMPTS, MIN_LEARNERS, fit_param_set
    from tutor.learner.params import params_path, save_params
    from tutor.quiz.errors import QuizError
    from tutor.quiz.service import load_content, open_store
    from tutor.store import StoreError

    try:
        loaded_course, _ = load_content(course, bank)
        store = open_store(db_url)
    except QuizError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        attempts = [a for a in store.attempts() if a.course_id == loaded_course.id]
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    params = fit_param_set(
        attempts, [c.id for c in loaded_course.concepts],
        min_attempts=min_attempts or MIN_ATTEMPTS, min_learners=min_learners or MIN_LEARNERS,
    )
    target = params_path(loaded_course.id)
    if not dry_run:
        try:
            save_params(loaded_course.id, params, target)
        except OSError as exc:
            raise click.ClickException(f"cannot save {target}: {exc}") from None
    fitted = sum(f.source == "fitted" for f in params.concepts.values())
    if as_json:
        click.echo(json.dumps({"attempts": len(attempts), "fitted": fitted, "saved": None if dry_run else str(target),
                               **params.to_dict()}))
        return
    click.echo(f"{len(attempts)} stored answers; {fitted} of {len(params.concepts)} concepts have enough history "
               f"(at least {min_attempts or MIN_ATTEMPTS} answers from {min_learners or MIN_LEARNERS} learners).")
    click.echo(f"{'concept':<22} {'source':<8} {'answers':>7} {'learners':>8}  {'p_init':>6} {'p_learn':>7} "
               f"{'p_slip':>6} {'p_guess':>7}")
    for cid, f in params.concepts.items():
        p = f.params
        click.echo(f"{cid:<22} {f.source:<8} {f.attempts:>7} {f.learners:>8}  {p.p_init:>6.3f} {p.p_learn:>7.3f} "
                   f"{p.p_slip:>6.3f} {p.p_guess:>7.3f}")
    click.echo("Not saved (--dry-run)." if dry_run else f"Saved to {target}; new quizzes use these parameters.")
