"""Result types of the answer pipeline (re-exported by `tutor.llm.answer`, where the contract names them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Profile:
    """How the learner wants to be taught; ``weak_concepts`` are concept ids, weakest first."""

    level: str = "beginner"
    style: str = "example"
    weak_concepts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """Lesson text shown with an answer, quoted with its section."""

    section_id: str
    title: str
    text: str


@dataclass(frozen=True)
class Source:
    """A section retrieval found for the question, and its retrieval score."""

    section_id: str
    title: str
    score: float


@dataclass
class AnswerResult:
    """One answer. ``answer`` is the model's explanation only; the lesson's own words are in ``evidence``.

    ``grounded`` is the share of the explanation the evidence supports (0..1; None when
    the model was not called). ``supported`` is False when it is under the measured
    threshold: the explanation must then not be presented as fact (``notice`` says so).
    """

    question: str
    answer: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    in_scope: bool = True
    grounded: float | None = None
    sources: list[Source] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False
    model_id: str = ""
    adapter_id: str | None = None
    supported: bool | None = None
    notice: str = ""
    scope_score: float | None = None
    key_sentence: str = ""
    claims: list[tuple[str, float]] = field(default_factory=list)  # judged sentences and their evidence support

    def to_json(self) -> dict[str, Any]:
        """The `tutor ask --json` object."""
        return {
            "question": self.question,
            "answer": self.answer,
            "evidence": [{"section_id": e.section_id, "title": e.title, "text": e.text} for e in self.evidence],
            "in_scope": self.in_scope,
            "grounded": None if self.grounded is None else round(self.grounded, 4),
            "claims": [{"sentence": s, "support": round(v, 4)} for s, v in self.claims],
            "supported": self.supported,
            "notice": self.notice,
            "sources": [{"section_id": s.section_id, "title": s.title, "score": round(s.score, 4)} for s in self.sources],
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
            "cancelled": self.cancelled,
            "model_id": self.model_id,
            "adapter_id": self.adapter_id,
        }


@dataclass(frozen=True)
class AnswerEvent:
    """A streamed step: "evidence" (partial result), "delta" (next text piece), "done" (final result)."""

    kind: Literal["evidence", "delta", "done"]
    text: str = ""
    result: AnswerResult | None = None
