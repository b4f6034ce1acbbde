"""`tutor eval adaptive`: one JSON object of figures, a readable table, and the measure's honesty rules."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tutor.cli.eval_adaptive import _goal
from tutor.cli.main import cli
from tutor.learner.simulate import PolicyFigures


def run(*args: str):
    return CliRunner().invoke(cli, ["eval", "adaptive", *args], catch_exceptions=False)


def test_json_is_one_object_stating_the_simulation() -> None:
    result = run("--learners", "12", "--seeds", "2", "--budget", "1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)  # exactly one object: anything else on stdout fails here
    assert data["learners"] == 24 and data["seeds"] == [1, 2]
    assert data["guess"] == 0.25 and data["slip_range"] == [0.05, 0.15] and 0.05 < data["slip_mean"] < 0.15
    bank = data["banks"]["shipped"]
    assert [p["policy"] for p in bank["policies"]] == ["adaptive", "fixed", "random"]
    assert len(bank["goal"]["ratio_per_seed"]) == 2
    for policy in bank["policies"]:
        assert policy["mean_items"] <= bank["budget_items"]
        reached = [v for v in policy["items_to_classify"].values() if v is not None]
        assert reached == sorted(reached)  # a larger share never needs fewer items


def test_table_names_slip_guess_and_the_goal() -> None:
    result = run("--learners", "10", "--budget", "1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "slip 5%-15%" in out and "guess 25%" in out and "undecided = not classified" in out
    assert "policy" in out and "95%" in out and "Goal (adaptive <= 60%" in out
    assert sum(line.startswith(("adaptive ", "fixed ", "random ")) for line in out.splitlines()) == 3


def _row(policy: str, at95: int | None) -> PolicyFigures:
    return PolicyFigures(policy, {0.5: 1, 0.95: at95}, 1.0, 1.0, 1.0)


def test_the_goal_is_judged_at_95_percent_only() -> None:
    assert _goal([_row("adaptive", 60), _row("fixed", 100)], [0.6])["met"] is True
    assert _goal([_row("adaptive", 61), _row("fixed", 100)], [0.61])["met"] is False
    never = _goal([_row("adaptive", None), _row("fixed", 100)], [None])
    assert never["met"] is False and never["ratio"] is None  # not reaching 95% is never rounded to a pass


def test_variant_measures_the_uncapped_policy_beside_the_shipped_one() -> None:
    result = run("--learners", "10", "--budget", "1", "--variant", "--json")
    assert result.exit_code == 0, result.output
    bank = json.loads(result.output)["banks"]["shipped"]
    assert [p["policy"] for p in bank["policies"]] == ["adaptive", "adaptive-uncapped", "fixed", "random"]
    assert "variant_ratio" in bank["goal"]
