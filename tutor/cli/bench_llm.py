"""`tutor bench llm`: cold and warm model load, TTFT and decode speed, peak memory."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
@click.option("--runs", type=click.IntRange(1, 20), default=3, show_default=True, help="Timed generations (median).")
@click.option("--no-cold", is_flag=True, help="Skip the cold (GGUF) load; use the existing cache.")
@click.option("--no-compare", is_flag=True, help="Skip timing the unpacked decoder and the transformers forward.")
@click.option("--adapter", default=None, help="LoRA adapter folder, or 'none' for the base model (default: shipped adapter).")
def bench_llm(as_json: bool, runs: int, no_cold: bool, no_compare: bool, adapter: str | None) -> None:
    """Model load time (cold from GGUF, warm from cache), TTFT and decode tokens/s on a ~900-token prompt."""
    from tutor.llm.bench import run_bench
    from tutor.llm.errors import LLMError

    try:
        result = run_bench(cold=not no_cold, runs=runs, compare_hf=not no_compare, adapter=adapter)
    except LLMError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        click.echo(result.table())
