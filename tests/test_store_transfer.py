"""`tutor db` commands, and export -> import -> export giving the identical JSON."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pg import db_url  # noqa: F401 - fixture

from tutor.cli.main import cli
from tutor.store import Store, StoreError, migrate
from tutor.store.records import AttemptIn
from tutor.store.transfer import dumps, export_data, import_data, parse_export


def _populate(url: str) -> None:
    """Two learners with a bit of everything, some rows sharing a timestamp."""
    t0 = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)
    with Store.open(url) as store:
        store.set_instructor_hash("scrypt$secret")
        for name, level in (("zoe", "advanced"), ("ann", "beginner")):
            learner = store.get_or_create_learner(name, level=level, style="analogy")
            chat = store.start_session(learner.id, "chat")
            quiz = store.start_session(learner.id, "quiz")
            store.end_session(chat)
            store.add_message(learner.id, "user", f"{name}: what is a VAE? ünïcode ✓", session_id=chat)
            store.add_message(
                learner.id,
                "assistant",
                "A VAE encodes to a distribution.",
                session_id=chat,
                sources=["vae"],
                in_scope=True,
                grounded=0.9,
                model_id="m",
                adapter_id=None,
                timings={"total_ms": 812.25},
            )
            store.add_message(learner.id, "user", "no session")
            for i in range(4):
                store.add_attempt(
                    AttemptIn(
                        learner_id=learner.id,
                        item_id=f"vae-q{i % 2}",
                        course_id="genai-models",
                        bank_version="abc123",
                        answer="VAE: latent" if i else "c",
                        correct=i % 2 == 1,
                        score=[0.0, 1.0, 0.5, 1.0][i],
                        rubric_met=("latent",) if i else (),
                        feedback="fb",
                        hints_used=i,
                        seconds=10.5 + i,
                        concepts=("vae", "autoencoder"),
                        session_id=quiz if i < 3 else None,
                        created=t0 + timedelta(minutes=i // 2),  # pairs share a timestamp
                    )
                )
            store.add_hint(learner.id, "vae-q1", 1)
            store.add_hint(learner.id, "vae-q1", 2)
            store.set_mastery(learner.id, "vae", 0.4, correct=False)
            store.set_mastery(learner.id, "vae", 0.61, correct=True)
            store.set_mastery(learner.id, "autoencoder", 0.3, correct=True)
            store.set_review(learner.id, "vae-q1", {"due": "x", "stability": 2.5, "nested": {"a": [1, 2]}}, t0)
            store.set_review(learner.id, "vae-q0", {"stability": 1.0}, t0 + timedelta(days=3))


def test_export_import_export_is_identical(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    source = f"sqlite:///{tmp_path / 'source.db'}"
    _populate(source)
    with Store.open(source) as store:
        first = dumps(export_data(store))
    with Store.open(db_url) as target:
        counts = import_data(target, parse_export(json.loads(first)))
        second = dumps(export_data(target))
        assert target.instructor_hash() is None  # credentials are not exported
    assert counts["learners"] == 2 and counts["attempts"] == 8 and counts["sessions"] == 4
    assert second == first

    data = json.loads(first)
    assert [p["name"] for p in data["learners"]] == ["ann", "zoe"]
    ann = data["learners"][0]
    assert "id" not in ann and "learner_id" not in ann["attempts"][0]
    assert [a["session"] for a in ann["attempts"]] == [1, 1, 1, None]
    assert [m["session"] for m in ann["messages"]] == [0, 0, None]
    assert ann["attempts"][0]["created"] == "2025-02-03T09:00:00+00:00"
    assert ann["mastery"][1] == {
        "concept_id": "vae",
        "p_known": 0.61,
        "attempts": 2,
        "correct": 1,
        "updated": ann["mastery"][1]["updated"],
    }
    assert "secret" not in first


def test_import_refuses_existing_learners_and_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    _populate(url)
    with Store.open(url) as store:
        data = parse_export(export_data(store))
        before = store.counts()
        with pytest.raises(StoreError, match="already exists"):
            import_data(store, data)
        assert store.counts() == before


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d["learners"][0]["attempts"][0].update(score=3), "score"),
        (lambda d: d["learners"][0]["attempts"][0].update(session=7), "session 7"),
        (lambda d: d["learners"][0].update(level="guru"), "unknown level"),
        (lambda d: d["learners"][0]["attempts"][0].pop("item_id"), "item_id"),
    ],
)
def test_bad_import_files_are_rejected_whole(tmp_path: Path, mutate, message: str) -> None:  # noqa: ANN001
    source = f"sqlite:///{tmp_path / 'source.db'}"
    _populate(source)
    with Store.open(source) as store:
        data = export_data(store)
    mutate(data)
    with pytest.raises(StoreError, match=message):
        parse_export(data)


# ---------------------------------------------------------------- the CLI
@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_db_current_and_upgrade(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = runner.invoke(cli, ["db", "current", "--db", url])
    assert result.exit_code == 0, result.output
    assert "revision: none" in result.output and f"head:     {migrate.head()}" in result.output
    assert not (tmp_path / "cli.db").exists()  # looking does not create

    result = runner.invoke(cli, ["db", "upgrade", "--db", url])
    assert result.exit_code == 0, result.output
    assert f"-> {migrate.head()}" in result.output
    result = runner.invoke(cli, ["db", "upgrade", "--db", url])
    assert "already at the latest schema" in result.output

    result = runner.invoke(cli, ["db", "current", "--db", url])
    assert f"revision: {migrate.head()}" in result.output and "up to date" in result.output


def test_db_current_reports_a_newer_schema(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    Store.open(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = 'zzz'")
    con.commit()
    con.close()
    result = runner.invoke(cli, ["db", "current", "--db", f"sqlite:///{path}"])
    assert result.exit_code == 0 and "revision: zzz" in result.output and "newer" in result.output
    result = runner.invoke(cli, ["db", "upgrade", "--db", f"sqlite:///{path}"])
    assert result.exit_code == 1 and result.output.startswith("Error: ") and "newer" in result.output


def test_db_export_import_backup_via_cli(runner: CliRunner, tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    _populate(source)
    out = tmp_path / "all.json"
    result = runner.invoke(cli, ["db", "export", "--db", source, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 learner(s), 8 attempt(s)" in result.output

    result = runner.invoke(cli, ["db", "export", "--db", source, "--learner", "zoe"])
    assert result.exit_code == 0
    only = json.loads(result.output)
    assert [p["name"] for p in only["learners"]] == ["zoe"]
    result = runner.invoke(cli, ["db", "export", "--db", source, "--learner", "nobody"])
    assert result.exit_code == 1 and "no learner named 'nobody'" in result.output

    target = f"sqlite:///{tmp_path / 'target.db'}"
    result = runner.invoke(cli, ["db", "import", str(out), "--db", target])
    assert result.exit_code == 0, result.output
    assert "2 learners" in result.output and "8 attempts" in result.output
    again = tmp_path / "again.json"
    runner.invoke(cli, ["db", "export", "--db", target, "--out", str(again)])
    assert again.read_text() == out.read_text()

    result = runner.invoke(cli, ["db", "import", str(out), "--db", target])
    assert result.exit_code == 1 and "already exists" in result.output

    backup = tmp_path / "copy.db"
    result = runner.invoke(cli, ["db", "backup", str(backup), "--db", source])
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(backup)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT count(*) FROM quiz_attempts").fetchone() == (8,)
    con.close()
    result = runner.invoke(cli, ["db", "backup", str(backup), "--db", source])
    assert result.exit_code == 1 and "--force" in result.output
    result = runner.invoke(cli, ["db", "backup", str(backup), "--db", source, "--force"])
    assert result.exit_code == 0
    with Store.open(f"sqlite:///{backup}") as copy:
        assert dumps(export_data(copy)) == out.read_text()


def test_db_cli_errors_are_one_line(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    target = f"sqlite:///{tmp_path / 't.db'}"
    cases = [
        ["db", "import", str(bad), "--db", target],
        ["db", "import", str(tmp_path / "missing.json"), "--db", target],
        ["db", "export", "--db", f"sqlite:///{tmp_path / 'no' / 'where.db'}"],
        ["db", "backup", str(tmp_path / "b.db"), "--db", "postgresql://u@127.0.0.1:9/x"],
        ["db", "backup", str(tmp_path / "b.db"), "--db", f"sqlite:///{tmp_path / 'absent.db'}"],
        ["db", "upgrade", "--db", "postgresql://u@127.0.0.1:9/x"],
    ]
    for args in cases:
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
