"""The bench's data generator (reused by the report benchmarks) and `tutor bench store`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from pg import db_url  # noqa: F401 - fixture
from sqlalchemy import insert, select

from tutor.cli.main import cli
from tutor.store import Store, StoreError
from tutor.store.bench import CONCEPTS, class_aggregate, executemany, fill, learner_progress_ms
from tutor.store.schema import QuizAttempt


def test_fill_writes_a_consistent_class(db_url: str) -> None:  # noqa: F811
    with Store.open(db_url) as store:
        result = fill(store, learners=12, attempts=30, seed=7)
        counts = store.counts()
        assert (result.learners, result.attempts) == (12, 360)
        assert counts["learners"] == 12 and counts["quiz_attempts"] == 360
        assert counts["concept_mastery"] == result.mastery > 0
        assert result.rows == 12 + 360 + result.mastery

        learner = store.get_learner("learner-000003")
        assert learner is not None
        attempts = store.attempts(learner.id)
        assert len(attempts) == 30
        assert [a.created for a in attempts] == sorted(a.created for a in attempts)
        assert all(a.created.tzinfo == UTC and a.concepts[0] in CONCEPTS for a in attempts)
        assert all(a.item_id.startswith(a.concepts[0] + "-q") for a in attempts)
        # mastery rows summarise exactly that learner's attempts
        mastery = store.mastery(learner.id)
        for concept, row in mastery.items():
            mine = [a for a in attempts if a.concepts == (concept,)]
            assert row.attempts == len(mine)
            assert row.correct == sum(a.correct for a in mine)
            assert row.p_known == round((row.correct + 1) / (row.attempts + 2), 4)
        assert sum(r.attempts for r in mastery.values()) == 30

        per_concept, per_learner = class_aggregate(store)
        assert len(per_learner) == 12 and set(per_concept) <= set(CONCEPTS)
        assert all(0 < avg < 1 and 0 < n <= 12 for avg, n in per_concept.values())
        assert len(learner_progress_ms(store, samples=5)) == 5


def test_fill_is_deterministic_and_refuses_a_second_run(tmp_path: Path) -> None:
    def answers(url: str) -> list[tuple[str, bool]]:
        with Store.open(url) as store:
            return [(a.item_id, a.correct) for a in store.attempts()]

    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    fill(a, 3, 20, seed=1)
    fill(b, 3, 20, seed=1)
    assert answers(a) == answers(b)
    with pytest.raises(StoreError, match="already has bench learners"):
        fill(a, 3, 20, seed=1)
    fill(a, 2, 5, seed=2, name_prefix="extra-")  # another prefix is fine
    with Store.open(a) as store:
        assert store.counts()["learners"] == 5


def test_fast_executemany_matches_plain_core_insert(db_url: str) -> None:  # noqa: F811
    """The bench's bulk path stores exactly what a plain Core insert stores."""
    row = {
        "learner_id": 0,
        "session_id": None,
        "item_id": "gan-q1",
        "course_id": "genai-models",
        "bank_version": "v",
        "answer": "ünï",
        "correct": True,
        "score": 0.25,
        "rubric_met": ["a", "b"],
        "feedback": "",
        "hints_used": 2,
        "seconds": 3.5,
        "concepts": ["gan"],
        "created": datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    }
    with Store.open(db_url) as store:
        learner_id = store.get_or_create_learner("ann").id
        rows = [dict(row, learner_id=learner_id, hints_used=i) for i in range(3)]
        with store.engine.begin() as conn:
            conn.execute(insert(QuizAttempt), rows)
            executemany(conn, QuizAttempt, rows)
        with store.engine.connect() as conn:
            got = [
                {k: v for k, v in r._mapping.items() if k != "id"}
                for r in conn.execute(select(QuizAttempt.__table__).order_by(QuizAttempt.id))
            ]
    assert got[:3] == got[3:]
    assert got[1] == rows[1]


def test_bench_store_cli_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "store", "--learners", "20", "--attempts-per-learner", "10",
                                      "--samples", "5", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)  # exactly one JSON object
    assert figures["backend"] == "sqlite" and figures["learners"] == 20
    assert figures["rows"] > 20 * 10
    assert figures["insert_rows_per_s"] > 0 and figures["db_size_mb"] > 0
    assert 0 < figures["learner_query_ms_median"] <= figures["learner_query_ms_p95"]


def test_bench_store_cli_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    result = CliRunner().invoke(cli, ["bench", "store", "--learners", "5", "--attempts-per-learner", "4",
                                      "--db", url])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "bulk insert" in result.output and "one learner's progress" in result.output
    with Store.open(url) as store:  # --db keeps the data
        assert store.counts()["quiz_attempts"] == 20
