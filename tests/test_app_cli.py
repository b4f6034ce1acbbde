"""The `tutor app` and `tutor bench app` commands (no models: the probe is replaced)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tutor.cli import bench_app
from tutor.cli.main import cli


def test_app_command_options() -> None:
    result = CliRunner().invoke(cli, ["app", "--help"])
    assert result.exit_code == 0
    for option in ("--learner", "--course", "--db", "--adapter", "--model"):
        assert option in result.output


def test_bench_app_prints_one_json_object(monkeypatch) -> None:
    runs = iter([
        {"first_paint_s": 0.4, "ready_s": 3.0, "state": "ready", "imported_s": 0.3, "detail": "",
         "stages": {"embedder_s": 1.0, "model_s": 2.0}},
        {"first_paint_s": 0.6, "ready_s": 5.0, "state": "ready", "imported_s": 0.5, "detail": "",
         "stages": {"embedder_s": 3.0, "model_s": 4.0}},
        {"first_paint_s": 0.5, "ready_s": 4.0, "state": "ready", "imported_s": 0.4, "detail": "",
         "stages": {"embedder_s": 2.0}},
    ])
    monkeypatch.setattr(bench_app, "_one_run", lambda db, timeout: next(runs))
    result = CliRunner().invoke(cli, ["bench", "app", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["first_paint_s"] == 0.5 and figures["first_paint_max_s"] == 0.6
    assert figures["ready_s"] == 4.0 and figures["ready_ok"] and figures["first_paint_ok"]
    assert len(figures["each_run"]) == 3
    assert figures["stages_s"] == {"embedder_s": 2.0, "model_s": 3.0}  # medians of the runs that report a stage


def test_bench_app_table_flags_a_tutor_that_never_got_ready(monkeypatch) -> None:
    monkeypatch.setattr(
        bench_app, "_one_run",
        lambda db, timeout: {"first_paint_s": 1.4, "ready_s": 2.0, "state": "failed", "imported_s": 0.9,
                             "detail": "The tutor model package is missing"},
    )
    result = CliRunner().invoke(cli, ["bench", "app", "--runs", "1"])
    assert result.exit_code == 0, result.output
    assert "first paint (s)" in result.output and "NO" in result.output
    assert "tutor not ready: failed The tutor model package is missing" in result.output
