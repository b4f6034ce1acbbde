"""Simulated learners, to measure item selection without real students.

Each simulated learner has a true state per concept (knows it or not) that is
consistent with the prerequisite graph (nobody knows GANs without neural
networks), drawn with a per-learner ability so the population ranges from
novices to experts. A learner who knows every concept of an item answers right
unless they slip; one who does not, guesses (a random option; almost never the
right scenario answer). The true state does not change during the quiz, so
"classified correctly" is well defined: the engine's BKT estimate says mastered
(p_known >= 0.95) exactly for the concepts the learner knows.

`run_policy` drives the real `QuizEngine` (with the in-memory store) so the
measured policy is the shipped one, not a re-implementation.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from tutor.content.model import Course
from tutor.learner.bkt import MASTERY_THRESHOLD
from tutor.learner.memory import MemoryStore
from tutor.learner.params import ParamSet
from tutor.quiz.grading import ScenarioAnswer
from tutor.quiz.model import MODEL_TYPES, MultipleChoice, QuestionBank, Scenario
from tutor.quiz.selection import Selector

SCENARIO_GUESS = 0.05  # chance that a learner who does not know picks an accepted type and explains it
WRONG_EXPLANATION = "I am not sure which one fits."


@dataclass(frozen=True)
class SimLearner:
    name: str
    knows: dict[str, bool]
    slip: float
    ability: float


def _topological(course: Course) -> list[str]:
    done: list[str] = []
    pending = [c.id for c in course.concepts]
    prereqs = {c.id: tuple(c.prerequisites) for c in course.concepts}
    while pending:
        progressed = False
        for cid in list(pending):
            if all(p in done or p not in prereqs for p in prereqs[cid]):
                done.append(cid)
                pending.remove(cid)
                progressed = True
        if not progressed:  # a cycle: keep the rest in course order
            done += pending
            break
    return done


def sample_learners(course: Course, n: int, seed: int = 0) -> list[SimLearner]:
    """A population from novices to experts, each consistent with the prerequisites."""
    rng = random.Random(seed)
    order = _topological(course)
    prereqs = {c.id: tuple(c.prerequisites) for c in course.concepts}
    learners = []
    for i in range(n):
        ability = rng.uniform(0.05, 0.98)
        knows: dict[str, bool] = {}
        for cid in order:
            ready = all(knows.get(p, True) for p in prereqs[cid])
            knows[cid] = ready and rng.random() < ability
        learners.append(SimLearner(f"sim-{i:04d}", knows, rng.uniform(0.03, 0.15), ability))
    return learners


def simulated_answer(learner: SimLearner, item: MultipleChoice | Scenario, rng: random.Random):
    """What the simulated learner answers: right if they know the item's concepts and do not slip."""
    knows = all(learner.knows.get(c, False) for c in item.concepts)
    if isinstance(item, MultipleChoice):
        if knows and rng.random() >= learner.slip:
            return item.answer
        if knows:  # a slip: one of the wrong options
            return rng.choice([o.key for o in item.options if o.key != item.answer])
        return rng.choice([o.key for o in item.options])
    right = rng.random() >= learner.slip if knows else rng.random() < SCENARIO_GUESS
    if right:
        return ScenarioAnswer(item.accepted[0], item.model_answer)
    wrong = [t for t in MODEL_TYPES if t not in item.accepted]
    return ScenarioAnswer(rng.choice(wrong), WRONG_EXPLANATION)


@dataclass
class Trace:
    """One simulated quiz: when (after how many items) the learner was first classified correctly."""

    learner: str
    items: int  # items answered before the quiz stopped
    classified_at: int | None  # None: never classified correctly within the quiz
    stopped: str = ""
    correct_at_end: bool = False
    history: list[bool] = field(default_factory=list)
    wrong_at_end: tuple[str, ...] = ()  # concepts still classified wrongly when the quiz stopped


def classified(mastery: dict[str, float], learner: SimLearner, concepts: Sequence[str]) -> bool:
    return all((mastery[c] >= MASTERY_THRESHOLD) == learner.knows.get(c, False) for c in concepts)


def run_policy(
    course: Course,
    bank: QuestionBank,
    learners: Sequence[SimLearner],
    selector: Callable[[], Selector],
    *,
    grader=None,
    kind: str | None = None,
    seed: int = 0,
    max_items: int | None = None,
    params=None,
    stores: list | None = None,
) -> list[Trace]:
    """Quiz every simulated learner with one selection policy; the trace of each."""
    from tutor.quiz.engine import QuizEngine

    traces = []
    for index, learner in enumerate(learners):
        rng = random.Random(seed * 1_000_003 + index)
        store = MemoryStore()
        tick = [datetime(2025, 1, 1, tzinfo=timezone.utc)]

        def clock(tick=tick) -> datetime:
            tick[0] += timedelta(seconds=30)
            return tick[0]

        engine = QuizEngine(store, course, bank, selector=selector, clock=clock, grader=grader,
                            params=params if params is not None else ParamSet())
        if stores is not None:
            stores.append(store)
        record = store.get_or_create_learner(learner.name)
        pool_size = len([i for i in bank.items if kind is None or i.kind == kind])
        session = engine.start(record.id, length=max_items or pool_size, kind=kind)
        concepts = session.targeted
        history = [classified(session.mastery, learner, concepts)]
        while (item := session.next_item()) is not None:
            session.submit(simulated_answer(learner, item, rng))
            history.append(classified(session.mastery, learner, concepts))
        summary = session.end()
        first = next((i for i, ok in enumerate(history) if ok), None)
        final = session.mastery
        wrong = tuple(c for c in concepts if (final[c] >= MASTERY_THRESHOLD) != learner.knows.get(c, False))
        traces.append(Trace(learner.name, summary.answered, first, summary.stopped, history[-1], history, wrong))
    return traces


def items_to_classify(traces: Sequence[Trace], share: float = 0.95) -> int | None:
    """Fewest items after which `share` of the learners had been classified correctly (None: never)."""
    times = sorted(t.classified_at for t in traces if t.classified_at is not None)
    needed = int(-(-share * len(traces) // 1))  # ceil
    if len(times) < needed or needed == 0:
        return None
    return times[needed - 1]


def synthetic_bank(course: Course, per_concept: int = 8) -> QuestionBank:
    """A bank with `per_concept` single-concept four-option items for every concept.

    Measures the selection policy itself, apart from how thin the shipped bank is on some
    concepts (a concept with three items cannot show mastery after one slip, whatever the policy).
    """
    from tutor.quiz.model import Option

    items = []
    for concept in course.concepts:
        section = next((s.id for s in course.sections() if concept.id in s.concepts), next(course.sections()).id)
        for k in range(per_concept):
            options = tuple(Option(key=key, text=f"option {key}", feedback=f"feedback {key}") for key in "ABCD")
            items.append(
                MultipleChoice(
                    id=f"syn-{concept.id}-{k + 1}",
                    concepts=(concept.id,),
                    objective=concept.objective,
                    difficulty=1 + k % 5,
                    stem=f"Synthetic question {k + 1} on {concept.name}",
                    options=options,
                    answer="ABCD"[k % 4],
                    sections=(section,),
                )
            )
    return QuestionBank(course_id=course.id, version=f"synthetic-{per_concept}", items=tuple(items))


SHARES = (0.5, 0.8, 0.9, 0.95)


@dataclass(frozen=True)
class PolicyFigures:
    policy: str
    items_to: dict[float, int | None]  # share of learners -> items needed (None: not reached)
    classified_ever: float  # share of learners classified correctly at some point
    classified_at_end: float
    mean_items: float  # items asked before the quiz stopped
    wrong_at_end: dict[str, int] = field(default_factory=dict)  # concept -> learners misclassified at the end

    def to_dict(self) -> dict:
        return {
            "policy": self.policy,
            "items_to_classify": {f"{int(s * 100)}%": v for s, v in self.items_to.items()},
            "classified_ever": round(self.classified_ever, 4),
            "classified_at_end": round(self.classified_at_end, 4),
            "mean_items": round(self.mean_items, 2),
            "misclassified_at_end": self.wrong_at_end,
        }


def figures(policy: str, traces: Sequence[Trace], shares: Sequence[float] = SHARES) -> PolicyFigures:
    n = len(traces)
    return PolicyFigures(
        policy=policy,
        items_to={s: items_to_classify(traces, s) for s in shares},
        classified_ever=sum(t.classified_at is not None for t in traces) / n,
        classified_at_end=sum(t.correct_at_end for t in traces) / n,
        mean_items=sum(t.items for t in traces) / n,
        wrong_at_end=dict(Counter(c for t in traces for c in t.wrong_at_end).most_common()),
    )


def compare(
    course: Course,
    bank: QuestionBank,
    learners: Sequence[SimLearner],
    *,
    grader=None,
    kind: str | None = None,
    seed: int = 0,
) -> list[PolicyFigures]:
    """Adaptive, fixed-order and random selection on the same learners (same answer randomness)."""
    from tutor.quiz.selection import AdaptiveSelector, FixedOrderSelector, RandomSelector

    counter = itertools.count()
    policies: list[tuple[str, Callable[[], Selector]]] = [
        ("adaptive", AdaptiveSelector),
        ("fixed", FixedOrderSelector),
        ("random", lambda: RandomSelector(seed * 1_000_003 + next(counter))),  # a new order per learner
    ]
    return [
        figures(name, run_policy(course, bank, learners, factory, grader=grader, kind=kind, seed=seed))
        for name, factory in policies
    ]
