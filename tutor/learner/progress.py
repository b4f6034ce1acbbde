"""A learner's progress: mastery per concept and objective, recent answers, reviews due, what next.

Read-only over the store; shared by `tutor progress`, the app's progress view
and the instructor's per-learner report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from tutor.content.model import Course
from tutor.learner.bkt import MASTERY_THRESHOLD
from tutor.learner.params import ParamSet
from tutor.quiz.model import MultipleChoice, QuestionBank
from tutor.store.records import AttemptRecord, ReviewRecord


@dataclass(frozen=True)
class ConceptProgress:
    concept_id: str
    name: str
    objective: str
    p_known: float
    mastered: bool
    attempts: int
    correct: int
    items: int  # items on this concept in the bank
    practised: bool  # at least one answer recorded

    @property
    def id(self) -> str:
        return self.concept_id


@dataclass(frozen=True)
class ObjectiveProgress:
    objective_id: str
    text: str
    mastery: float  # mean p_known of its concepts that have items
    mastered: int
    concepts: int

    @property
    def id(self) -> str:
        return self.objective_id

    @property
    def name(self) -> str:
        return self.text


@dataclass(frozen=True)
class DueReview:
    item_id: str
    kind: str
    title: str  # the start of the stem or scenario
    due: datetime
    overdue: bool

    @property
    def label(self) -> str:
        return self.title


@dataclass(frozen=True)
class Progress:
    learner_id: int
    concepts: list[ConceptProgress]
    objectives: list[ObjectiveProgress]
    recent: list[AttemptRecord]
    reviews: list[DueReview]
    next_step: str
    answered: int = 0
    correct: int = 0
    due_now: int = 0
    generated: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def to_dict(self) -> dict:
        return {
            "learner_id": self.learner_id,
            "answered": self.answered,
            "correct": self.correct,
            "due_now": self.due_now,
            "next_step": self.next_step,
            "concepts": [
                {"id": c.concept_id, "name": c.name, "objective": c.objective, "p_known": round(c.p_known, 4),
                 "mastered": c.mastered, "attempts": c.attempts, "correct": c.correct, "items": c.items}
                for c in self.concepts
            ],
            "objectives": [
                {"id": o.objective_id, "text": o.text, "mastery": round(o.mastery, 4), "mastered": o.mastered,
                 "concepts": o.concepts}
                for o in self.objectives
            ],
            "reviews": [
                {"item_id": r.item_id, "kind": r.kind, "title": r.title, "due": r.due.isoformat(),
                 "overdue": r.overdue}
                for r in self.reviews
            ],
            "recent": [
                {"item_id": a.item_id, "correct": a.correct, "score": a.score, "hints_used": a.hints_used,
                 "created": a.created.isoformat()}
                for a in self.recent
            ],
        }


def _title(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _all_reviews(store, learner_id: int, now: datetime) -> list[ReviewRecord]:
    reviews = getattr(store, "reviews", None)
    if callable(reviews):
        return list(reviews(learner_id))
    return store.due_reviews(learner_id, now + timedelta(days=365 * 100))


def learner_progress(
    store, course: Course, bank: QuestionBank, learner_id: int, *, params: ParamSet | None = None,
    now: datetime | None = None, recent: int = 10, upcoming: int = 10,
) -> Progress:
    """Everything a learner (or their instructor) wants to see about where they stand."""
    if params is None:
        from tutor.learner.params import load_params

        params = load_params(course.id)
    now = now or datetime.now(timezone.utc)
    stored = store.mastery(learner_id)
    items_per_concept: dict[str, int] = {}
    for item in bank.items:
        for c in item.concepts:
            items_per_concept[c] = items_per_concept.get(c, 0) + 1
    concepts = []
    for concept in course.concepts:
        record = stored.get(concept.id)
        p = record.p_known if record else params.for_concept(concept.id).p_init
        concepts.append(ConceptProgress(
            concept_id=concept.id, name=concept.name, objective=concept.objective, p_known=p,
            mastered=p >= MASTERY_THRESHOLD, attempts=record.attempts if record else 0,
            correct=record.correct if record else 0, items=items_per_concept.get(concept.id, 0),
            practised=record is not None,
        ))
    objectives = []
    for objective in course.objectives:
        mine = [c for c in concepts if c.objective == objective.id and c.items > 0]
        mastery = sum(c.p_known for c in mine) / len(mine) if mine else 0.0
        objectives.append(ObjectiveProgress(objective.id, objective.text, mastery,
                                            sum(c.mastered for c in mine), len(mine)))
    by_id = {item.id: item for item in bank.items}
    reviews = []
    for r in _all_reviews(store, learner_id, now):
        item = by_id.get(r.item_id)
        if item is None or r.due is None:
            continue  # an item no longer in the bank
        text = item.stem if isinstance(item, MultipleChoice) else item.scenario
        reviews.append(DueReview(r.item_id, item.kind, _title(text), r.due, r.due <= now))
    reviews.sort(key=lambda r: r.due)
    due_now = sum(r.overdue for r in reviews)
    history = store.attempts(learner_id)
    next_step = _next_step(course, concepts, due_now)
    return Progress(
        learner_id=learner_id,
        concepts=concepts,
        objectives=objectives,
        recent=history[-recent:][::-1],
        reviews=reviews[:upcoming],
        next_step=next_step,
        answered=len(history),
        correct=sum(a.correct for a in history),
        due_now=due_now,
        generated=now,
    )


def _next_step(course: Course, concepts: list[ConceptProgress], due_now: int) -> str:
    if due_now:
        return f"{due_now} item(s) due for review: take a quiz (tutor quiz) to review them."
    by_id = {c.concept_id: c for c in concepts}
    ready = [
        c for c in concepts
        if c.items > 0 and not c.mastered
        and all(by_id[p].mastered or by_id[p].items == 0 for p in course.concept(c.concept_id).prerequisites
                if p in by_id)
    ]
    if not ready:
        ready = [c for c in concepts if c.items > 0 and not c.mastered]
    if not ready:
        return "Every concept with questions is mastered; come back when reviews fall due."
    weakest = min(ready, key=lambda c: c.p_known)
    return f"Practise {weakest.name}: tutor quiz --concept {weakest.concept_id}"
