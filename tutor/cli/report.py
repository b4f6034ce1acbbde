"""`tutor report`: the instructor reports, as a table, CSV or JSON.

Every report needs the instructor passphrase (asked with hidden input, or
``TUTOR_INSTRUCTOR_PASS`` for scripts); a wrong one is refused after a short
delay. ``--out FILE`` writes the report to a file instead of the terminal.
CSV holds the report's main table; JSON holds everything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tutor.store.errors import StoreError

_PATH = click.Path(path_type=Path)


def _options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                         show_default=True, help="table: for reading; csv: the main table; json: everything."),
            click.option("--out", "out", type=_PATH, default=None, help="Write the report to this file."),
            click.option("--db", "db_url", metavar="URL", default=None,
                         help="Database URL (default: TUTOR_DB_URL or the data folder)."),
            click.option("--course", "course_path", type=_PATH, default=None,
                         help="Course folder (default: TUTOR_COURSE or the shipped course)."),
            click.option("--bank", "bank_path", type=_PATH, default=None,
                         help="Question bank (default: the course's shipped bank)."),
        ]
    ):
        fn = option(fn)
    return fn


@click.group()
def report() -> None:
    """Instructor reports: class, learner, items, gaps, effect."""


@report.command("class")
@_options
def class_report(**opts: Any) -> None:
    """Every learner: last activity, time on task, quizzes, mastery per objective, who is stuck."""
    _run("class", None, **opts)


@report.command("learner")
@click.argument("name")
@_options
def learner_report(name: str, **opts: Any) -> None:
    """One learner: answers over time, weak concepts, hints, questions to the tutor by topic."""
    _run("learner", name, **opts)


@report.command("items")
@_options
def items_report(**opts: Any) -> None:
    """Item analysis on first attempts: facility, discrimination, flags, missed key points."""
    _run("items", None, **opts)


@report.command("gaps")
@_options
def gaps_report(**opts: Any) -> None:
    """Questions the tutor judged out of scope or answered with low groundedness, grouped."""
    _run("gaps", None, **opts)


@report.command("effect")
@_options
def effect_report(**opts: Any) -> None:
    """Correct answers right after asking the tutor about a concept, against all other answers."""
    _run("effect", None, **opts)


def _run(
    kind: str,
    learner: str | None,
    *,
    fmt: str,
    out: Path | None,
    db_url: str | None,
    course_path: Path | None,
    bank_path: Path | None,
) -> None:
    from tutor.content import ContentError, load_course
    from tutor.reports import access
    from tutor.reports.errors import ReportError
    from tutor.reports.service import Reports
    from tutor.reports.tables import render
    from tutor.store import Store

    if out is not None and not out.expanduser().absolute().parent.is_dir():
        raise click.ClickException(f"cannot write {out}: folder {out.expanduser().absolute().parent} does not exist")
    try:
        with Store.open(db_url) as store:
            if not store.instructor_hash():
                raise click.ClickException(f"no instructor passphrase is set: {access.SET_IT}")
            passphrase = access.passphrase_from_env() or click.prompt(
                "Instructor passphrase", hide_input=True, err=True, default="", show_default=False
            )
            grant = access.unlock(store, passphrase)
            try:
                course = load_course(course_path)
            except ContentError as exc:
                raise click.ClickException(f"course: {exc}") from None
            bank = _bank(course, bank_path)
            result = Reports.for_course(store, course, bank, grant).run(kind, learner)
            text = render(result, fmt)
    except (StoreError, ReportError) as exc:
        raise click.ClickException(str(exc)) from None
    if out is None:
        click.echo(text, nl=False)
        return
    path = out.expanduser()
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"Wrote the {kind} report to {path}", err=True)


def _bank(course: Any, bank_path: Path | None) -> Any:
    """The question bank, or None with a warning: most reports do without it."""
    from tutor.content import ContentError
    from tutor.quiz.bank import load_bank

    try:
        return load_bank(course, bank_path)
    except ContentError as exc:
        first = str(exc).splitlines()[0]
        click.echo(f"Warning: question bank not loaded ({first}); item keys and key points are unknown.", err=True)
        return None
