"""What the screens see: small dataclasses the services layer fills in.

The answer pipeline, the quiz engine and the progress report are separate
engine modules; the app never holds their objects directly. Converting at the
service boundary (as elia keeps domain models apart from database rows) means
a renamed engine field breaks one converter, not six screens, and the tests
can script the whole app with plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class SourceView:
    """A cited section: what a reader can open in the lesson view."""

    section_id: str
    title: str
    score: float | None = None


@dataclass(frozen=True)
class EvidenceView:
    """Lesson text quoted under an answer: the facts a reply stands on."""

    section_id: str
    title: str
    text: str


@dataclass(frozen=True)
class AnswerView:
    """A finished (or partial, or cancelled) tutor answer."""

    question: str
    answer: str = ""
    evidence: tuple[EvidenceView, ...] = ()
    sources: tuple[SourceView, ...] = ()
    in_scope: bool = True
    grounded: float | None = None
    supported: bool | None = None  # False: the evidence does not back the explanation
    notice: str = ""  # said under the answer when it must not be taken as fact
    cancelled: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    model_id: str | None = None
    adapter_id: str | None = None


@dataclass(frozen=True)
class AnswerEvent:
    """One step of a streamed answer.

    ``evidence`` arrives first (retrieval is done, sources known), then any
    number of ``delta`` pieces of text, then one ``done`` with the final answer.
    """

    kind: Literal["evidence", "delta", "done"]
    text: str = ""
    answer: AnswerView | None = None


@dataclass(frozen=True)
class ChatMessage:
    """One line of a conversation as the chat shows and exports it."""

    role: Literal["user", "assistant"]
    text: str
    sources: tuple[SourceView, ...] = ()
    evidence: tuple[EvidenceView, ...] = ()
    in_scope: bool | None = None
    cancelled: bool = False
    created: datetime | None = None


@dataclass(frozen=True)
class Grade:
    """Feedback on one answered quiz item or exercise."""

    item_id: str
    correct: bool
    score: float
    verdict: str  # "correct" | "partial" | "incorrect"
    feedback: str = ""
    explanation: str = ""
    key_points_met: tuple[str, ...] = ()
    key_points_missed: tuple[str, ...] = ()
    mastery_before: dict[str, float] = field(default_factory=dict)
    mastery_after: dict[str, float] = field(default_factory=dict)
    correct_answer: str = ""  # shown once answered: "B. The discriminator..." or "GAN"
    next_review: datetime | None = None


@dataclass(frozen=True)
class HintView:
    level: int  # 1 nudge, 2 pointer to the section, 3 a worked step
    text: str


@dataclass(frozen=True)
class QuizSummaryView:
    answered: int
    correct: int
    score: float
    mastery_before: dict[str, float] = field(default_factory=dict)
    mastery_after: dict[str, float] = field(default_factory=dict)
    review_next: tuple[str, ...] = ()  # what to study next, one line each ("GANs: 1 of 3 right")
    stopped: str = ""  # why it ended early: "mastered", "exhausted", ... ("" or "length": it ran its course)


@dataclass(frozen=True)
class MasteryRow:
    """One bar on the progress screen (a concept or an objective)."""

    id: str
    name: str
    p_known: float
    attempts: int = 0
    correct: int = 0


@dataclass(frozen=True)
class AttemptRow:
    item_id: str
    correct: bool
    score: float
    created: datetime | None = None
    concepts: tuple[str, ...] = ()
    label: str = ""  # the item's stem or scenario, shortened


@dataclass(frozen=True)
class DueRow:
    item_id: str
    due: datetime | None = None
    label: str = ""


@dataclass(frozen=True)
class NextStep:
    """The suggestion at the bottom of the progress screen, and what it does."""

    text: str
    action: Literal["quiz", "exercise", "lesson", "review", "none"] = "none"
    concepts: tuple[str, ...] = ()
    section_id: str | None = None


@dataclass(frozen=True)
class ProgressView:
    concepts: tuple[MasteryRow, ...] = ()
    objectives: tuple[MasteryRow, ...] = ()
    recent: tuple[AttemptRow, ...] = ()
    due: tuple[DueRow, ...] = ()
    next_step: NextStep | None = None


@dataclass(frozen=True)
class Readiness:
    """How far the tutor has got loading; shown on every screen."""

    state: Literal["starting", "loading", "ready", "failed"]
    detail: str = ""
    fix: str = ""

    @property
    def ready(self) -> bool:
        return self.state == "ready"
