"""`tutor instructor set-passphrase` and `tutor report ...` as an instructor (or a script) uses them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_reports_formulas import build_class

from tutor.cli.main import cli
from tutor.store import Store

PASS = "correct horse battery"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'class.db'}"
    with Store.open(url) as store:
        build_class(store)
    return url


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):  # noqa: A002
    return CliRunner().invoke(cli, list(args), env=env or {}, input=input)


def set_pass(db: str) -> None:
    result = run("instructor", "set-passphrase", "--db", db, env={"TUTOR_INSTRUCTOR_PASS": PASS})
    assert result.exit_code == 0, result.output
    assert "Instructor passphrase set" in result.output


def report(db: str, *args: str, passphrase: str = PASS):
    return run("report", *args, "--db", db, env={"TUTOR_INSTRUCTOR_PASS": passphrase})


def test_reports_refused_before_a_passphrase_is_set(db: str) -> None:
    result = report(db, "class")
    assert result.exit_code == 1
    assert "no instructor passphrase is set: run `tutor instructor set-passphrase` first" in result.output


def test_wrong_or_missing_passphrase_is_refused(db: str) -> None:
    set_pass(db)
    wrong = report(db, "class", passphrase="not the passphrase")
    assert wrong.exit_code == 1 and "Error: wrong instructor passphrase" in wrong.output
    assert "ana" not in wrong.output
    # no env variable: the hidden prompt; an empty answer is refused
    empty = run("report", "class", "--db", db, input="\n")
    assert empty.exit_code == 1 and "passphrase is required" in empty.output
    typed = run("report", "class", "--db", db, "--format", "csv", input=PASS + "\n")
    assert typed.exit_code == 0, typed.output
    assert PASS not in typed.output  # hidden input is not echoed


def test_class_report_csv_parses_with_the_numbers(db: str) -> None:
    set_pass(db)
    result = report(db, "class", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert set(rows) == {"ana", "ben", "cy", "dee"}
    assert float(rows["ana"]["mastery"]) == pytest.approx(0.7667)
    assert float(rows["ana"]["objective:explain-models"]) == pytest.approx(0.7)
    assert rows["ana"]["objective:differentiate"] == ""
    assert rows["ben"]["stuck"] == "gan"
    assert float(rows["cy"]["concept:applications"]) == pytest.approx(0.7)
    assert rows["cy"]["concept:vae"] == ""  # never practised
    assert float(rows["ana"]["time_on_task_s"]) == 1380
    assert rows["ana"]["last_activity"] == "2025-03-03T10:10:00+00:00"


def test_json_reports_parse_and_hold_everything(db: str, tmp_path: Path) -> None:
    set_pass(db)
    effect = json.loads(report(db, "effect", "--format", "json").stdout)
    assert effect["after_tutor"] == {"answers": 3, "correct": 2, "rate": pytest.approx(2 / 3)}
    assert effect["without"]["answers"] == 8
    overview = json.loads(report(db, "class", "--format", "json").stdout)
    concepts = {c["concept_id"]: c for c in overview["concepts"]}
    assert concepts["gan"]["mean_p_known"] == pytest.approx(0.433333)
    learner = json.loads(report(db, "learner", "ana", "--format", "json").stdout)
    assert learner["hints"] == {"total": 3, "by_item": {"g1": 2, "v2": 1}}
    assert [q["section_id"] for q in learner["questions"]] == ["gan", "vae"]
    out = tmp_path / "gaps.json"
    result = report(db, "gaps", "--format", "json", "--out", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    gaps = json.loads(out.read_text())
    assert [(g["kind"], len(g["questions"])) for g in gaps["groups"]] == [("other", 1)]  # ben's capital question


def test_items_table_and_learner_errors(db: str, tmp_path: Path) -> None:
    set_pass(db)
    items = report(db, "items")
    assert items.exit_code == 0, items.output
    assert "Item analysis: 6 items, 11 first attempts by 3 learners" in items.output and "g1" in items.output
    missing = report(db, "learner", "nobody")
    assert missing.exit_code == 1 and "no learner named 'nobody'" in missing.output
    nowhere = report(db, "class", "--out", str(tmp_path / "no" / "such" / "dir" / "x.csv"))
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.output
    assert "Traceback" not in nowhere.output + missing.output


def test_changing_the_passphrase_needs_the_current_one(db: str) -> None:
    set_pass(db)
    new = "a different passphrase"
    refused = run("instructor", "set-passphrase", "--db", db,
                  env={"TUTOR_INSTRUCTOR_PASS": "wrong guess here", "TUTOR_INSTRUCTOR_NEW_PASS": new})
    assert refused.exit_code == 1 and "wrong instructor passphrase" in refused.output
    assert report(db, "class", "--format", "csv", passphrase=new).exit_code == 1  # unchanged
    changed = run("instructor", "set-passphrase", "--db", db,
                  env={"TUTOR_INSTRUCTOR_PASS": PASS, "TUTOR_INSTRUCTOR_NEW_PASS": new})
    assert changed.exit_code == 0 and "changed" in changed.output
    assert report(db, "class", "--format", "csv", passphrase=new).exit_code == 0
    short = run("instructor", "set-passphrase", "--db", db,
                env={"TUTOR_INSTRUCTOR_PASS": new, "TUTOR_INSTRUCTOR_NEW_PASS": "short"})
    assert short.exit_code == 1 and "at least 8 characters" in short.output


def test_prompted_passphrase_must_be_confirmed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    mismatch = run("instructor", "set-passphrase", "--db", url, input=f"{PASS}\nsomething else\n{PASS}\n{PASS}\n")
    assert mismatch.exit_code == 0, mismatch.output
    assert "The two entered values do not match." in mismatch.output
    assert PASS not in mismatch.output
    with Store.open(url) as store:
        assert store.instructor_hash().startswith("scrypt$")
