"""The database tables, as SQLAlchemy 2.0 typed ORM classes.

These rows never leave ``tutor.store``: the store converts them to the plain
records in ``tutor.store.records``. The Alembic migrations in ``db/versions``
create exactly these tables (a test compares the two), so any change here needs
a new migration.

Why the indexes look the way they do:
- quiz_attempts has two indexes, each carrying extra columns so the
  instructor reports (which read all of this, the biggest table) scan an index
  in order and never the table (migration 0002):
  (learner_id, created, id, item_id, correct, seconds, session_id) serves one
  learner's attempts oldest first, per-learner activity and answer timelines;
  (item_id, learner_id, created, correct, score, answer) serves per-item totals
  and first attempts. Every extra index on this table costs insert speed, so
  these replace the narrow ones rather than adding to them.
- chat_messages (learner_id, created, id): a learner's conversation in order.
- hints (learner_id, item_id), study_sessions (learner_id, started).
- concept_mastery / review_schedule: the unique (learner, concept|item) pair is
  also the lookup index; review_schedule (learner_id, due) serves "what is due".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zones, so values are stored there as naive UTC in
    SQLAlchemy's fixed-width text form (which sorts chronologically); on
    PostgreSQL they are ``timestamptz``. Either way callers get aware UTC back.
    A naive datetime handed in is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        str: Text(),
    }


class Learner(Base):
    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    level: Mapped[str] = mapped_column(String(20))
    style: Mapped[str] = mapped_column(String(20))
    created: Mapped[datetime]


class InstructorCredential(Base):
    """The instructor passphrase, as a hash only (one row, id 1)."""

    __tablename__ = "instructor_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    password_hash: Mapped[str]
    updated: Mapped[datetime]


class StudySession(Base):
    __tablename__ = "study_sessions"
    __table_args__ = (Index(None, "learner_id", "started"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    started: Mapped[datetime]
    ended: Mapped[datetime | None]


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (Index(None, "learner_id", "created", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("study_sessions.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str]
    sources: Mapped[list[str]]  # cited section ids
    in_scope: Mapped[bool | None]
    grounded: Mapped[float | None]
    model_id: Mapped[str | None]
    adapter_id: Mapped[str | None]
    timings: Mapped[dict[str, Any]]
    created: Mapped[datetime]


class QuizAttempt(Base):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        Index(
            "ix_quiz_attempts_learner_timeline",
            "learner_id", "created", "id", "item_id", "correct", "seconds", "session_id",
        ),
        Index("ix_quiz_attempts_item_learner", "item_id", "learner_id", "created", "correct", "score", "answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    # not indexed: the table is the big one and nothing looks attempts up by session alone
    session_id: Mapped[int | None] = mapped_column(ForeignKey("study_sessions.id", ondelete="SET NULL"))
    item_id: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[str] = mapped_column(String(200))
    bank_version: Mapped[str] = mapped_column(String(100))
    answer: Mapped[str]
    correct: Mapped[bool]
    score: Mapped[float]
    rubric_met: Mapped[list[str]]  # rubric key points met
    feedback: Mapped[str]  # feedback shown to the learner
    hints_used: Mapped[int]
    seconds: Mapped[float]
    concepts: Mapped[list[str]]
    created: Mapped[datetime]


class Hint(Base):
    __tablename__ = "hints"
    __table_args__ = (Index(None, "learner_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(200))
    level: Mapped[int]
    created: Mapped[datetime]


class ConceptMastery(Base):
    __tablename__ = "concept_mastery"
    __table_args__ = (UniqueConstraint("learner_id", "concept_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    concept_id: Mapped[str] = mapped_column(String(100))
    p_known: Mapped[float]
    attempts: Mapped[int]
    correct: Mapped[int]
    updated: Mapped[datetime]


class ReviewCard(Base):
    """Spaced-review state of one item for one learner (an FSRS card as JSON)."""

    __tablename__ = "review_schedule"
    __table_args__ = (
        UniqueConstraint("learner_id", "item_id"),
        Index(None, "learner_id", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(200))
    card: Mapped[dict[str, Any]]
    due: Mapped[datetime]
