"""Simulated learners, to measure item selection without real students.

Each simulated learner has a true state per concept (knows it or not) that is
consistent with the prerequisite graph (nobody knows GANs without neural
networks), drawn with a per-learner ability so the population ranges from
novices to experts. A learner who knows every concept of an item answers right
unless they slip (slip drawn per learner, 5-15%, mean 10%); one who does not,
guesses (a random option: 25% on four options; almost never the right scenario
answer). The true state does not change, so "classified correctly" is well
defined: the learner model's verdict (``bkt.decisions``: mastered at
P(known) >= 0.95, not mastered at P(known) <= 0.05 or when a prerequisite is,
undecided in between) equals the true state for every concept. An undecided
concept is *not* classified: sitting at the prior is no verdict.

A simulated learner goes on across several quizzes (``quiz_length`` items each,
``per_sitting`` quizzes one after the other, then a day's break), as a real one would: each quiz is a new session of the real
`QuizEngine` over the same in-memory store, so mastery carries over, due reviews
come first (up to half of a quiz), and an item comes back in a later quiz (spaced review, or once a
concept's fresh items are used up); never twice within one quiz. The measured
policy is the shipped one, not a re-implementation. The engine uses BKT
parameters that describe this population (``simulator_params``): slip and guess
as simulated, and (almost) no learning, since the simulated state is fixed.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from tutor.content.model import Course
from tutor.learner.bkt import BKTParams, decisions
from tutor.learner.memory import MemoryStore
from tutor.learner.params import ParamSet
from tutor.quiz.grading import ScenarioAnswer
from tutor.quiz.model import MODEL_TYPES, MultipleChoice, QuestionBank, Scenario
from tutor.quiz.selection import Selector

SLIP_RANGE = (0.05, 0.15)  # per-learner slip, uniform: mean 0.10
MC_GUESS = 0.25  # a random option among four
SCENARIO_GUESS = 0.05  # chance that a learner who does not know picks an accepted type and explains it
WRONG_EXPLANATION = "I am not sure which one fits."
QUIZ_LENGTH = 10  # items per quiz, the app's default
QUIZZES_PER_SITTING = 3  # quizzes taken one after the other, then a day's break
SIM_P_LEARN = 1e-4  # the simulated state never changes (no learning); BKT needs a rate above 0


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
        learners.append(SimLearner(f"sim-{i:04d}", knows, rng.uniform(*SLIP_RANGE), ability))
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


def simulator_params(learners: Sequence[SimLearner], concepts: Sequence[str]) -> ParamSet:
    """BKT parameters that describe the simulated population, so the eval measures selection, not a
    mis-specified model: the simulator's slip (mean) and guess, no learning, and the prior per concept
    (the share of the population that knows it; what `tutor learner fit` estimates from history)."""
    from tutor.learner.params import ConceptFit

    slip = sum(learner.slip for learner in learners) / len(learners)

    def prior(concept: str) -> float:
        share = sum(learner.knows.get(concept, False) for learner in learners) / len(learners)
        return min(0.9, max(0.06, share))  # never a verdict from the prior alone

    default = BKTParams(0.2, SIM_P_LEARN, slip, MC_GUESS)
    return ParamSet(default=default, concepts={
        c: ConceptFit(BKTParams(prior(c), SIM_P_LEARN, slip, MC_GUESS), "simulated") for c in concepts
    })


@dataclass
class Trace:
    """One simulated learner: when (after how many items) they were first classified correctly."""

    learner: str
    items: int  # items answered in all
    classified_at: int | None  # None: never classified correctly within the budget
    stopped: str = ""
    correct_at_end: bool = False
    history: list[bool] = field(default_factory=list)
    wrong_at_end: tuple[str, ...] = ()  # concepts misclassified (or undecided) when the learner stopped
    quizzes: int = 0


def classified(
    mastery: Mapping[str, float],
    learner: SimLearner,
    concepts: Sequence[str],
    prerequisites: Mapping[str, Sequence[str]] | None = None,
) -> bool:
    """Every concept has a verdict and it is the true state (undecided counts as not classified)."""
    return not misclassified(mastery, learner, concepts, prerequisites)


def misclassified(
    mastery: Mapping[str, float],
    learner: SimLearner,
    concepts: Sequence[str],
    prerequisites: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str, ...]:
    """Concepts whose verdict is missing (undecided) or differs from the true state."""
    verdicts = decisions({c: mastery[c] for c in concepts}, prerequisites or {})
    return tuple(c for c in concepts if verdicts[c] is not learner.knows.get(c, False))


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
    quiz_length: int = QUIZ_LENGTH,
    params: ParamSet | None = None,
    stores: list | None = None,
    stop_when_classified: bool = True,
    per_sitting: int = QUIZZES_PER_SITTING,
) -> list[Trace]:
    """Quiz every simulated learner with one selection policy, quiz after quiz; the trace of each.

    A learner stops once classified (with ``stop_when_classified``), when the budget of
    ``max_items`` (default: the size of the pool) is spent, or when a new quiz has nothing to ask.
    """
    from tutor.quiz.engine import QuizEngine

    pool_size = len([i for i in bank.items if kind is None or i.kind == kind])
    budget = max_items or pool_size
    if params is None:
        params = simulator_params(learners, [c.id for c in course.concepts])
    traces = []
    for index, learner in enumerate(learners):
        rng = random.Random(seed * 1_000_003 + index)
        store = MemoryStore()
        tick = [datetime(2025, 1, 1, tzinfo=timezone.utc)]

        def clock(tick=tick) -> datetime:
            tick[0] += timedelta(seconds=30)
            return tick[0]

        policy = selector()  # one instance per learner: a policy may remember across the learner's quizzes
        engine = QuizEngine(store, course, bank, selector=lambda policy=policy: policy, clock=clock, grader=grader,
                            params=params)
        if stores is not None:
            stores.append(store)
        record = store.get_or_create_learner(learner.name)
        answered, quizzes, first, stopped = 0, 0, None, ""
        history: list[bool] = []
        session = None
        while answered < budget:
            session = engine.start(record.id, length=min(quiz_length, budget - answered), kind=kind)
            concepts, prereqs = session.targeted, session.prerequisites
            if not history:
                history.append(classified(session.mastery, learner, concepts, prereqs))
                first = 0 if history[0] else None
            asked = 0
            while first is None or not stop_when_classified:
                item = session.next_item()
                if item is None:
                    break
                session.submit(simulated_answer(learner, item, rng))
                answered += 1
                asked += 1
                history.append(classified(session.mastery, learner, concepts, prereqs))
                if history[-1] and first is None:
                    first = answered
            stopped = session.end().stopped
            quizzes += 1
            if (first is not None and stop_when_classified) or asked == 0:
                break
            # the next quiz: straight on within a sitting, the next day after the sitting's last
            tick[0] += timedelta(days=1) if quizzes % per_sitting == 0 else timedelta(minutes=2)
        assert session is not None
        wrong = misclassified(session.mastery, learner, session.targeted, session.prerequisites)
        traces.append(Trace(learner.name, answered, first, stopped, not wrong, history, wrong, quizzes))
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
    mean_items: float  # items asked per learner (until classified, the budget, or nothing left to ask)
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


def compare(*args, **kwargs) -> list[PolicyFigures]:
    """Adaptive, fixed-order and random selection on the same learners: the figures of each."""
    return [figures(name, traces) for name, traces in compare_traces(*args, **kwargs).items()]


def compare_traces(
    course: Course,
    bank: QuestionBank,
    learners: Sequence[SimLearner],
    *,
    grader=None,
    kind: str | None = None,
    seed: int = 0,
    max_items: int | None = None,
    quiz_length: int = QUIZ_LENGTH,
    params: ParamSet | None = None,
    per_sitting: int = QUIZZES_PER_SITTING,
    variant: bool = False,
) -> dict[str, list[Trace]]:
    """Adaptive, fixed-order and random selection on the same learners (same answer randomness)."""
    from tutor.quiz.selection import AdaptiveSelector, FixedOrderSelector, RandomSelector

    counter = itertools.count()
    policies: list[tuple[str, Callable[[], Selector]]] = [
        ("adaptive", AdaptiveSelector),
        ("fixed", FixedOrderSelector),
        ("random", lambda: RandomSelector(seed * 1_000_003 + next(counter))),  # a new order per learner
    ]
    if variant:  # not the app's policy: due reviews may fill a whole quiz
        policies.insert(1, ("adaptive-uncapped", lambda: AdaptiveSelector(review_share=None)))
    return {
        name: run_policy(course, bank, learners, factory, grader=grader, kind=kind, seed=seed,
                         max_items=max_items, quiz_length=quiz_length, params=params, per_sitting=per_sitting)
        for name, factory in policies
    }
