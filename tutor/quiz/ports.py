"""What the quiz engine needs from a progress store.

`tutor.store.Store` provides these methods (see the team contract); so does the
in-memory `tutor.learner.memory.MemoryStore` used by the learner simulator and
fast tests. Naming the subset keeps the engine honest about its dependencies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tutor.store.records import AttemptIn, AttemptRecord, MasteryRecord, ReviewRecord


class QuizStore(Protocol):
    def start_session(self, learner_id: int, kind: str) -> int: ...

    def end_session(self, session_id: int) -> None: ...

    def add_attempt(self, attempt: AttemptIn) -> AttemptRecord: ...

    def attempts(
        self, learner_id: int | None = None, *, item_id: str | None = None, limit: int | None = None
    ) -> list[AttemptRecord]: ...

    def add_hint(self, learner_id: int, item_id: str, level: int) -> None: ...

    def mastery(self, learner_id: int) -> dict[str, MasteryRecord]: ...

    def set_mastery(self, learner_id: int, concept_id: str, p_known: float, *, correct: bool) -> MasteryRecord: ...

    def review(self, learner_id: int, item_id: str) -> ReviewRecord | None: ...

    def set_review(self, learner_id: int, item_id: str, card: dict, due: datetime) -> None: ...

    def due_reviews(self, learner_id: int, now: datetime) -> list[ReviewRecord]: ...
