"""`tutor bench retrieval`: model load time, index build time and query latency p50/p95."""

from __future__ import annotations

import json

import click

_ROWS = (
    ("model_id", "embedder", "{}"),
    ("sections", "sections / passages / sentences", None),
    ("import_s", "import torch (s)", "{:.2f}"),
    ("model_load_s", "model load incl. import (s)", "{:.2f}"),
    ("index_build_cold_s", "index build, cold (s)", "{:.2f}"),
    ("index_build_cached_s", "index build, cached (s)", "{:.3f}"),
    ("query_p50_ms", "search p50 (ms)", "{:.1f}"),
    ("query_p95_ms", "search p95 (ms)", "{:.1f}"),
    ("query_max_ms", "search max (ms)", "{:.1f}"),
    ("best_sentences_p50_ms", "best_sentences p50 (ms)", "{:.2f}"),
    ("best_sentences_p95_ms", "best_sentences p95 (ms)", "{:.2f}"),
    ("cli_help_s", "tutor --help (s)", "{:.2f}"),
)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
@click.option("--course", type=click.Path(), default=None, help="Course folder (default: shipped course).")
@click.option("--adapter", default=None, help="Embedder adapter folder, or 'none' for the base model.")
def bench_retrieval(as_json: bool, course: str | None, adapter: str | None) -> None:
    """Index build time, query latency p50/p95 and model load time."""
    from tutor.retrieval.bench import bench_retrieval as run
    from tutor.retrieval.errors import RetrievalError

    try:
        figures = run(course, adapter)
    except RetrievalError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(figures))
        return
    click.echo(f"Retrieval speed ({figures['queries']} queries)")
    for key, label, fmt in _ROWS:
        if fmt is None:
            value = f"{figures['sections']} / {figures['passages']} / {figures['sentences']}"
        elif figures.get(key) is None:
            value = "-"
        else:
            value = fmt.format(figures[key])
        click.echo(f"  {label:<36} {value}")
