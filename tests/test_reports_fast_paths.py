"""The class-sized fast paths of the reports give what the straightforward definitions give.

Random small classes with ties in time, repeated and unknown concepts and
retried items go through both: the vectorised tutoring-effect counts against
the answer-by-answer definition, and the grouped first-attempt query plus the
item-ordered matrix against the plain-Python item statistics on the store's
own attempt list (through the real store, SQLite and PostgreSQL).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from pg import db_url  # noqa: F401 - fixture

from tutor.reports import item_matrix, item_stats, queries
from tutor.reports.catalog import CourseInfo
from tutor.reports.effect import Answer, Message, reference_counts, tutoring_counts
from tutor.store import Store
from tutor.store.records import AttemptIn

SECTIONS = {"s-a": ("a",), "s-b": ("b", "c"), "s-c": ("c",), "s-none": (), "s-d": ("d",)}
INFO = CourseInfo(section_concepts=SECTIONS)


def random_timelines(seed: int) -> tuple[list[Message], list[Answer], dict[str, tuple[str, ...]]]:
    """Messages and answers of a few learners on a coarse clock (so times often tie), by learner and time."""
    rng = random.Random(seed)
    concepts_of = {
        "i1": ("a",), "i2": ("b",), "i3": ("c", "a"), "i4": ("b", "b"), "i5": (), "i6": ("d",), "i7": ("zz",),
    }  # fmt: skip
    items = [*concepts_of, "unknown"]
    messages: list[Message] = []
    attempts: list[Answer] = []
    for learner in rng.sample(range(1, 40), rng.randint(1, 8)):
        mine = []
        for _ in range(rng.randint(0, 8)):
            t = rng.randint(0, 30)
            sources = tuple(rng.sample(list(SECTIONS), rng.randint(0, 2)))
            mine.append((t, "user", sources))
            if rng.random() < 0.8:  # the tutor's reply, maybe citing where the question did not
                mine.append((t + rng.randint(0, 1), "assistant", tuple(rng.sample(list(SECTIONS), rng.randint(0, 2)))))
        mine.sort(key=lambda m: m[0])
        messages += [Message(learner, role, t, sources) for t, role, sources in mine]
        if rng.random() < 0.9:
            times = sorted(rng.randint(0, 30) for _ in range(rng.randint(0, 25)))
            attempts += [Answer(learner, rng.choice(items), rng.randint(0, 1), t) for t in times]
    if rng.random() < 0.2:  # answers of a learner who never asked: ignored by both
        attempts = [Answer(99, "i1", 1, 3), *attempts]
        attempts.sort(key=lambda a: a.learner_id)
    messages.sort(key=lambda m: m.learner_id)
    attempts.sort(key=lambda a: a.learner_id)
    return messages, attempts, concepts_of


@pytest.mark.parametrize("seed", range(80))
def test_tutoring_counts_match_the_definition(seed: int) -> None:
    messages, attempts, concepts_of = random_timelines(seed)
    fast = tutoring_counts(messages, attempts, concepts_of, INFO)
    reference = reference_counts(messages, attempts, concepts_of, INFO)
    assert fast == reference


def test_tutoring_counts_find_tutored_answers() -> None:
    """A hand-made timeline, so the comparison above cannot pass by both counting nothing."""
    messages = [
        Message(1, "user", 10, ("s-a",)),  # about a
        Message(1, "user", 20, ()),
        Message(1, "assistant", 21, ("s-b",)),  # the reply cites b and c for the question at 20
        Message(1, "user", 30, ("s-c",)),  # about c
    ]
    attempts = [
        Answer(1, "i1", 0, 5),  # a, before any question: without
        Answer(1, "i1", 1, 12),  # a, first after the question at 10: after tutoring
        Answer(1, "i1", 0, 13),  # a again: without
        Answer(1, "i3", 1, 20),  # c and a at the question's very time: not after it
        Answer(1, "i3", 1, 25),  # c was answered at 20, the question's time: without
        Answer(1, "i3", 0, 31),  # c, first after the question at 30: after (a: without)
    ]
    counts = tutoring_counts(messages, attempts, {"i1": ("a",), "i3": ("c", "a")}, INFO)
    assert counts.learners == 1
    assert (counts.after.answers, counts.after.correct) == (2, 1)
    assert (counts.same.answers, counts.same.correct) == (4, 2)
    assert {c: (r.answers, r.correct) for c, r in counts.after_pairs.items()} == {"a": (1, 1), "c": (1, 0)}
    assert {c: (r.answers, r.correct) for c, r in counts.same_pairs.items()} == {"a": (5, 2), "c": (2, 2)}
    assert counts == reference_counts(messages, attempts, {"i1": ("a",), "i3": ("c", "a")}, INFO)


def same(a: float | None, b: float | None) -> bool:
    return (a is None) == (b is None) and (a is None or math.isclose(a, b, rel_tol=0, abs_tol=1e-12))


@pytest.mark.parametrize("seed", range(40))
def test_grouped_matrix_matches_the_row_matrix(seed: int) -> None:
    """``from_groups`` (item order, segment sorts) gives what ``from_columns`` (learner order, lexsort) gives."""
    rng = random.Random(seed)
    rows = []
    for learner in rng.sample(range(1, 500), rng.randint(1, 40)):
        for item in range(rng.randint(1, 9)):
            if rng.random() < 0.7:
                score = rng.choice([0.0, 1.0]) if item % 3 else rng.choice([0.0, 1 / 3, 0.5, 2 / 3, 1.0])
                rows.append((learner, f"i{item}", score, rng.choice(["A", "B", "C", ""])))
    rows.sort()
    keys = {f"i{i}": rng.choice("ABC") for i in range(9)}
    grouped: dict[tuple[str, str, float], list[int]] = {}
    for learner, item, score, ans in rng.sample(rows, len(rows)):  # groups in any order
        grouped.setdefault((item, ans, score), []).append(learner)
    groups = [(item, ans, score, learners) for (item, ans, score), learners in grouped.items()]
    fast = item_matrix.analyse(item_matrix.from_groups(groups), keys)
    if not rows:
        assert fast == []
        return
    learners, items, scores, answers = zip(*rows, strict=True)
    reference = item_matrix.analyse(item_matrix.from_columns(learners, items, scores, answers), keys)
    assert [(s.item_id, s.attempts, s.options, s.flags) for s in fast] == [
        (s.item_id, s.attempts, s.options, s.flags) for s in reference
    ]
    for f, r in zip(fast, reference, strict=True):
        assert same(f.facility, r.facility) and same(f.discrimination, r.discrimination)
        assert same(f.efficiency, r.efficiency)
    ids = sorted({item for _, item, _, _ in rows})
    for subset in (ids, ids[:2], ids[1:4]):
        a = item_matrix.alpha(item_matrix.from_groups(groups), subset)
        b = item_matrix.alpha(item_matrix.from_columns(learners, items, scores, answers), subset)
        assert same(a, b)


def test_first_attempt_groups_from_the_store_match_the_reference(db_url: str) -> None:  # noqa: F811
    """Through the database: retries, answers out of time order, scenario-like partial scores."""
    rng = random.Random(7)
    t0 = datetime(2025, 5, 1, tzinfo=UTC)
    with Store.open(db_url) as store:
        ids = [store.get_or_create_learner(f"fast-{i}").id for i in range(14)]
        for _ in range(260):
            item = rng.choice(["q1", "q2", "q3", "q4", "scen"])
            score = rng.choice([0.0, 1 / 3, 2 / 3, 1.0]) if item == "scen" else float(rng.random() < 0.6)
            store.add_attempt(AttemptIn(
                learner_id=rng.choice(ids), item_id=item, course_id="c", bank_version="t",
                answer=rng.choice("ABCD"), correct=score == 1.0, score=score,
                created=t0 + timedelta(minutes=rng.randint(0, 500), microseconds=rng.randint(0, 3)),
            ))  # fmt: skip
        with store.engine.connect() as conn:
            groups = queries.first_attempt_groups(conn)
            items_seen = queries.attempted_items(conn)
        everything = sorted(store.attempts(), key=lambda a: (a.created, a.id))
    reference_rows = [
        item_stats.FirstAttempt(str(a.learner_id), a.item_id, a.score, a.answer) for a in everything
    ]
    keys = {"q1": "A", "q2": "B", "q3": "C", "q4": "D"}
    expected = item_stats.analyse_items(reference_rows, keys)
    matrix = item_matrix.from_groups(groups)
    got = item_matrix.analyse(matrix, keys)
    assert items_seen == ["q1", "q2", "q3", "q4", "scen"]
    assert len(matrix) == len(item_stats.first_attempts_only(reference_rows))
    assert [(s.item_id, s.attempts, s.options, s.flags) for s in got] == [
        (s.item_id, s.attempts, s.options, s.flags) for s in expected
    ]
    for g, e in zip(got, expected, strict=True):
        assert same(g.facility, e.facility) and same(g.discrimination, e.discrimination)
        assert same(g.efficiency, e.efficiency)
    assert any(s.discrimination is not None for s in got)
    assert same(
        item_matrix.alpha(matrix, items_seen), item_stats.cronbach_alpha(reference_rows, items_seen)
    )


def test_tutor_answers_columns_match_the_ordered_rows(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The group_concat columns (SQLite) hold exactly the ordered rows: same answers, same order, ties by id."""
    from sqlalchemy import insert

    from tutor.store.schema import ChatMessage

    rng = random.Random(11)
    t0 = datetime(2025, 5, 1, tzinfo=UTC)
    with Store.open(db_url) as store:
        ids = [store.get_or_create_learner(f"ans-{i}").id for i in range(6)]
        for _ in range(150):  # inserted out of time order, many exact ties in time
            store.add_attempt(AttemptIn(
                learner_id=rng.choice(ids), item_id=rng.choice(["q1", "q2", "q,3"]), course_id="c",
                bank_version="t", answer="A", correct=rng.random() < 0.5, score=1.0,
                created=t0 + timedelta(seconds=rng.randint(0, 40)),
            ))  # fmt: skip
        with store.engine.begin() as conn:
            for lid in ids[:4]:  # two learners never ask: their answers are left out
                conn.execute(insert(ChatMessage).values(
                    learner_id=lid, session_id=None, role="user", text="?", sources=[], in_scope=None,
                    grounded=None, model_id=None, adapter_id=None, timings={}, created=t0,
                ))  # fmt: skip
        with store.engine.connect() as conn:
            rows = queries.tutor_timelines(conn)[1]
            if store.dialect == "sqlite":  # the group_concat path must hold: no falling back to the rows

                def no_rows(*_args: object, **_kw: object) -> None:
                    raise AssertionError("tutor_answers fell back to the row query")

                monkeypatch.setattr(queries, "tutor_timelines", no_rows)
            fast = queries.tutor_answers(conn)
    expected = queries.AnswerColumns.from_rows(rows)
    assert len(rows) > 50 and {r[0] for r in rows} == set(ids[:4])
    assert fast.learner_ids.tolist() == expected.learner_ids.tolist()
    assert list(fast.item_ids) == list(expected.item_ids) and "q,3" in fast.item_ids
    assert fast.correct.tolist() == expected.correct.tolist()
    assert list(fast.at) == list(expected.at)
