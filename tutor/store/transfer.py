"""Moving progress between databases as JSON (``tutor db export`` / ``import``).

The export is independent of database ids so it can be imported anywhere and
compared as text: learners sorted by name; each learner's sessions, messages,
attempts and hints in time order (ties broken by insertion order); mastery by
concept, reviews by item; sessions referenced by their position in the
learner's list; datetimes as ISO 8601 UTC. Exporting, importing into an empty
database and exporting again gives the identical document. The instructor
passphrase hash is deliberately left out: an export is for moving learner
data, not credentials (``tutor db backup`` copies everything).

Imports are checked with pydantic first and written in one transaction, so a
bad file changes nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from tutor.store import connect
from tutor.store.errors import StoreError
from tutor.store.records import LEVELS, STYLES
from tutor.store.schema import (
    ChatMessage,
    ConceptMastery,
    Hint,
    Learner,
    QuizAttempt,
    ReviewCard,
    StudySession,
)
from tutor.store.store import Store

FORMAT = "tutor-progress"
VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionOut(_Strict):
    kind: str
    started: datetime
    ended: datetime | None = None


class MessageOut(_Strict):
    session: int | None = None  # index into the learner's sessions
    role: Literal["user", "assistant", "system"]
    text: str
    sources: list[str] = []
    in_scope: bool | None = None
    grounded: float | None = None
    model_id: str | None = None
    adapter_id: str | None = None
    timings: dict[str, float] = {}
    created: datetime


class AttemptOut(_Strict):
    session: int | None = None
    item_id: str
    course_id: str
    bank_version: str
    answer: str
    correct: bool
    score: float = Field(ge=0.0, le=1.0)
    rubric_met: list[str] = []
    feedback: str = ""
    hints_used: int = Field(default=0, ge=0)
    seconds: float = Field(default=0.0, ge=0.0)
    concepts: list[str] = []
    created: datetime


class HintOut(_Strict):
    item_id: str
    level: int = Field(ge=1)
    created: datetime


class MasteryOut(_Strict):
    concept_id: str
    p_known: float = Field(ge=0.0, le=1.0)
    attempts: int = Field(ge=0)
    correct: int = Field(ge=0)
    updated: datetime


class ReviewOut(_Strict):
    item_id: str
    card: dict[str, Any]
    due: datetime


class LearnerOut(_Strict):
    name: str = Field(min_length=1, max_length=200)
    level: str
    style: str
    created: datetime
    sessions: list[SessionOut] = []
    messages: list[MessageOut] = []
    attempts: list[AttemptOut] = []
    hints: list[HintOut] = []
    mastery: list[MasteryOut] = []
    reviews: list[ReviewOut] = []


class ExportFile(_Strict):
    format: Literal["tutor-progress"]
    version: Literal[1]
    learners: list[LearnerOut]


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def export_data(store: Store, learner: str | None = None) -> dict[str, Any]:
    """Everything stored about all learners (or one, by name) as a JSON-ready dict."""
    try:
        return _export(store, learner)
    except SQLAlchemyError as exc:
        raise StoreError(f"could not export: {connect.describe_error(exc)}") from None


def _export(store: Store, learner: str | None) -> dict[str, Any]:
    with store.engine.connect() as conn:
        learners_q = select(Learner).order_by(Learner.name)
        if learner is not None:
            learners_q = learners_q.where(Learner.name == learner)
        people = conn.execute(learners_q).all()
        if learner is not None and not people:
            raise StoreError(f"no learner named {learner!r}")
        ids = [p.id for p in people]

        def rows(model: Any, *order: Any) -> dict[int, list[Any]]:
            query = select(model).order_by(model.learner_id, *order)
            if learner is not None:
                query = query.where(model.learner_id.in_(ids))
            grouped: dict[int, list[Any]] = defaultdict(list)
            for row in conn.execute(query):
                grouped[row.learner_id].append(row)
            return grouped

        sessions = rows(StudySession, StudySession.started, StudySession.id)
        messages = rows(ChatMessage, ChatMessage.created, ChatMessage.id)
        attempts = rows(QuizAttempt, QuizAttempt.created, QuizAttempt.id)
        hints = rows(Hint, Hint.created, Hint.id)
        mastery = rows(ConceptMastery, ConceptMastery.concept_id)
        reviews = rows(ReviewCard, ReviewCard.item_id)

    out = []
    for person in people:
        own_sessions = sessions[person.id]
        index = {s.id: i for i, s in enumerate(own_sessions)}
        out.append(
            {
                "name": person.name,
                "level": person.level,
                "style": person.style,
                "created": _iso(person.created),
                "sessions": [
                    {"kind": s.kind, "started": _iso(s.started), "ended": _iso(s.ended)} for s in own_sessions
                ],
                "messages": [
                    {
                        "session": index.get(m.session_id),
                        "role": m.role,
                        "text": m.text,
                        "sources": list(m.sources or []),
                        "in_scope": m.in_scope,
                        "grounded": m.grounded,
                        "model_id": m.model_id,
                        "adapter_id": m.adapter_id,
                        "timings": dict(m.timings or {}),
                        "created": _iso(m.created),
                    }
                    for m in messages[person.id]
                ],
                "attempts": [
                    {
                        "session": index.get(a.session_id),
                        "item_id": a.item_id,
                        "course_id": a.course_id,
                        "bank_version": a.bank_version,
                        "answer": a.answer,
                        "correct": a.correct,
                        "score": a.score,
                        "rubric_met": list(a.rubric_met or []),
                        "feedback": a.feedback,
                        "hints_used": a.hints_used,
                        "seconds": a.seconds,
                        "concepts": list(a.concepts or []),
                        "created": _iso(a.created),
                    }
                    for a in attempts[person.id]
                ],
                "hints": [
                    {"item_id": h.item_id, "level": h.level, "created": _iso(h.created)} for h in hints[person.id]
                ],
                "mastery": [
                    {
                        "concept_id": m.concept_id,
                        "p_known": m.p_known,
                        "attempts": m.attempts,
                        "correct": m.correct,
                        "updated": _iso(m.updated),
                    }
                    for m in mastery[person.id]
                ],
                "reviews": [
                    {"item_id": r.item_id, "card": dict(r.card), "due": _iso(r.due)} for r in reviews[person.id]
                ],
            }
        )
    return {"format": FORMAT, "version": VERSION, "learners": out}


def dumps(data: dict[str, Any]) -> str:
    """The canonical text of an export: stable key order, UTF-8, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_export(store: Store, out: Path, learner: str | None = None) -> dict[str, Any]:
    data = export_data(store, learner)
    try:
        out.write_text(dumps(data), encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot write {out}: {exc.strerror or exc}") from None
    return data


def read_export(path: Path) -> ExportFile:
    """Load and validate an export file; StoreError names the first problem."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path} is not a JSON file: {exc}") from None
    return parse_export(raw, str(path))


def parse_export(raw: Any, where: str = "import") -> ExportFile:
    try:
        data = ExportFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise StoreError(f"{where}: {loc}: {first['msg']}") from None
    for person in data.learners:
        if person.level not in LEVELS or person.style not in STYLES:
            raise StoreError(f"{where}: learner {person.name!r} has an unknown level or style")
        for kind, items in (("messages", person.messages), ("attempts", person.attempts)):
            for item in items:
                if item.session is not None and not 0 <= item.session < len(person.sessions):
                    raise StoreError(
                        f"{where}: learner {person.name!r}: {kind} refer to session {item.session}, "
                        f"but only {len(person.sessions)} are listed"
                    )
    return data


def import_data(store: Store, data: ExportFile) -> dict[str, int]:
    """Add the learners of an export to ``store`` in one transaction; returns row counts.

    Refuses (changing nothing) when a learner of the same name already exists:
    merging two histories of one person is not something to guess at.
    """
    names = [p.name for p in data.learners]
    if len(set(names)) != len(names):
        raise StoreError("the import lists a learner twice")
    counts = dict.fromkeys(("learners", "sessions", "messages", "attempts", "hints", "mastery", "reviews"), 0)
    try:
        with store.engine.begin() as conn:
            existing = set(conn.scalars(select(Learner.name).where(Learner.name.in_(names))))
            if existing:
                raise StoreError(
                    f"learner {sorted(existing)[0]!r} already exists in {store.location}; "
                    "import into an empty database"
                )
            for person in data.learners:
                _import_learner(conn, person, counts)
    except SQLAlchemyError as exc:
        raise StoreError(f"could not import: {connect.describe_error(exc)}") from None
    return counts


def _import_learner(conn: Any, person: LearnerOut, counts: dict[str, int]) -> None:
    learner_id = conn.execute(
        insert(Learner)
        .values(name=person.name, level=person.level, style=person.style, created=person.created)
        .returning(Learner.id)
    ).scalar_one()
    session_ids = []
    for s in person.sessions:  # one by one: their new ids are needed, in order
        session_ids.append(
            conn.execute(
                insert(StudySession)
                .values(learner_id=learner_id, kind=s.kind, started=s.started, ended=s.ended)
                .returning(StudySession.id)
            ).scalar_one()
        )

    def sid(index: int | None) -> int | None:
        return None if index is None else session_ids[index]

    def bulk(model: Any, rows: list[dict[str, Any]], key: str) -> None:
        # executemany keeps the file's order, so ids ascend as they did at export
        if rows:
            conn.execute(insert(model), rows)
        counts[key] += len(rows)

    bulk(
        ChatMessage,
        [
            m.model_dump(exclude={"session"}) | {"learner_id": learner_id, "session_id": sid(m.session)}
            for m in person.messages
        ],
        "messages",
    )
    bulk(
        QuizAttempt,
        [
            a.model_dump(exclude={"session"}) | {"learner_id": learner_id, "session_id": sid(a.session)}
            for a in person.attempts
        ],
        "attempts",
    )
    bulk(Hint, [h.model_dump() | {"learner_id": learner_id} for h in person.hints], "hints")
    bulk(ConceptMastery, [m.model_dump() | {"learner_id": learner_id} for m in person.mastery], "mastery")
    bulk(ReviewCard, [r.model_dump() | {"learner_id": learner_id} for r in person.reviews], "reviews")
    counts["learners"] += 1
    counts["sessions"] += len(session_ids)
