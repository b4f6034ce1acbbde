"""`tutor bench store`: insert rate and query times of the progress store.

Fills a scratch SQLite database (in a temporary folder, removed afterwards,
unless ``--db`` names one) with a synthetic class and times the queries the app
and the instructor reports depend on. Goals at 10,000 learners x 100 attempts
on SQLite: bulk insert >= 50,000 rows/s, one learner's progress < 20 ms, the
class-wide mastery aggregate < 1 s. The insert rate counts the time spent in
the store (binding, executemany, commits), not generating the synthetic rows;
the whole fill time is printed too, and the insert's CPU time, because on a
shared machine wall time mostly measures the neighbours.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from tutor.store.errors import StoreError

GOALS = {"insert_rows_per_s": 50_000, "learner_query_ms_median": 20.0, "class_aggregate_s": 1.0}


@click.command(name="store")
@click.option("--learners", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--attempts-per-learner", default=100, show_default=True, type=click.IntRange(1))
@click.option("--samples", default=50, show_default=True, type=click.IntRange(1), help="Learners timed.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--db", "db_url", default=None, metavar="URL", help="Fill this database instead of a scratch one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
def bench_store(
    learners: int, attempts_per_learner: int, samples: int, seed: int, db_url: str | None, as_json: bool
) -> None:
    """Insert rate and query times of the progress store."""
    from tutor.store import Store
    from tutor.store.bench import run

    try:
        with tempfile.TemporaryDirectory(prefix="tutor-bench-") as scratch:
            url = db_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
            with Store.open(url) as store:
                result = run(store, learners, attempts_per_learner, seed=seed, samples=samples)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    figures = result.as_dict()
    if as_json:
        click.echo(json.dumps(figures))
        return
    rows = [
        ("backend", result.backend, ""),
        ("class", f"{learners:,} learners x {attempts_per_learner:,} attempts", ""),
        ("rows inserted", f"{result.rows:,}", ""),
        ("bulk insert", f"{result.insert_rows_per_s:,.0f} rows/s ({result.insert_s:.1f} s, "
         f"{result.insert_cpu_s:.1f} s CPU)",
         _goal(result.insert_rows_per_s >= GOALS["insert_rows_per_s"], ">= 50,000 rows/s")),
        ("fill, data generation incl.", f"{result.fill_s:.1f} s", ""),
        ("one learner's progress", f"{result.learner_query_ms_median:.2f} ms median, "
         f"{result.learner_query_ms_p95:.2f} ms p95",
         _goal(result.learner_query_ms_median < GOALS["learner_query_ms_median"], "< 20 ms")),
        ("class mastery aggregate", f"{result.class_aggregate_s * 1000:.0f} ms",
         _goal(result.class_aggregate_s < GOALS["class_aggregate_s"], "< 1 s")),
        ("database size", f"{result.db_size_mb:,.1f} MB", ""),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    click.echo("Progress store benchmark")
    for name, value, goal in rows:
        click.echo(f"  {name:<{width}}  {value:<{value_width}}  {goal}".rstrip())


def _goal(met: bool, text: str) -> str:
    return f"goal {text}: {'met' if met else 'MISSED'}"
