"""The SQL behind the instructor reports: SQLAlchemy Core over the store's tables.

A class of 10,000 learners with 100 attempts each is a million quiz rows, far
too many to walk through the store's per-learner methods, so the reports ask
the database for aggregates (one GROUP BY pass where that is all they need)
and fetch row by row only what has to be combined in Python (first attempts,
the conversations of learners who used the tutor). No SQL text is built from
input: every value is a bound parameter.

Two things are tuned for SQLite, which is what a class runs on by default:

- ``_unindexed(item_id)``: grouping by ``item_id`` would make SQLite walk the
  ``item_id`` index and fetch each row from a random page (3x slower than a
  plain scan with a sort); ``item_id || ''`` is the same value with no index.
- ``_time_key``: timestamps are compared as SQLite stores them (fixed-width
  UTC text, which sorts in time order) instead of parsing a million of them
  into datetimes; on PostgreSQL the driver returns datetimes, which compare
  the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Date, String, and_, case, cast, func, literal, or_, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

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


class MasteryRow(NamedTuple):
    learner_id: int
    concept_id: str
    p_known: float
    attempts: int
    correct: int


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


def _unindexed(column: Any) -> ColumnElement[str]:
    """The same string with no index behind it (see module docstring)."""
    return (column + literal("")).label(column.key)


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
        return func.date(column)  # stored as UTC text: date() reads the first 10 characters
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


def mastery(conn: Connection, learner_ids: Sequence[int] | None = None) -> list[MasteryRow]:
    stmt = select(
        ConceptMastery.learner_id,
        ConceptMastery.concept_id,
        ConceptMastery.p_known,
        ConceptMastery.attempts,
        ConceptMastery.correct,
    ).where(*_for(ConceptMastery.learner_id, learner_ids))
    return list(map(MasteryRow._make, conn.execute(stmt).all()))


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
    """Every attempt per item: ``item_id -> (attempts, correct)``."""
    item = _unindexed(QuizAttempt.item_id)
    stmt = select(item, func.count(), func.sum(_correct_int())).group_by(item)
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


def tutor_timelines(conn: Connection, learner_ids: Sequence[int] | None = None) -> tuple[list[Any], list[Any]]:
    """Messages and attempts of the learners who asked the tutor anything, by learner, each in time order.

    Rows, not records (there can be hundreds of thousands): messages have
    ``learner_id, role, at, sources`` and attempts ``learner_id, item_id,
    correct (0/1), at``; ``at`` compares like time (see module docstring).
    """
    who = (
        [ChatMessage.learner_id.in_(_chat_learner_ids())]
        if learner_ids is None
        else _for(ChatMessage.learner_id, learner_ids)
    )
    messages = select(
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
        _correct_int().label("correct"),
        _time_key(QuizAttempt.created).label("at"),
    ).where(*attempt_who).order_by(QuizAttempt.learner_id, QuizAttempt.created, QuizAttempt.id)
    return conn.execute(messages).all(), conn.execute(attempts).all()


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
