"""The SQL behind the instructor reports: SQLAlchemy Core over the store's tables.

A class of 10,000 learners with 100 attempts each is a million quiz rows, far
too many to walk through the store's per-learner methods, so the reports ask
the database for aggregates (one GROUP BY pass where that is all they need)
and fetch row by row only what has to be combined in Python (first attempts,
the conversations of learners who used the tutor). No SQL text is built from
input: every value is a bound parameter.

What keeps the big queries fast (measured on SQLite, which is what a class
runs on by default):

- Two covering indexes on quiz_attempts (migration 0002): every report query
  over attempts is one ordered pass over an index, never over the table.
- ``_plain_rows``: rows of plain values (ids, numbers, text) are taken from
  the driver's cursor as it returns them, skipping SQLAlchemy's per-row
  result processing (about half the cost of a 200,000-row fetch).
- ``first_attempt_groups``: first attempts come back grouped by item, answer
  and score, with the learner ids of each group as one comma-separated string
  (SQLite's group_concat) that NumPy parses, instead of half a million rows.
- ``_time_key``: timestamps are compared as SQLite stores them (fixed-width
  UTC text, which sorts in time order) instead of parsing a million of them
  into datetimes; on PostgreSQL the driver returns datetimes, which compare
  the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Date, String, and_, bindparam, case, cast, func, or_, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from tutor.reports.errors import ReportError
from tutor.store.schema import ChatMessage, ConceptMastery, Hint, Learner, QuizAttempt, StudySession

QUIZ_SESSION_KINDS = ("quiz", "exercise", "review")


class LearnerRow(NamedTuple):
    id: int
    name: str
    level: str
    style: str


class AttemptActivity(NamedTuple):
    attempts: int
    correct: int
    seconds: float
    last: datetime | None
    quizzes: int  # distinct quiz sessions with at least one answer


class ChatActivity(NamedTuple):
    questions: int
    last: datetime | None


class SessionSpan(NamedTuple):
    learner_id: int
    kind: str
    started: datetime
    ended: datetime | None


class FlaggedAnswer(NamedTuple):
    learner_id: int
    message_id: int
    created: datetime
    question: str
    sources: tuple[str, ...]
    in_scope: bool | None
    grounded: float | None


# ---------------------------------------------------------------------- helpers
def _correct_int() -> ColumnElement[int]:
    return case((QuizAttempt.correct, 1), else_=0)


def _plain_rows(conn: Connection, stmt: Any, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """The statement's rows as the DBAPI cursor returns them (see module docstring).

    Values come as the driver makes them, not as the column types would:
    meant for ids, numbers and text. Where a caller selects more (JSON,
    booleans), it says how it reads what each driver returns.
    """
    result = conn.execute(stmt, params)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _time_key(column: Any) -> ColumnElement[Any]:
    """The column as the driver returns it: ordered like time, not parsed (see module docstring)."""
    return type_coerce(column, String())


def _for(column: Any, learner_ids: Sequence[int] | None) -> list[ColumnElement[bool]]:
    if learner_ids is None:
        return []
    if len(learner_ids) == 1:
        return [column == learner_ids[0]]
    return [column.in_(list(learner_ids))]


def _day(conn: Connection, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column."""
    if conn.dialect.name == "sqlite":
        # stored as fixed-width UTC text: the day is its first 10 characters (what date() would
        # parse out of it, at a sixth less of the cost over a million rows)
        return func.substr(column, 1, 10)
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return cast(column, Date)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# ---------------------------------------------------------------------- learners
def learners(conn: Connection, learner_ids: Sequence[int] | None = None) -> list[LearnerRow]:
    stmt = select(Learner.id, Learner.name, Learner.level, Learner.style).where(*_for(Learner.id, learner_ids))
    return [LearnerRow(*row) for row in conn.execute(stmt.order_by(Learner.name)).all()]


def learner_by_name(conn: Connection, name: str) -> LearnerRow | None:
    stmt = select(Learner.id, Learner.name, Learner.level, Learner.style).where(Learner.name == name.strip())
    row = conn.execute(stmt).first()
    return LearnerRow(*row) if row is not None else None


def attempt_activity(conn: Connection, learner_ids: Sequence[int] | None = None) -> dict[int, AttemptActivity]:
    """Per learner: attempts, correct answers, seconds answering, last attempt, quizzes taken (one pass)."""
    stmt = (
        select(
            QuizAttempt.learner_id,
            func.count(),
            func.sum(_correct_int()),
            func.sum(QuizAttempt.seconds),
            func.max(QuizAttempt.created),
            func.count(QuizAttempt.session_id.distinct()),
        )
        .where(*_for(QuizAttempt.learner_id, learner_ids))
        .group_by(QuizAttempt.learner_id)
    )
    return {
        lid: AttemptActivity(int(n), int(right or 0), float(secs or 0.0), last, int(quizzes or 0))
        for lid, n, right, secs, last, quizzes in conn.execute(stmt).all()
    }


def chat_activity(conn: Connection, learner_ids: Sequence[int] | None = None) -> dict[int, ChatActivity]:
    """Per learner: questions asked to the tutor and the time of the last message."""
    stmt = (
        select(
            ChatMessage.learner_id,
            func.sum(case((ChatMessage.role == "user", 1), else_=0)),
            func.max(ChatMessage.created),
        )
        .where(*_for(ChatMessage.learner_id, learner_ids))
        .group_by(ChatMessage.learner_id)
    )
    return {lid: ChatActivity(int(q or 0), last) for lid, q, last in conn.execute(stmt).all()}


def sessions(conn: Connection, learner_ids: Sequence[int] | None = None) -> list[SessionSpan]:
    stmt = select(StudySession.learner_id, StudySession.kind, StudySession.started, StudySession.ended).where(
        *_for(StudySession.learner_id, learner_ids)
    )
    return [SessionSpan(*row) for row in conn.execute(stmt).all()]


def mastery(conn: Connection, learner_ids: Sequence[int] | None = None) -> list[tuple[int, str, float, int]]:
    """Every (learner, concept) row as a plain ``(learner_id, concept_id, p_known, attempts)`` tuple.

    A large class has 200,000 of them, so no record objects and no columns the overview does not read.
    """
    stmt = select(
        ConceptMastery.learner_id,
        ConceptMastery.concept_id,
        ConceptMastery.p_known,
        ConceptMastery.attempts,
    ).where(*_for(ConceptMastery.learner_id, learner_ids))
    return _plain_rows(conn, stmt)


def hints_per_item(conn: Connection, learner_id: int) -> dict[str, int]:
    """How many hints a learner asked for on each item."""
    stmt = (
        select(Hint.item_id, func.count())
        .where(Hint.learner_id == learner_id)
        .group_by(Hint.item_id)
    )
    return {item_id: int(n) for item_id, n in conn.execute(stmt).all()}


def activity_by_day(conn: Connection, learner_ids: Sequence[int] | None = None) -> list[tuple[date, int, int]]:
    """(UTC day, attempts, correct) for the activity chart, oldest day first."""
    day = _day(conn, QuizAttempt.created).label("day")
    stmt = (
        select(day, func.count(), func.sum(_correct_int()))
        .where(*_for(QuizAttempt.learner_id, learner_ids))
        .group_by(day)
        .order_by(day)
    )
    return [(_as_date(d), int(n), int(c or 0)) for d, n, c in conn.execute(stmt).all() if d is not None]


# ---------------------------------------------------------------------- items
class FirstAttemptColumns(NamedTuple):
    """First attempts column by column (one entry per learner and item): cheap to turn into arrays."""

    learner_ids: Sequence[int]
    item_ids: Sequence[str]
    scores: Sequence[float]
    answers: Sequence[str]


def first_attempts(conn: Connection) -> FirstAttemptColumns:
    """Each learner's first attempt at each item.

    SQLite returns the other columns of the row that holds ``min()`` in a
    GROUP BY (documented behaviour, and a third faster there than a window
    function); other databases use ROW_NUMBER() over (learner, item) by time.
    Two attempts by one learner at one item in the same microsecond would tie.
    """
    if conn.dialect.name == "sqlite":
        stmt: Any = select(
            QuizAttempt.learner_id,
            QuizAttempt.item_id,
            QuizAttempt.score,
            QuizAttempt.answer,
            func.min(_time_key(QuizAttempt.created)),
        ).group_by(QuizAttempt.learner_id, QuizAttempt.item_id)
    else:
        rank = (
            func.row_number()
            .over(
                partition_by=(QuizAttempt.learner_id, QuizAttempt.item_id),
                order_by=(QuizAttempt.created, QuizAttempt.id),
            )
            .label("rank")
        )
        inner = select(
            QuizAttempt.learner_id, QuizAttempt.item_id, QuizAttempt.score, QuizAttempt.answer, rank
        ).subquery()
        stmt = select(inner.c.learner_id, inner.c.item_id, inner.c.score, inner.c.answer, inner.c.rank).where(
            inner.c.rank == 1
        )
    rows = conn.execute(stmt).all()
    if not rows:
        return FirstAttemptColumns((), (), (), ())
    learner_ids, item_ids, scores, answers, _ = zip(*rows, strict=True)
    return FirstAttemptColumns(learner_ids, item_ids, scores, answers)


class FirstAttemptGroup(NamedTuple):
    """The learners whose first attempt at ``item_id`` was ``answer`` and scored ``score``."""

    item_id: str
    answer: str
    score: float
    learner_ids: Any  # np.ndarray[int64], in no particular order


def attempted_items(conn: Connection) -> list[str]:
    """Every item anyone attempted, sorted: a skip along the item index, one probe per item."""
    table = QuizAttempt.__table__
    walk = select(func.min(table.c.item_id).label("item_id")).cte("walk", recursive=True)
    following = select(func.min(table.c.item_id)).where(table.c.item_id > walk.c.item_id).scalar_subquery()
    walk = walk.union_all(select(following).where(walk.c.item_id.is_not(None)))
    found = conn.execute(select(walk.c.item_id).where(walk.c.item_id.is_not(None))).scalars().all()
    return sorted(found)


def first_attempt_groups(conn: Connection) -> list[FirstAttemptGroup]:
    """Each learner's first attempt at each item, as groups of learners with the same item, answer and score.

    A class makes half a million first attempts but only a few hundred such
    groups, so this is what crosses from the database to Python. On SQLite,
    one query per item walks the (item, learner, created) index; the first
    attempt is the row that holds ``min(created)`` (SQLite returns the other
    columns of that row, documented behaviour) and each group's learner ids
    arrive as one group_concat string. Elsewhere, ROW_NUMBER() picks the
    first attempts and Python groups them. As in ``first_attempts``, two
    attempts by one learner at one item in the same microsecond would tie.
    """
    import numpy as np

    if conn.dialect.name != "sqlite":
        cols = first_attempts(conn)
        grouped: dict[tuple[str, str, float], list[int]] = {}
        for lid, item_id, score, answer in zip(cols.learner_ids, cols.item_ids, cols.scores, cols.answers, strict=True):
            grouped.setdefault((item_id, answer or "", float(score)), []).append(lid)
        return [
            FirstAttemptGroup(item_id, answer, score, np.array(lids, dtype=np.int64))
            for (item_id, answer, score), lids in sorted(grouped.items())
        ]

    table = QuizAttempt.__table__
    first = (
        select(table.c.learner_id, table.c.score, table.c.answer, func.min(_time_key(table.c.created)))
        .where(table.c.item_id == bindparam("item_id"))
        .group_by(table.c.learner_id)
        .subquery()
    )
    stmt = select(first.c.answer, first.c.score, func.count(), func.group_concat(first.c.learner_id)).group_by(
        first.c.answer, first.c.score
    )
    groups = []
    for item_id in attempted_items(conn):
        for answer, score, n, learners in _plain_rows(conn, stmt, {"item_id": item_id}):
            ids = np.fromstring(learners, dtype=np.int64, sep=",")
            if len(ids) != n:  # cannot happen with integer ids; refuse rather than miscount
                raise ReportError(f"first attempts at {item_id!r}: expected {n} learner ids, read {len(ids)}")
            groups.append(FirstAttemptGroup(item_id, answer or "", float(score), ids))
    return groups


def first_rubrics(conn: Connection, item_ids: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """``(item_id, key points met)`` of each first attempt at the given (scenario) items."""
    if not item_ids:
        return []
    rank = (
        func.row_number()
        .over(partition_by=(QuizAttempt.learner_id, QuizAttempt.item_id), order_by=(QuizAttempt.created, QuizAttempt.id))
        .label("rank")
    )
    inner = (
        select(QuizAttempt.item_id, QuizAttempt.rubric_met, rank)
        .where(QuizAttempt.item_id.in_(list(item_ids)))
        .subquery()
    )
    stmt = select(inner.c.item_id, inner.c.rubric_met).where(inner.c.rank == 1)
    return [(item_id, tuple(met or ())) for item_id, met in conn.execute(stmt).all()]


def item_totals(conn: Connection) -> dict[str, tuple[int, int]]:
    """Every attempt per item: ``item_id -> (attempts, correct)`` (a pass over the item index)."""
    stmt = select(QuizAttempt.item_id, func.count(), func.sum(_correct_int())).group_by(QuizAttempt.item_id)
    return {item_id: (int(n), int(c or 0)) for item_id, n, c in conn.execute(stmt).all()}


def item_concepts(conn: Connection, item_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The concepts stored with one attempt of each item (for items the bank no longer has)."""
    wanted = list(item_ids)
    if not wanted:
        return {}
    first_ids = (
        select(func.min(QuizAttempt.id)).where(QuizAttempt.item_id.in_(wanted)).group_by(QuizAttempt.item_id)
    )
    stmt = select(QuizAttempt.item_id, QuizAttempt.concepts).where(QuizAttempt.id.in_(first_ids))
    return {item_id: tuple(concepts or ()) for item_id, concepts in conn.execute(stmt).all()}


# ---------------------------------------------------------------------- conversations
def _chat_learner_ids() -> Any:
    return select(ChatMessage.learner_id).where(ChatMessage.role == "user").distinct()


def tutor_timelines(
    conn: Connection, learner_ids: Sequence[int] | None = None, *, messages: bool = True, answers: bool = True
) -> tuple[list[Any], list[Any]]:
    """Messages and attempts of the learners who asked the tutor anything, by learner, each in time order.

    Plain tuples straight from the driver (there can be hundreds of
    thousands): messages are ``(learner_id, role, at, sources)`` and attempts
    ``(learner_id, item_id, correct (0/1 or bool), at)``; ``at`` compares like time
    (see module docstring) and ``sources`` is the stored JSON, as text or
    already parsed depending on the driver (read it with ``json_list``).
    ``messages=False`` or ``answers=False`` skips one (an empty list comes back).
    """
    who = (
        [ChatMessage.learner_id.in_(_chat_learner_ids())]
        if learner_ids is None
        else _for(ChatMessage.learner_id, learner_ids)
    )
    message_stmt = select(
        ChatMessage.learner_id, ChatMessage.role, _time_key(ChatMessage.created).label("at"), ChatMessage.sources
    ).where(*who).order_by(ChatMessage.learner_id, ChatMessage.created, ChatMessage.id)
    attempt_who = (
        [QuizAttempt.learner_id.in_(_chat_learner_ids())]
        if learner_ids is None
        else _for(QuizAttempt.learner_id, learner_ids)
    )
    attempts = select(
        QuizAttempt.learner_id,
        QuizAttempt.item_id,
        QuizAttempt.correct,  # 0/1 from SQLite, a bool from PostgreSQL: both count as 0/1
        _time_key(QuizAttempt.created).label("at"),
    ).where(*attempt_who).order_by(QuizAttempt.learner_id, QuizAttempt.created, QuizAttempt.id)
    return (
        _plain_rows(conn, message_stmt) if messages else [],
        _plain_rows(conn, attempts) if answers else [],
    )


class AnswerColumns(NamedTuple):
    """Answers column by column, by learner and each learner's in time order (ties by id)."""

    learner_ids: Any  # np.ndarray[int64]
    item_ids: Sequence[str]
    correct: Any  # np.ndarray[int64], 0/1
    at: Sequence[Any]  # comparable time (see module docstring)

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> AnswerColumns:
        """From ``(learner_id, item_id, correct, at)`` rows, already in that order."""
        import numpy as np

        n = len(rows)
        if n == 0:
            return cls(np.zeros(0, dtype=np.int64), (), np.zeros(0, dtype=np.int64), ())
        learners, items, correct, at = zip(*rows, strict=True)
        return cls(np.fromiter(learners, np.int64, n), items, np.fromiter(correct, np.int64, n), at)


def tutor_answers(conn: Connection) -> AnswerColumns:
    """The answers of the learners who asked the tutor anything, as columns (``tutor_timelines``' attempts).

    On SQLite each learner's answers come as one row of group_concat strings,
    taken in the order SQLite walks the (learner, created, id) index: a third
    of the cost of 300,000 rows. SQLite does not promise that order for
    group_concat, so it is checked (times never decrease within a learner and
    equal times come in id order, every list the expected length) and the
    plain ordered query answers instead when anything is off.
    """
    import numpy as np

    if conn.dialect.name == "sqlite":
        sep = "\x1f"  # unit separator: not in item ids the bank or store write
        t = QuizAttempt.__table__
        stmt = (
            select(
                t.c.learner_id,
                func.count(),
                func.group_concat(t.c.item_id, sep),
                func.group_concat(t.c.correct, ""),
                func.group_concat(t.c.created, sep),
                func.group_concat(t.c.id),
            )
            .where(t.c.learner_id.in_(_chat_learner_ids()))
            .group_by(t.c.learner_id)
            .order_by(t.c.learner_id)
        )
        groups = _plain_rows(conn, stmt)
        sizes = np.array([g[1] for g in groups], dtype=np.int64)
        items: list[str] = []
        at: list[str] = []
        for g in groups:
            items += g[2].split(sep)
            at += g[4].split(sep)
        n = int(sizes.sum())
        digits = "".join(g[3] for g in groups).encode()
        ids = np.fromstring(",".join(g[5] for g in groups), dtype=np.int64, sep=",") if groups else np.zeros(0)
        if len(items) == len(at) == len(digits) == len(ids) == n:
            correct = np.frombuffer(digits, dtype=np.uint8).astype(np.int64) - ord("0")
            learners = np.repeat(np.array([g[0] for g in groups], dtype=np.int64), sizes)
            times = np.array(at) if n else np.zeros(0, dtype="U1")
            same = learners[1:] == learners[:-1]
            later = times[1:] > times[:-1]
            tied = times[1:] == times[:-1]
            in_order = bool(np.all(~same | later | (tied & (ids[1:] > ids[:-1]))))
            if in_order and bool(np.all((correct == 0) | (correct == 1))):
                return AnswerColumns(learners, items, correct, at)
    _, attempts = tutor_timelines(conn, messages=False)
    return AnswerColumns.from_rows(attempts)


def json_list(value: Any) -> tuple[str, ...]:
    """A JSON list column as a driver returned it (text on SQLite, parsed on PostgreSQL)."""
    if not value:
        return ()
    if isinstance(value, (str, bytes)):
        value = json.loads(value)
    return tuple(value or ())


def flagged_answers(
    conn: Connection, grounded_below: float, learner_ids: Sequence[int] | None = None
) -> list[FlaggedAnswer]:
    """Tutor answers judged out of scope or weakly grounded, with the question that led to each."""
    question_msg = ChatMessage.__table__.alias("question_msg")
    answer = ChatMessage
    question = (
        select(question_msg.c.text)
        .where(
            question_msg.c.learner_id == answer.learner_id,
            question_msg.c.role == "user",
            or_(
                question_msg.c.created < answer.created,
                and_(question_msg.c.created == answer.created, question_msg.c.id < answer.id),
            ),
        )
        .order_by(question_msg.c.created.desc(), question_msg.c.id.desc())
        .limit(1)
        .correlate(answer)
        .scalar_subquery()
    )
    stmt = (
        select(
            answer.learner_id,
            answer.id,
            answer.created,
            question,
            answer.sources,
            answer.in_scope,
            answer.grounded,
        )
        .where(
            answer.role == "assistant",
            or_(answer.in_scope.is_(False), answer.grounded < grounded_below),
            *_for(answer.learner_id, learner_ids),
        )
        .order_by(answer.created, answer.id)
    )
    return [
        FlaggedAnswer(lid, mid, created, q or "", tuple(sources or ()), in_scope, grounded)
        for lid, mid, created, q, sources, in_scope, grounded in conn.execute(stmt).all()
    ]
