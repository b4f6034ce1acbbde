"""The adaptive quiz engine: one API for the Textual app, the plain-terminal quiz and the tests.

`QuizEngine.start` opens a `QuizSession` for a learner; the session hands out
items (`next_item`), grades answers (`submit`), gives graduated hints (`hint`)
and ends with a summary (`end`). It holds no screen code.

Everything a learner does is written through the store *as it happens*: each
answer is one committed attempt, followed by the mastery update of each of the
item's concepts (BKT) and the item's next review date (FSRS); each hint is
recorded when it is shown. A crash between two answers therefore loses neither.
The attempt is written first: if the process dies between the attempt and its
mastery update, the history (the source of truth) is complete and
`tutor learner fit` re-derives parameters from it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tutor.content.model import Course
from tutor.learner import bkt
from tutor.learner.params import ParamSet
from tutor.learner.review import schedule
from tutor.quiz.errors import QuizError
from tutor.quiz.grading import (
    DEFAULT_THRESHOLDS,
    ScenarioAnswer,
    ScenarioGrader,
    Thresholds,
    grade_multiple_choice,
    scenario_feedback,
)
from tutor.quiz.hints import MAX_LEVEL, Hint, make_hint
from tutor.quiz.model import MultipleChoice, QuestionBank, Scenario
from tutor.quiz.model_types import LABELS, parse_model_type
from tutor.quiz.ports import QuizStore
from tutor.quiz.selection import AdaptiveSelector, SelectionState, Selector, effective_prerequisites
from tutor.store.records import AttemptIn

Item = MultipleChoice | Scenario
KINDS = ("multiple_choice", "scenario")
SCENARIO_GUESS = 0.1  # chance of a right scenario answer without knowing (ten model types to pick from)
HINT_DISCOUNT = 0.15  # each hint level used weakens a right answer as evidence of knowing
VERDICT_CREDIT = {"correct": 1.0, "partial": 0.5, "incorrect": 0.0}

__all__ = [
    "ExplainContext", "GradeResult", "Hint", "QuizEngine", "QuizError", "QuizSession", "QuizSummary",
    "ReviewSuggestion", "ScenarioAnswer",
]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class GradeResult:
    """The grade of one answer, with feedback to show and the mastery it moved."""

    item_id: str
    correct: bool
    score: float  # 0..1
    verdict: str  # "correct" | "partial" | "incorrect"
    feedback: str  # about the learner's own answer
    explanation: str  # the right answer and why
    key_points_met: tuple[str, ...]
    key_points_missed: tuple[str, ...]
    mastery_before: dict[str, float]
    mastery_after: dict[str, float]
    kind: str = "multiple_choice"
    answer: str = ""  # the answer as recorded ("B", or "gan: because ...")
    correct_answer: str = ""  # shown only now that the item is answered
    hints_used: int = 0
    flags: tuple[str, ...] = ()  # scenario guard rails that tripped (empty, gibberish, copied, off_topic)
    next_review: datetime | None = None


@dataclass(frozen=True)
class ReviewSuggestion:
    """A concept to study next, and where."""

    concept_id: str
    name: str
    p_known: float
    sections: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class QuizSummary:
    answered: int
    correct: int
    score: float  # mean score of the answered items
    mastery_before: dict[str, float]
    mastery_after: dict[str, float]
    review_next: list[ReviewSuggestion]
    results: tuple[GradeResult, ...] = ()
    hints_used: int = 0
    stopped: str = "ended"  # "mastered" | "length" | "exhausted" | "blocked" | "ended"


@dataclass(frozen=True)
class ExplainContext:
    """What the tutor needs to explain an answered item (never available before the answer)."""

    item: Item
    question: str  # the stem or scenario text
    learner_answer: str  # e.g. "C. Data and algorithms" or "gan: because ..."
    correct_answer: str
    feedback: str
    sections: tuple[str, ...]
    result: GradeResult


@dataclass
class _Pending:
    item: Item
    shown_at: float
    hints: int = 0


class QuizEngine:
    """Starts quiz sessions over one course and question bank, writing progress to a store."""

    def __init__(
        self,
        store: QuizStore,
        course: Course,
        bank: QuestionBank,
        embedder: Any = None,
        *,
        params: ParamSet | None = None,  # None: fitted by `tutor learner fit` if saved, else defaults
        selector: Callable[[], Selector] | None = None,
        clock: Callable[[], datetime] | None = None,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        grader: ScenarioGrader | None = None,
    ) -> None:
        self.store = store
        self.course = course
        self.bank = bank
        self.params = params if params is not None else _fitted_params(course.id)
        self._embedder = embedder
        self._selector_factory = selector or AdaptiveSelector
        self.clock = clock or _utcnow
        self._thresholds = thresholds
        self._grader = grader
        concept_ids = [c.id for c in course.concepts]
        self._concept_order = {cid: i for i, cid in enumerate(concept_ids)}
        self._prerequisites = {c.id: tuple(c.prerequisites) for c in course.concepts}

    @property
    def grader(self) -> ScenarioGrader:
        """The scenario grader; MiniLM is loaded on first use (multiple-choice quizzes never load it)."""
        if self._grader is None:
            from tutor.quiz.embedding import as_embed, load_grading_embedder

            embed = as_embed(self._embedder) if self._embedder is not None else load_grading_embedder()
            self._grader = ScenarioGrader(embed, self._thresholds, course_vocabulary(self.course, self.bank))
        return self._grader

    def start(
        self,
        learner_id: int,
        concepts: Iterable[str] | None = None,
        objective: str | None = None,
        length: int = 10,
        kind: str | None = None,
    ) -> QuizSession:
        """Open a quiz: optionally limited to concepts, an objective or one kind of item."""
        if length < 1:
            raise QuizError(f"quiz length must be at least 1 (got {length})")
        if kind is not None and kind not in KINDS:
            raise QuizError(f"unknown item kind '{kind}'; use one of: {', '.join(KINDS)}")
        known = set(self._concept_order)
        wanted: list[str] | None = None
        if concepts:
            wanted = list(dict.fromkeys(concepts))
            unknown = [c for c in wanted if c not in known]
            if unknown:
                raise QuizError(f"unknown concept(s): {', '.join(unknown)}; known: {', '.join(self._concept_order)}")
        if objective is not None:
            objectives = {o.id for o in self.course.objectives}
            if objective not in objectives:
                raise QuizError(f"unknown objective '{objective}'; known: {', '.join(sorted(objectives))}")
            in_objective = [c.id for c in self.course.concepts if c.objective == objective]
            wanted = [c for c in (wanted or in_objective) if c in in_objective]
        items = [i for i in self.bank.items if kind is None or i.kind == kind]
        if wanted is not None:
            wanted_set = set(wanted)
            items = [i for i in items if wanted_set & set(i.concepts)]
        if not items:
            what = "these concepts" if concepts else (f"objective '{objective}'" if objective else "this course")
            raise QuizError(f"the question bank has no {kind or 'items'} for {what}")
        covered = {c for i in items for c in i.concepts}
        targeted = tuple(
            c for c in self._concept_order
            if c in covered and (wanted is None or c in set(wanted))
        )
        prerequisites = effective_prerequisites(self._prerequisites, set(targeted))
        session_id = self.store.start_session(learner_id, "quiz")
        return QuizSession(self, learner_id, items, targeted, prerequisites, length, self._selector_factory(), session_id)

    # BKT helpers shared with the session
    def params_for(self, concept: str, item: Item) -> bkt.BKTParams:
        params = self.params.for_concept(concept)
        if isinstance(item, Scenario):
            return params.with_guess(min(params.p_guess, SCENARIO_GUESS))
        return params


def _fitted_params(course_id: str) -> ParamSet:
    """The parameters `tutor learner fit` saved for the course, or the defaults."""
    from tutor.learner.params import ParamsFileError, load_params

    try:
        return load_params(course_id)
    except ParamsFileError as exc:
        raise QuizError(str(exc)) from exc


def course_vocabulary(course: Course, bank: QuestionBank) -> frozenset[str]:
    """Words of the course and bank: they count as real words when spotting gibberish."""
    from tutor.quiz.text import words

    texts = [s.text + " " + s.title for s in course.sections()]
    for item in bank.items:
        if isinstance(item, Scenario):
            texts += [item.scenario, item.model_answer, *item.key_points]
        else:
            texts += [item.stem, *(o.text + " " + o.feedback for o in item.options)]
    return frozenset(w for t in texts for w in words(t))


class QuizSession:
    """One learner's quiz: items out, answers in, every step saved as it happens."""

    def __init__(
        self,
        engine: QuizEngine,
        learner_id: int,
        pool: list[Item],
        targeted: tuple[str, ...],
        prerequisites: dict[str, tuple[str, ...]],
        length: int,
        selector: Selector,
        session_id: int,
    ) -> None:
        self.engine = engine
        self.learner_id = learner_id
        self.pool = pool
        self.targeted = targeted
        self.prerequisites = prerequisites
        self.length = length
        self.selector = selector
        self.session_id = session_id
        store = engine.store
        stored = store.mastery(learner_id)
        self._mastery: dict[str, float] = {
            c.id: (stored[c.id].p_known if c.id in stored else engine.params.for_concept(c.id).p_init)
            for c in engine.course.concepts
        }
        self.mastery_start = {c: self._mastery[c] for c in targeted}
        self._seen = {a.item_id for a in store.attempts(learner_id)}
        self._asked: list[str] = []
        self._reviews_asked = 0  # items asked because they were due (a quiz's share of reviews is capped)
        self._wrong_streak: dict[str, int] = {}
        self._pending: _Pending | None = None
        self._results: list[GradeResult] = []
        self._answered: list[tuple[Item, str, GradeResult]] = []
        self._stopped: str | None = None
        self._ended = False

    # ------------------------------------------------------------------ state
    @property
    def progress(self) -> tuple[int, int]:
        """(answered, length)."""
        return len(self._results), self.length

    @property
    def mastery(self) -> dict[str, float]:
        """Current p_known of the targeted concepts."""
        return {c: self._mastery[c] for c in self.targeted}

    @property
    def current(self) -> Item | None:
        """The item waiting for an answer, if any."""
        return self._pending.item if self._pending else None

    @property
    def finished(self) -> bool:
        return self._ended or self._stopped is not None

    @property
    def stopped(self) -> str | None:
        """Why no more items come ("mastered", "length", "exhausted", "blocked", "ended"), or None."""
        return self._stopped

    def _state(self) -> SelectionState:
        asked = frozenset(self._asked)
        due = [r.item_id for r in self.engine.store.due_reviews(self.learner_id, self.engine.clock())]
        return SelectionState(
            pool=self.pool,
            targeted=self.targeted,
            prerequisites=self.prerequisites,
            mastery=self._mastery,
            asked=asked,
            due=due,
            seen=frozenset(self._seen),
            wrong_streak=self._wrong_streak,
            length=self.length,
            reviews_asked=self._reviews_asked,
        )

    # ------------------------------------------------------------------ items
    def next_item(self) -> Item | None:
        """The next item to answer (the same one until it is answered), or None when the quiz is over."""
        if self._pending is not None:
            return self._pending.item
        if self._ended or self._stopped is not None:
            return None
        if len(self._results) >= self.length:
            self._stopped = "length"
            return None
        state = self._state()
        remaining = state.remaining()
        pool_ids = {i.id for i in remaining}
        if all(state.mastered(c) for c in self.targeted) and not any(d in pool_ids for d in state.due):
            self._stopped = "mastered"
            return None
        if not remaining:
            self._stopped = "exhausted"
            return None
        item = self.selector.choose(state)
        if item is None:
            self._stopped = "blocked" if any(not state.mastered(c) for c in self.targeted) else "mastered"
            return None
        self._asked.append(item.id)
        self._reviews_asked += item.id in state.due
        self._pending = _Pending(item, time.monotonic())
        return item

    def hint(self) -> Hint:
        """The next hint level for the current item (1 nudge, 2 section, 3 worked step); recorded."""
        if self._pending is None:
            raise QuizError("there is no question waiting for an answer, so no hint to give")
        pending = self._pending
        level = min(pending.hints + 1, MAX_LEVEL)
        hint = make_hint(pending.item, level, self.engine.course)
        if level > pending.hints:
            pending.hints = level
            self.engine.store.add_hint(self.learner_id, pending.item.id, level)
        return hint

    def submit(self, answer: str | ScenarioAnswer) -> GradeResult:
        """Grade the answer to the current item; save the attempt, mastery and next review at once."""
        if self._pending is None:
            raise QuizError("there is no question waiting for an answer; ask for the next item first")
        pending = self._pending
        item = pending.item
        if isinstance(item, MultipleChoice):
            recorded, correct, score, verdict, feedback, explanation, met, missed, flags, shown = self._grade_mc(item, answer)
        else:
            recorded, correct, score, verdict, feedback, explanation, met, missed, flags, shown = self._grade_scenario(
                item, answer
            )
        now = self.engine.clock()
        store = self.engine.store
        credit = VERDICT_CREDIT[verdict] * (1.0 - HINT_DISCOUNT * pending.hints)
        store.add_attempt(
            AttemptIn(
                learner_id=self.learner_id,
                item_id=item.id,
                course_id=self.engine.bank.course_id,
                bank_version=self.engine.bank.version,
                answer=recorded,
                correct=correct,
                score=score,
                rubric_met=met,
                feedback=feedback,
                hints_used=pending.hints,
                seconds=round(time.monotonic() - pending.shown_at, 2),
                concepts=tuple(item.concepts),
                session_id=self.session_id,
                created=now,
            )
        )
        concepts = [c for c in dict.fromkeys(item.concepts) if c in self._mastery]
        before = {c: self._mastery[c] for c in concepts}
        after: dict[str, float] = {}
        for concept in concepts:
            others = math.prod(before[o] for o in concepts if o != concept)
            after[concept] = bkt.update(before[concept], credit, self.engine.params_for(concept, item), others)
            self._mastery[concept] = after[concept]
            store.set_mastery(self.learner_id, concept, after[concept], correct=correct)
            self._wrong_streak[concept] = 0 if verdict != "incorrect" else self._wrong_streak.get(concept, 0) + 1
        previous = store.review(self.learner_id, item.id)
        scheduled = schedule(previous.card if previous else None, verdict, pending.hints, now)
        store.set_review(self.learner_id, item.id, scheduled.card, scheduled.due)

        result = GradeResult(
            item_id=item.id,
            correct=correct,
            score=score,
            verdict=verdict,
            feedback=feedback,
            explanation=explanation,
            key_points_met=met,
            key_points_missed=missed,
            mastery_before=before,
            mastery_after=after,
            kind=item.kind,
            answer=recorded,
            correct_answer=shown,
            hints_used=pending.hints,
            flags=flags,
            next_review=scheduled.due,
        )
        self._results.append(result)
        self._answered.append((item, recorded, result))
        self._seen.add(item.id)
        self._pending = None
        return result

    def _grade_mc(self, item: MultipleChoice, answer: str | ScenarioAnswer):
        if not isinstance(answer, str):
            raise QuizError("this is a multiple-choice question: answer with an option letter")
        key = answer.strip().upper().rstrip(".)")
        keys = [o.key for o in item.options]
        if key not in keys:
            raise QuizError(f"'{answer.strip()}' is not an option; choose one of {', '.join(keys)}")
        correct, feedback, explanation = grade_multiple_choice(item, key)
        right = next(o for o in item.options if o.key == item.answer)
        verdict = "correct" if correct else "incorrect"
        return key, correct, float(correct), verdict, feedback, explanation, (), (), (), f"{right.key}. {right.text}"

    def _grade_scenario(self, item: Scenario, answer: str | ScenarioAnswer):
        if not isinstance(answer, ScenarioAnswer):
            raise QuizError("this is a scenario exercise: answer with a model type and an explanation")
        model_type = parse_model_type(answer.model_type)
        if model_type is None:
            raise QuizError(
                f"'{answer.model_type.strip()}' is not a model type of this course; choose one of: "
                + ", ".join(LABELS)
            )
        grade = self.engine.grader.grade(item, ScenarioAnswer(model_type, answer.explanation))
        feedback, explanation = scenario_feedback(item, answer, grade)
        met = tuple(item.key_points[i] for i in grade.key_points_met)
        missed = tuple(item.key_points[i] for i in grade.key_points_missed)
        recorded = f"{model_type}: {answer.explanation.strip()}"
        shown = ", ".join(LABELS.get(a, a) for a in item.accepted)
        flags = tuple(f for f in grade.flags if f != "unknown_type")
        return recorded, grade.verdict == "correct", grade.score, grade.verdict, feedback, explanation, met, missed, flags, shown

    # ------------------------------------------------------------------ after answering
    def explain_context(self, item_id: str | None = None) -> ExplainContext:
        """The answered item, the learner's answer and its sections, for "explain my answer".

        Only items already answered in this session qualify, so the key of an unanswered item can
        never reach the tutor's prompt.
        """
        for item, recorded, result in reversed(self._answered):
            if item_id is None or item.id == item_id:
                if isinstance(item, MultipleChoice):
                    chosen = next(o for o in item.options if o.key == recorded)
                    learner_answer = f"{chosen.key}. {chosen.text}"
                    question = item.stem
                else:
                    learner_answer = recorded
                    question = item.scenario
                return ExplainContext(
                    item=item,
                    question=question,
                    learner_answer=learner_answer,
                    correct_answer=result.correct_answer,
                    feedback=f"{result.feedback} {result.explanation}".strip(),
                    sections=tuple(item.sections),
                    result=result,
                )
        if item_id is not None and self._pending is not None and self._pending.item.id == item_id:
            raise QuizError("answer the question first: it can be explained only after it is answered")
        raise QuizError("no answered question to explain yet" if item_id is None else f"'{item_id}' was not answered in this quiz")

    def end(self) -> QuizSummary:
        """Close the quiz (idempotent) and summarise it."""
        if not self._ended:
            self._ended = True
            self._pending = None
            self.engine.store.end_session(self.session_id)
        answered = len(self._results)
        correct = sum(r.correct for r in self._results)
        score = sum(r.score for r in self._results) / answered if answered else 0.0
        return QuizSummary(
            answered=answered,
            correct=correct,
            score=round(score, 3),
            mastery_before=dict(self.mastery_start),
            mastery_after=self.mastery,
            review_next=self._review_next(),
            results=tuple(self._results),
            hints_used=sum(r.hints_used for r in self._results),
            stopped=self._stopped or "ended",
        )

    def _review_next(self, limit: int = 3) -> list[ReviewSuggestion]:
        course = self.engine.course
        open_concepts = [c for c in self.targeted if not bkt.is_mastered(self._mastery[c])]
        # study the prerequisites first: a concept whose own prerequisites are open is not suggested
        ready = [c for c in open_concepts
                 if all(bkt.is_mastered(self._mastery[p]) for p in self.prerequisites.get(c, ()))] or open_concepts
        ready.sort(key=lambda c: (self._mastery[c], self.engine._concept_order[c]))
        out = []
        for concept_id in ready[:limit]:
            concept = course.concept(concept_id)
            mine = [(item, r) for item, _, r in self._answered if concept_id in item.concepts]
            wrong_sections = [s for item, r in mine if not r.correct for s in item.sections]
            cited = [s for item in self.engine.bank.items if concept_id in item.concepts for s in item.sections]
            sections = wrong_sections or cited or [s.id for s in course.sections() if concept_id in s.concepts]
            if mine:
                right = sum(r.correct for _, r in mine)
                reason = f"{right} of {len(mine)} right in this quiz"
            else:
                blocked = [p for p in open_concepts if concept_id in self.prerequisites.get(p, ())]
                reason = ("needed first for " + ", ".join(course.concept(p).name for p in blocked)) if blocked else "not practised yet"
            out.append(ReviewSuggestion(concept_id, concept.name, self._mastery[concept_id],
                                        tuple(dict.fromkeys(sections))[:3], reason))
        return out
