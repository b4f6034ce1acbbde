"""The progress store: every read and write tutor makes about learners.

Each public method is one short transaction on its own ORM session and
commits before it returns, so a crash (or a killed process) never loses an
answer the learner already saw graded, and the Textual app can call the store
from worker threads (one ``sessionmaker`` per Store, SQLite opened with
``check_same_thread=False``). Callers only ever get the frozen records from
``tutor.store.records``, never live ORM rows.

Counters are updated with single upsert statements (``attempts = attempts + 1``)
rather than read-modify-write, so two threads or processes updating the same
learner cannot lose an increment.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tutor.store import connect, migrate
from tutor.store.errors import StoreError
from tutor.store.records import (
    LEVELS,
    STYLES,
    AttemptIn,
    AttemptRecord,
    HintRecord,
    LearnerRecord,
    MasteryRecord,
    MessageRecord,
    ReviewRecord,
)
from tutor.store.schema import (
    ChatMessage,
    ConceptMastery,
    Hint,
    InstructorCredential,
    Learner,
    QuizAttempt,
    ReviewCard,
    StudySession,
)

ROLES = ("user", "assistant", "system")
MAX_NAME = 200


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(when: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (as the database does)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class Store:
    """A handle on one progress database. Open with ``Store.open``; thread-safe."""

    def __init__(self, engine: Engine, target: connect.Target) -> None:
        self._engine = engine
        self._target = target
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Store:
        """Open (creating when needed) and migrate the database at ``url``.

        ``url`` None means ``tutor.config.db_url()``. Raises StoreError, leaving
        the file untouched, when the location is unusable or the schema is newer
        than this tutor. ``upgrade=False`` opens without migrating (for tools
        that only inspect).
        """
        target = connect.parse(url)
        if target.path is not None:
            connect.check_sqlite_file(target, known=migrate.is_known)
        engine = connect.create_engine(target)
        try:
            if upgrade:
                migrate.upgrade(engine, target.display())
            else:
                with engine.connect() as connection:
                    migrate.check_known(connection, target.display())
        except StoreError:
            engine.dispose()
            raise
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(
                f"cannot open database {target.display()}: {connect.describe_error(exc)}"
            ) from None
        return cls(engine, target)

    def close(self) -> None:
        """Release every pooled connection (the data is already committed)."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for read-only report queries and bulk tools."""
        return self._engine

    @property
    def location(self) -> str:
        """Where the data lives: the SQLite path, or the URL without its password."""
        return self._target.display()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def _tx(self, doing: str) -> Iterator[Session]:
        """One committed transaction; database failures become one-line StoreErrors."""
        try:
            with self._sessions.begin() as session:
                yield session
        except StoreError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(f"could not {doing}: {connect.describe_error(exc)}") from None

    def _insert(self, table: type) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    # ------------------------------------------------------------------ learners
    def get_or_create_learner(
        self, name: str, level: str = "beginner", style: str = "example"
    ) -> LearnerRecord:
        """The learner called ``name``; created with ``level``/``style`` when new."""
        name = _learner_name(name)
        _check_choice("level", level, LEVELS)
        _check_choice("style", style, STYLES)
        found = self.get_learner(name)
        if found is not None:
            return found
        stmt = (
            self._insert(Learner)
            .values(name=name, level=level, style=style, created=_now())
            .on_conflict_do_nothing(index_elements=["name"])
        )
        with self._tx("create learner") as session:
            session.execute(stmt)  # a concurrent creator may win: then keep theirs
        found = self.get_learner(name)
        assert found is not None
        return found

    def get_learner(self, name: str) -> LearnerRecord | None:
        with self._tx("read learner") as session:
            row = session.scalars(select(Learner).where(Learner.name == name.strip())).one_or_none()
            return _learner(row) if row is not None else None

    def learner_by_id(self, learner_id: int) -> LearnerRecord | None:
        with self._tx("read learner") as session:
            row = session.get(Learner, learner_id)
            return _learner(row) if row is not None else None

    def list_learners(self) -> list[LearnerRecord]:
        with self._tx("list learners") as session:
            return [_learner(row) for row in session.scalars(select(Learner).order_by(Learner.name))]

    def update_learner(
        self, name: str, *, level: str | None = None, style: str | None = None
    ) -> LearnerRecord:
        if level is not None:
            _check_choice("level", level, LEVELS)
        if style is not None:
            _check_choice("style", style, STYLES)
        with self._tx("update learner") as session:
            row = session.scalars(select(Learner).where(Learner.name == name.strip())).one_or_none()
            if row is None:
                raise StoreError(f"no learner named {name!r}")
            if level is not None:
                row.level = level
            if style is not None:
                row.style = style
            session.flush()
            return _learner(row)

    # ------------------------------------------------------------------ study sessions
    def start_session(self, learner_id: int, kind: str) -> int:
        """Begin a study session (``kind``: "chat", "quiz", "review" ...); returns its id."""
        kind = kind.strip()
        if not kind:
            raise StoreError("a study session needs a kind (e.g. 'quiz')")
        with self._tx("start study session") as session:
            row = StudySession(learner_id=learner_id, kind=kind[:40], started=_now(), ended=None)
            session.add(row)
            session.flush()
            return row.id

    def end_session(self, session_id: int) -> None:
        with self._tx("end study session") as session:
            row = session.get(StudySession, session_id)
            if row is None:
                raise StoreError(f"no study session with id {session_id}")
            if row.ended is None:
                row.ended = _now()

    # ------------------------------------------------------------------ chat
    def add_message(
        self,
        learner_id: int,
        role: str,
        text: str,
        *,
        session_id: int | None = None,
        sources: Sequence[str] = (),
        in_scope: bool | None = None,
        grounded: float | None = None,
        model_id: str | None = None,
        adapter_id: str | None = None,
        timings: dict[str, float] | None = None,
    ) -> MessageRecord:
        _check_choice("role", role, ROLES)
        if grounded is not None:
            grounded = _finite("grounded", grounded)
        row = ChatMessage(
            learner_id=learner_id,
            session_id=session_id,
            role=role,
            text=text,
            sources=[str(s) for s in sources],
            in_scope=in_scope,
            grounded=grounded,
            model_id=model_id,
            adapter_id=adapter_id,
            timings={str(k): _finite(f"timings[{k}]", v) for k, v in (timings or {}).items()},
            created=_now(),
        )
        with self._tx("save chat message") as session:
            session.add(row)
            session.flush()
            return _message(row)

    def messages(self, learner_id: int, limit: int | None = None) -> list[MessageRecord]:
        """The learner's messages, oldest first; with ``limit``, the latest ``limit`` of them."""
        stmt = select(ChatMessage).where(ChatMessage.learner_id == learner_id)
        with self._tx("read chat messages") as session:
            return [_message(r) for r in _latest(session, stmt, ChatMessage, limit)]

    def clear_messages(self, learner_id: int) -> None:
        with self._tx("clear chat messages") as session:
            session.execute(delete(ChatMessage).where(ChatMessage.learner_id == learner_id))

    # ------------------------------------------------------------------ quiz attempts
    def add_attempt(self, attempt: AttemptIn) -> AttemptRecord:
        """Record one graded answer; committed before this returns."""
        score = _finite("score", attempt.score)
        if not 0.0 <= score <= 1.0:
            raise StoreError(f"attempt score must be between 0 and 1, got {score}")
        if attempt.hints_used < 0:
            raise StoreError(f"hints used cannot be negative, got {attempt.hints_used}")
        row = QuizAttempt(
            learner_id=attempt.learner_id,
            session_id=attempt.session_id,
            item_id=attempt.item_id,
            course_id=attempt.course_id,
            bank_version=attempt.bank_version,
            answer=attempt.answer,
            correct=bool(attempt.correct),
            score=score,
            rubric_met=list(attempt.rubric_met),
            feedback=attempt.feedback,
            hints_used=int(attempt.hints_used),
            seconds=max(0.0, _finite("seconds", attempt.seconds)),
            concepts=list(attempt.concepts),
            created=_utc(attempt.created) if attempt.created else _now(),
        )
        with self._tx("record quiz attempt") as session:
            session.add(row)
            session.flush()
            return _attempt(row)

    def attempts(
        self, learner_id: int | None = None, *, item_id: str | None = None, limit: int | None = None
    ) -> list[AttemptRecord]:
        """Attempts, oldest first, optionally one learner's and/or one item's; ``limit``: the latest N."""
        stmt = select(QuizAttempt)
        if learner_id is not None:
            stmt = stmt.where(QuizAttempt.learner_id == learner_id)
        if item_id is not None:
            stmt = stmt.where(QuizAttempt.item_id == item_id)
        with self._tx("read quiz attempts") as session:
            return [_attempt(r) for r in _latest(session, stmt, QuizAttempt, limit)]

    def add_hint(self, learner_id: int, item_id: str, level: int) -> None:
        if level < 1:
            raise StoreError(f"hint level must be 1 or more, got {level}")
        with self._tx("record hint") as session:
            session.add(Hint(learner_id=learner_id, item_id=item_id, level=int(level), created=_now()))

    def hints(self, learner_id: int, item_id: str | None = None) -> list[HintRecord]:
        """The hints a learner asked for (optionally on one item), oldest first."""
        stmt = select(Hint).where(Hint.learner_id == learner_id)
        if item_id is not None:
            stmt = stmt.where(Hint.item_id == item_id)
        with self._tx("read hints") as session:
            return [
                HintRecord(learner_id=r.learner_id, item_id=r.item_id, level=r.level, created=r.created)
                for r in session.scalars(stmt.order_by(Hint.created, Hint.id))
            ]

    # ------------------------------------------------------------------ mastery
    def mastery(self, learner_id: int) -> dict[str, MasteryRecord]:
        stmt = select(ConceptMastery).where(ConceptMastery.learner_id == learner_id)
        with self._tx("read mastery") as session:
            rows = session.scalars(stmt.order_by(ConceptMastery.concept_id))
            return {r.concept_id: _mastery(r) for r in rows}

    def set_mastery(
        self, learner_id: int, concept_id: str, p_known: float, *, correct: bool
    ) -> MasteryRecord:
        """Store the new P(known) after one observed answer: attempts += 1, correct += correct."""
        p_known = _finite("p_known", p_known)
        if not 0.0 <= p_known <= 1.0:
            raise StoreError(f"p_known must be between 0 and 1, got {p_known}")
        hit = 1 if correct else 0
        stmt = self._insert(ConceptMastery).values(
            learner_id=learner_id,
            concept_id=concept_id,
            p_known=p_known,
            attempts=1,
            correct=hit,
            updated=_now(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["learner_id", "concept_id"],
            set_={
                "p_known": stmt.excluded.p_known,
                "attempts": ConceptMastery.attempts + 1,
                "correct": ConceptMastery.correct + stmt.excluded.correct,
                "updated": stmt.excluded.updated,
            },
        ).returning(ConceptMastery)
        with self._tx("update mastery") as session:
            row = session.scalars(stmt, execution_options={"populate_existing": True}).one()
            return _mastery(row)

    # ------------------------------------------------------------------ spaced review
    def review(self, learner_id: int, item_id: str) -> ReviewRecord | None:
        stmt = select(ReviewCard).where(ReviewCard.learner_id == learner_id, ReviewCard.item_id == item_id)
        with self._tx("read review card") as session:
            row = session.scalars(stmt).one_or_none()
            return _review(row) if row is not None else None

    def set_review(self, learner_id: int, item_id: str, card: dict, due: datetime) -> None:
        stmt = self._insert(ReviewCard).values(
            learner_id=learner_id, item_id=item_id, card=dict(card), due=_utc(due)
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["learner_id", "item_id"],
            set_={"card": stmt.excluded.card, "due": stmt.excluded.due},
        )
        with self._tx("save review card") as session:
            session.execute(stmt)

    def reviews(self, learner_id: int) -> list[ReviewRecord]:
        """Every review card of a learner, soonest due first (for progress views)."""
        stmt = (
            select(ReviewCard)
            .where(ReviewCard.learner_id == learner_id)
            .order_by(ReviewCard.due, ReviewCard.item_id)
        )
        with self._tx("read review cards") as session:
            return [_review(r) for r in session.scalars(stmt)]

    def due_reviews(self, learner_id: int, now: datetime) -> list[ReviewRecord]:
        """Cards due at ``now`` or earlier, soonest first."""
        stmt = (
            select(ReviewCard)
            .where(ReviewCard.learner_id == learner_id, ReviewCard.due <= now)
            .order_by(ReviewCard.due, ReviewCard.item_id)
        )
        with self._tx("read due reviews") as session:
            return [_review(r) for r in session.scalars(stmt)]

    # ------------------------------------------------------------------ instructor
    def set_instructor_hash(self, hash: str) -> None:  # noqa: A002 - the contract's name
        """Store the instructor passphrase hash (never the passphrase itself)."""
        if not hash:
            raise StoreError("the instructor passphrase hash is empty")
        stmt = self._insert(InstructorCredential).values(id=1, password_hash=hash, updated=_now())
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={"password_hash": stmt.excluded.password_hash, "updated": stmt.excluded.updated},
        )
        with self._tx("save instructor passphrase") as session:
            session.execute(stmt)

    def instructor_hash(self) -> str | None:
        with self._tx("read instructor passphrase") as session:
            return session.scalar(select(InstructorCredential.password_hash).where(InstructorCredential.id == 1))

    # ------------------------------------------------------------------ counts
    def counts(self) -> dict[str, int]:
        """Rows per table: a cheap summary for ``tutor db`` and tests."""
        tables = {
            "learners": Learner,
            "study_sessions": StudySession,
            "chat_messages": ChatMessage,
            "quiz_attempts": QuizAttempt,
            "hints": Hint,
            "concept_mastery": ConceptMastery,
            "review_schedule": ReviewCard,
        }
        with self._tx("count rows") as session:
            return {name: session.scalar(select(func.count()).select_from(t)) or 0 for name, t in tables.items()}


# ---------------------------------------------------------------------- helpers
def _latest(session: Session, stmt: Any, model: Any, limit: int | None) -> list[Any]:
    """Rows of ``stmt`` oldest first; with ``limit`` only the newest ``limit`` of them."""
    if limit is None:
        return list(session.scalars(stmt.order_by(model.created, model.id)))
    if limit <= 0:
        return []
    rows = list(session.scalars(stmt.order_by(model.created.desc(), model.id.desc()).limit(limit)))
    rows.reverse()
    return rows


def _learner_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise StoreError("a learner needs a name")
    if len(name) > MAX_NAME:
        raise StoreError(f"learner names are at most {MAX_NAME} characters")
    return name


def _check_choice(what: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise StoreError(f"unknown {what} {value!r}: choose one of {', '.join(allowed)}")


def _finite(what: str, value: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StoreError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise StoreError(f"{what} must be a finite number, got {value!r}")
    return number


def _learner(row: Learner) -> LearnerRecord:
    return LearnerRecord(id=row.id, name=row.name, level=row.level, style=row.style, created=row.created)


def _message(row: ChatMessage) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        learner_id=row.learner_id,
        session_id=row.session_id,
        role=row.role,
        text=row.text,
        sources=tuple(row.sources or ()),
        in_scope=row.in_scope,
        grounded=row.grounded,
        model_id=row.model_id,
        adapter_id=row.adapter_id,
        timings=dict(row.timings or {}),
        created=row.created,
    )


def _attempt(row: QuizAttempt) -> AttemptRecord:
    return AttemptRecord(
        id=row.id,
        learner_id=row.learner_id,
        session_id=row.session_id,
        item_id=row.item_id,
        course_id=row.course_id,
        bank_version=row.bank_version,
        answer=row.answer,
        correct=row.correct,
        score=row.score,
        rubric_met=tuple(row.rubric_met or ()),
        feedback=row.feedback,
        hints_used=row.hints_used,
        seconds=row.seconds,
        concepts=tuple(row.concepts or ()),
        created=row.created,
    )


def _mastery(row: ConceptMastery) -> MasteryRecord:
    return MasteryRecord(
        learner_id=row.learner_id,
        concept_id=row.concept_id,
        p_known=row.p_known,
        attempts=row.attempts,
        correct=row.correct,
        updated=row.updated,
    )


def _review(row: ReviewCard) -> ReviewRecord:
    return ReviewRecord(learner_id=row.learner_id, item_id=row.item_id, card=dict(row.card), due=row.due)
