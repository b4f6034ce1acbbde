"""Bootstrap intervals of answer figures: right centre, right width, paired by question."""

from __future__ import annotations

import json

import pytest

from tutor.llm.intervals import bootstrap_interval, paired_difference_interval


def test_interval_brackets_the_mean_and_has_the_binomial_width() -> None:
    values = [1.0] * 60 + [0.0] * 40  # mean 0.6, standard error sqrt(.24/100) = 0.049
    lo, hi = bootstrap_interval(values)
    assert lo < 0.6 < hi
    assert hi - lo == pytest.approx(2 * 1.96 * 0.049, abs=0.03)


def test_more_questions_narrow_the_interval() -> None:
    few = bootstrap_interval([1.0, 0.0] * 10)
    many = bootstrap_interval([1.0, 0.0] * 250)
    assert (many[1] - many[0]) < (few[1] - few[0]) / 3


def test_same_answers_same_interval_and_degenerate_cases() -> None:
    values = [0.2, 0.9, 1.0, 0.5, 0.7]
    assert bootstrap_interval(values) == bootstrap_interval(values)
    assert bootstrap_interval([0.75] * 8) == (0.75, 0.75)
    assert bootstrap_interval([]) is None


def test_paired_difference_uses_only_shared_questions() -> None:
    mine = {"q1": 1.0, "q2": 1.0, "q3": 1.0}
    theirs = {"q1": 0.0, "q2": 0.0, "q9": 1.0}
    assert paired_difference_interval(mine, theirs) == (1.0, 1.0)  # q3 and q9 are not paired
    assert paired_difference_interval({"q1": 1.0}, {"q2": 0.0}) is None


def test_merged_comparison_shows_intervals_in_table_and_goals(tmp_path) -> None:
    from tutor.llm.compare import goals_notes, merge_results

    def run(name: str, facts: list[list[bool]], grounded: list[float]) -> dict:
        answers = [{"id": f"q{i}", "question": "?", "answer": "a", "facts": f, "in_scope": True, "grounded": g}
                   for i, (f, g) in enumerate(zip(facts, grounded))]
        answers.append({"id": "q0", "level": "beginner", "question": "?", "answer": "b", "facts": [False], "grounded": 0.0})
        answers.append({"id": "o1", "question": "?", "answer": "c", "forced": True})
        return {"split": "heldout", "cases": 3, "figures": {name: {"name": name, "key_fact": 0.5, "groundedness": 0.5}},
                "answers": {name: answers}}

    (tmp_path / "b.json").write_text(json.dumps(run("base", [[True, False], [False, False], [True, True]], [0.5, 0.0, 1.0])))
    (tmp_path / "a.json").write_text(json.dumps(run("adapter", [[True, True], [True, False], [True, True]], [1.0, 1.0, 1.0])))
    res = merge_results([tmp_path / "b.json", tmp_path / "a.json"])
    adapter = res["figures"]["adapter"]["intervals"]
    assert adapter["groundedness"] == [1.0, 1.0]  # the beginner answer (grounded 0) is not an intermediate one
    gain = adapter["key_fact_gain_over_base"]  # per question +0.5, +0.5, 0.0
    assert gain[0] >= 0.0 and gain[1] == 0.5
    assert "| groundedness (mean), 95% interval | " in res["table_md"]
    note = next(n for n in goals_notes(res["figures"]) if n.startswith("groundedness"))
    assert "95% interval 1.000 to 1.000" in note
