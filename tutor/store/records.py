"""Plain records the store hands to the rest of tutor.

Domain dataclasses are kept apart from the ORM rows (as elia does) so that no
caller ever holds a live SQLAlchemy object or a session: the quiz engine, the
app and the reports see only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LEVELS = ("beginner", "intermediate", "advanced")
STYLES = ("analogy", "example", "step-by-step", "concise")


@dataclass(frozen=True)
class LearnerRecord:
    id: int
    name: str
    level: str
    style: str
    created: datetime


@dataclass(frozen=True)
class MessageRecord:
    id: int
    learner_id: int
    session_id: int | None
    role: str  # "user" | "assistant"
    text: str
    sources: tuple[str, ...]  # cited section ids
    in_scope: bool | None
    grounded: float | None
    model_id: str | None
    adapter_id: str | None
    timings: dict[str, float]
    created: datetime


@dataclass(frozen=True)
class AttemptIn:
    """What the quiz engine hands the store for one answered item."""

    learner_id: int
    item_id: str
    course_id: str
    bank_version: str
    answer: str  # option key, or "TYPE: explanation" for scenarios
    correct: bool
    score: float  # 0..1
    rubric_met: tuple[str, ...] = ()
    feedback: str = ""
    hints_used: int = 0
    seconds: float = 0.0
    concepts: tuple[str, ...] = ()
    session_id: int | None = None
    created: datetime | None = None  # None: now


@dataclass(frozen=True)
class AttemptRecord:
    id: int
    learner_id: int
    session_id: int | None
    item_id: str
    course_id: str
    bank_version: str
    answer: str
    correct: bool
    score: float
    rubric_met: tuple[str, ...]
    feedback: str
    hints_used: int
    seconds: float
    concepts: tuple[str, ...]
    created: datetime


@dataclass(frozen=True)
class HintRecord:
    learner_id: int
    item_id: str
    level: int
    created: datetime


@dataclass(frozen=True)
class MasteryRecord:
    learner_id: int
    concept_id: str
    p_known: float
    attempts: int
    correct: int
    updated: datetime


@dataclass(frozen=True)
class ReviewRecord:
    learner_id: int
    item_id: str
    card: dict = field(default_factory=dict)  # FSRS card state as JSON
    due: datetime | None = None
