"""`tutor bench reports` on a small class: one JSON object of timings, or a readable table."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tutor.cli.main import cli


def test_bench_reports_json_and_table(tmp_path) -> None:
    args = ["bench", "reports", "--learners", "40", "--attempts-per-learner", "8", "--questions", "3", "--samples", "2"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert figures["backend"] == "sqlite" and figures["learners"] == 40
    reports = {r["report"]: r for r in figures["reports"]}
    assert set(reports) == {"class", "items", "gaps", "effect", "activity chart", "learner"}
    assert all(r["wall_s"] >= 0 and r["cpu_s"] >= 0 and r["met"] == (r["wall_s"] < 2.0) for r in reports.values())
    assert figures["messages"] > 0  # conversations were added for the gaps and effect reports

    db = f"sqlite:///{tmp_path / 'bench.db'}"
    filled = CliRunner().invoke(cli, [*args, "--db", db])
    assert filled.exit_code == 0, filled.output
    reused = CliRunner().invoke(cli, ["bench", "reports", "--db", db, "--reuse"])
    assert reused.exit_code == 0, reused.output
    assert "Instructor reports benchmark (sqlite, 40 learners)" in reused.output
    assert "goal < 2 s" in reused.output
    refused = CliRunner().invoke(cli, ["bench", "reports", "--reuse"])
    assert refused.exit_code == 1 and "--reuse needs --db" in refused.output
