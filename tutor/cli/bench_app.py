"""`tutor bench app`: time to first paint and until the tutor is ready to answer.

Each run starts a fresh Python process (so imports count, as they do for a
student typing `tutor`), opens the app headless over a scratch database and
records two moments: the welcome page painted, and the models loaded. Goals:
first paint under 1 s, ready under 6 s with a warm model cache.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

GOAL_FIRST_PAINT_S = 1.0
GOAL_READY_S = 6.0


def _one_run(db_url: str, timeout: float) -> dict:
    env = dict(os.environ, TUTOR_BENCH_T0=repr(time.time()), TUTOR_BENCH_DB=db_url, TUTOR_BENCH_TIMEOUT=str(timeout))
    proc = subprocess.run(
        [sys.executable, "-m", "tutor.app._bench"],
        env=env, capture_output=True, text=True, timeout=timeout + 60,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise click.ClickException("the app probe failed: " + " | ".join(tail))
    return json.loads(lines[-1])


@click.command("app")
@click.option("--runs", default=3, show_default=True, type=click.IntRange(1, 20), help="Fresh processes to time.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for the tutor to get ready.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def bench_app(runs: int, timeout: float, as_json: bool) -> None:
    """Time to first paint and until the tutor is ready (fresh process each run)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="tutor-bench-app-") as scratch:
        db_url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        for _ in range(runs):
            results.append(_one_run(db_url, timeout))
    paints = [r["first_paint_s"] for r in results if r.get("first_paint_s") is not None]
    readies = [r["ready_s"] for r in results if r.get("state") == "ready"]
    states = [r.get("state") for r in results]
    figures = {
        "runs": runs,
        "first_paint_s": round(statistics.median(paints), 3) if paints else None,
        "first_paint_max_s": round(max(paints), 3) if paints else None,
        "ready_s": round(statistics.median(readies), 3) if readies else None,
        "ready_max_s": round(max(readies), 3) if readies else None,
        "imported_s": round(statistics.median(r["imported_s"] for r in results), 3),
        "first_paint_cpu_s": _median(r.get("first_paint_cpu_s") for r in results),
        "ready_cpu_s": _median(r.get("ready_cpu_s") for r in results if r.get("state") == "ready"),
        "load_average_1m": _load_average(),
        "stages_s": _stage_medians(results),
        "ready_state": states[-1],
        "ready_detail": results[-1].get("detail", ""),
        "goal_first_paint_s": GOAL_FIRST_PAINT_S,
        "goal_ready_s": GOAL_READY_S,
        "first_paint_ok": bool(paints) and statistics.median(paints) < GOAL_FIRST_PAINT_S,
        "ready_ok": bool(readies) and len(readies) == runs and statistics.median(readies) < GOAL_READY_S,
        "each_run": [
            {"first_paint_s": _r(r.get("first_paint_s")), "ready_s": _r(r.get("ready_s")), "state": r.get("state")}
            for r in results
        ],
    }
    if as_json:
        click.echo(json.dumps(figures))
        return
    click.echo(f"tutor app start-up, {runs} fresh process(es), headless 120x40, scratch database")
    if figures["load_average_1m"] is not None:
        click.echo(f"machine load average (1 min): {figures['load_average_1m']:.1f} on {os.cpu_count()} CPU(s)")
    click.echo(f"{'measure':<26}{'median':>10}{'worst':>10}{'goal':>10}  ok  {'CPU s':>7}")
    click.echo(f"{'imports done (s)':<26}{_fmt(figures['imported_s']):>10}{'':>10}{'':>10}")
    click.echo(
        f"{'first paint (s)':<26}{_fmt(figures['first_paint_s']):>10}{_fmt(figures['first_paint_max_s']):>10}"
        f"{'< ' + str(GOAL_FIRST_PAINT_S):>10}  {'yes' if figures['first_paint_ok'] else 'NO ':<3} "
        f"{_fmt(figures['first_paint_cpu_s']):>7}"
    )
    click.echo(
        f"{'tutor ready (s)':<26}{_fmt(figures['ready_s']):>10}{_fmt(figures['ready_max_s']):>10}"
        f"{'< ' + str(GOAL_READY_S):>10}  {'yes' if figures['ready_ok'] else 'NO ':<3} "
        f"{_fmt(figures['ready_cpu_s']):>7}"
    )
    if figures["stages_s"]:
        click.echo("tutor load stages (median s; the model loads next to the course, embedder and index):")
        click.echo("  " + "  ".join(f"{name.removesuffix('_s')} {value:.2f}" for name, value in figures["stages_s"].items()))
    if figures["ready_state"] != "ready":
        click.echo(f"tutor not ready: {figures['ready_state']} {figures['ready_detail']}".rstrip())


def _stage_medians(results: list[dict]) -> dict[str, float]:
    """Median of each load stage the probes reported (`Tutor.load_seconds`), in the order first seen."""
    names: list[str] = []
    for r in results:
        names += [n for n in (r.get("stages") or {}) if n not in names]
    out = {}
    for name in names:
        value = _median((r.get("stages") or {}).get(name) for r in results)
        if value is not None:
            out[name] = value
    return out


def _median(values) -> float | None:  # noqa: ANN001
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
