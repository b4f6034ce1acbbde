"""The quiz, progress, learner and eval commands, end to end on the shipped course (quick checks only)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tutor.cli.main import cli


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'quiz.db'}"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_plain_quiz_with_hint_and_quit(db) -> None:
    result = run("quiz", "--learner", "ann", "--length", "3", "--kind", "multiple_choice", "--db", db,
                 input="1\nh\nx\nq\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Question 1 of up to 3." in out and "  1. (A)" in out
    assert "Hint 1 of 3:" in out
    assert "Please type a number from 1 to 4, h or q." in out
    assert "Quiz over: " in out and "of 1 right" in out
    assert "\x1b[" not in out  # no colour or cursor codes for screen readers


def test_json_lines_quiz_never_shows_the_key_before_the_answer(db) -> None:
    answers = "\n".join([json.dumps({"hint": True}), json.dumps({"answer": "Z"}), json.dumps({"answer": "A"}),
                         json.dumps({"answer": 2}), json.dumps({"quit": True})]) + "\n"
    result = run("quiz", "--learner", "bo", "--length", "5", "--kind", "multiple_choice", "--db", db,
                 "--json-lines", input=answers)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "summary"
    assert kinds.count("result") == 2 and "hint" in kinds and "error" in kinds
    for event in events:
        if event["event"] == "item":
            assert "answer" not in event and all(set(o) == {"key", "text"} for o in event["options"])
    assert events[-1]["answered"] == 2


def test_quiz_errors_are_one_line(db) -> None:
    result = CliRunner().invoke(cli, ["quiz", "--learner", "ann", "--concept", "nope", "--db", db])
    assert result.exit_code == 1
    assert result.output.startswith("Error: unknown concept(s): nope")


def test_progress_after_a_quiz(db) -> None:
    run("quiz", "--learner", "cy", "--length", "2", "--kind", "multiple_choice", "--db", db, input="1\n2\n")
    result = run("progress", "--learner", "cy", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answered"] == 2
    assert len(data["concepts"]) == 21 and len(data["objectives"]) == 3
    assert len(data["reviews"]) == 2
    text = run("progress", "--learner", "cy", "--db", db).output
    assert "Objective: " in text and "Next reviews:" in text and "Next step: " in text
    missing = CliRunner().invoke(cli, ["progress", "--learner", "nobody", "--db", db])
    assert missing.exit_code == 1 and "no learner named 'nobody'" in missing.output


def test_learner_fit_dry_run(db) -> None:
    run("quiz", "--learner", "di", "--length", "2", "--kind", "multiple_choice", "--db", db, input="1\n1\n")
    result = run("learner", "fit", "--db", db, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["attempts"] == 2 and data["fitted"] == 0 and data["saved"] is None
    assert set(data["concepts"]) >= {"gan", "rnn"}


def test_eval_adaptive_json_is_one_object() -> None:
    result = run("eval", "adaptive", "--learners", "10", "--kind", "multiple_choice", "--synthetic-items", "3",
                 "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["banks"]) == {"shipped", "synthetic"}
    policies = [p["policy"] for p in data["banks"]["shipped"]["policies"]]
    assert policies == ["adaptive", "fixed", "random"]
    adaptive, fixed, _ = data["banks"]["shipped"]["policies"]
    assert adaptive["mean_items"] < fixed["mean_items"] <= data["banks"]["shipped"]["items"]


@pytest.mark.integration
def test_eval_grading_json() -> None:
    result = run("eval", "grading", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["samples"] >= 50 and 0.0 <= data["agreement"] <= 1.0
    assert set(data["confusion"]) == {"correct", "partial", "incorrect"}
