"""`tutor bench reports`: how long each instructor report takes on a large class.

Fills a scratch SQLite database (removed afterwards, unless ``--db`` names
one) with the store benchmark's synthetic class plus tutor conversations for
a share of the learners, then times every report once (the learner report as
the median over a few learners; ``--repeat`` keeps the fastest of several
runs). Goal on SQLite at 10,000 learners x 100
attempts: under 2 s each. Wall and CPU seconds are both printed: on a busy
machine the wall time includes waiting for a core.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import click

from tutor.store.errors import StoreError


@click.command(name="reports")
@click.option("--learners", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--attempts-per-learner", default=100, show_default=True, type=click.IntRange(1))
@click.option("--chat-share", default=0.3, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Share of learners who asked the tutor questions.")
@click.option("--questions", default=10, show_default=True, type=click.IntRange(0),
              help="Questions each of them asked.")
@click.option("--samples", default=5, show_default=True, type=click.IntRange(1),
              help="Learners timed for the learner report.")
@click.option("--repeat", default=1, show_default=True, type=click.IntRange(1),
              help="Run each report this many times and keep the fastest.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--db", "db_url", default=None, metavar="URL", help="Fill (or reuse) this database instead of a scratch one.")
@click.option("--reuse", is_flag=True, help="Time the reports on the data already in --db; fill nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
def bench_reports(
    learners: int, attempts_per_learner: int, chat_share: float, questions: int, samples: int, repeat: int, seed: int,
    db_url: str | None, reuse: bool, as_json: bool,
) -> None:
    """Instructor report times on a large class."""
    from tutor.content import ContentError, load_course
    from tutor.reports.access import Grant
    from tutor.reports.bench import GOAL_S, add_conversations, as_dicts, synthetic_catalog, time_reports
    from tutor.reports.catalog import CourseInfo
    from tutor.reports.errors import ReportError
    from tutor.reports.service import Reports
    from tutor.store import Store
    from tutor.store.bench import fill

    if reuse and not db_url:
        raise click.ClickException("--reuse needs --db: the database whose data to time")
    try:
        info = CourseInfo.from_course(load_course(None))
    except ContentError as exc:
        raise click.ClickException(f"course: {exc}") from None
    filled: dict[str, float | int] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="tutor-bench-") as scratch:
            url = db_url or f"sqlite:///{Path(scratch) / 'reports.db'}"
            with Store.open(url) as store:
                if not reuse:
                    if not as_json:
                        click.echo(f"Filling {learners:,} learners x {attempts_per_learner:,} attempts…", err=True)
                    result = fill(store, learners, attempts_per_learner, seed)
                    messages = add_conversations(store, info, share=chat_share, questions=questions, seed=seed)
                    filled = {"rows": result.rows + messages, "messages": messages, "fill_s": round(result.seconds, 1)}
                names = [r.name for r in store.list_learners()]
                picked = random.Random(seed).sample(names, min(samples, len(names)))
                # the bench times the queries, not the passphrase check: its own scratch data needs none
                reports = Reports(store, info, synthetic_catalog(seed), Grant("instructor"))
                timings = time_reports(reports, picked, repeat)
                backend = store.dialect
    except (StoreError, ReportError) as exc:
        raise click.ClickException(str(exc)) from None

    figures = {
        "backend": backend,
        "learners": len(names),
        "attempts_per_learner": None if reuse else attempts_per_learner,
        **filled,
        "goal_s": GOAL_S,
        "repeat": repeat,
        "reports": as_dicts(timings),
        "all_met": all(t.met for t in timings),
    }
    if as_json:
        click.echo(json.dumps(figures))
        return
    click.echo(f"Instructor reports benchmark ({backend}, {len(names):,} learners"
               + (f" x {attempts_per_learner:,} attempts" if not reuse else "") + ")")
    width = max(len(t.report) for t in timings)
    for t in timings:
        verdict = "met" if t.met else "MISSED"
        click.echo(f"  {t.report:<{width}}  {t.wall_s:6.2f} s wall  {t.cpu_s:6.2f} s CPU  goal < {GOAL_S:g} s: {verdict}")
