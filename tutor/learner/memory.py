"""An in-memory progress store with the methods the quiz engine uses.

The learner simulator (`tutor eval adaptive`) runs thousands of quiz steps; going
through SQLite for each would measure the disk, not the selection policy. This
class mirrors the Store API's semantics (attempts oldest first, mastery counts,
due reviews soonest first) so that the simulator drives the very same engine.
It keeps nothing after the process ends: never use it for real learners.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timezone

from tutor.store.records import (
    AttemptIn,
    AttemptRecord,
    HintRecord,
    LearnerRecord,
    MasteryRecord,
    ReviewRecord,
)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class MemoryStore:
    """A throwaway Store look-alike for simulations and unit tests."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._learners: dict[str, LearnerRecord] = {}
        self._sessions: dict[int, tuple[int, str, bool]] = {}
        self._attempts: list[AttemptRecord] = []
        self._hints: list[HintRecord] = []
        self._mastery: dict[tuple[int, str], MasteryRecord] = {}
        self._reviews: dict[tuple[int, str], ReviewRecord] = {}

    # learners
    def get_or_create_learner(self, name: str, level: str = "beginner", style: str = "example") -> LearnerRecord:
        if name not in self._learners:
            self._learners[name] = LearnerRecord(next(self._ids), name, level, style, _utcnow())
        return self._learners[name]

    def get_learner(self, name: str) -> LearnerRecord | None:
        return self._learners.get(name)

    def list_learners(self) -> list[LearnerRecord]:
        return sorted(self._learners.values(), key=lambda r: r.name)

    # sessions
    def start_session(self, learner_id: int, kind: str) -> int:
        session_id = next(self._ids)
        self._sessions[session_id] = (learner_id, kind, False)
        return session_id

    def end_session(self, session_id: int) -> None:
        learner_id, kind, _ = self._sessions[session_id]
        self._sessions[session_id] = (learner_id, kind, True)

    # attempts and hints
    def add_attempt(self, attempt: AttemptIn) -> AttemptRecord:
        record = AttemptRecord(
            id=next(self._ids),
            learner_id=attempt.learner_id,
            session_id=attempt.session_id,
            item_id=attempt.item_id,
            course_id=attempt.course_id,
            bank_version=attempt.bank_version,
            answer=attempt.answer,
            correct=attempt.correct,
            score=attempt.score,
            rubric_met=tuple(attempt.rubric_met),
            feedback=attempt.feedback,
            hints_used=attempt.hints_used,
            seconds=attempt.seconds,
            concepts=tuple(attempt.concepts),
            created=attempt.created or _utcnow(),
        )
        self._attempts.append(record)
        return record

    def attempts(
        self, learner_id: int | None = None, *, item_id: str | None = None, limit: int | None = None
    ) -> list[AttemptRecord]:
        rows = [
            a
            for a in self._attempts
            if (learner_id is None or a.learner_id == learner_id) and (item_id is None or a.item_id == item_id)
        ]
        return rows[-limit:] if limit else rows

    def add_hint(self, learner_id: int, item_id: str, level: int) -> None:
        self._hints.append(HintRecord(learner_id, item_id, level, _utcnow()))

    def hints(self, learner_id: int, item_id: str | None = None) -> list[HintRecord]:
        return [h for h in self._hints if h.learner_id == learner_id and (item_id is None or h.item_id == item_id)]

    # mastery
    def mastery(self, learner_id: int) -> dict[str, MasteryRecord]:
        return {c: r for (lid, c), r in self._mastery.items() if lid == learner_id}

    def set_mastery(self, learner_id: int, concept_id: str, p_known: float, *, correct: bool) -> MasteryRecord:
        old = self._mastery.get((learner_id, concept_id))
        if old is None:
            old = MasteryRecord(learner_id, concept_id, p_known, 0, 0, _utcnow())
        record = replace(
            old, p_known=p_known, attempts=old.attempts + 1, correct=old.correct + int(correct), updated=_utcnow()
        )
        self._mastery[(learner_id, concept_id)] = record
        return record

    # reviews
    def review(self, learner_id: int, item_id: str) -> ReviewRecord | None:
        return self._reviews.get((learner_id, item_id))

    def set_review(self, learner_id: int, item_id: str, card: dict, due: datetime) -> None:
        self._reviews[(learner_id, item_id)] = ReviewRecord(learner_id, item_id, dict(card), due)

    def due_reviews(self, learner_id: int, now: datetime) -> list[ReviewRecord]:
        rows = [r for (lid, _), r in self._reviews.items() if lid == learner_id and r.due is not None and r.due <= now]
        return sorted(rows, key=lambda r: r.due)

    def reviews(self, learner_id: int) -> list[ReviewRecord]:
        """Every review card of a learner, soonest due first (for progress views)."""
        rows = [r for (lid, _), r in self._reviews.items() if lid == learner_id]
        return sorted(rows, key=lambda r: r.due or datetime.max.replace(tzinfo=timezone.utc))

    def close(self) -> None:
        """Nothing to release; present so callers can treat it like a Store."""
