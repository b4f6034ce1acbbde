"""Which item to ask next: the adaptive policy, and the two baselines it is measured against.

Adaptive (the quiz's policy):
1. an item due for spaced review comes first (when several are due, the one
   on the concept the learner model is least sure about; then soonest due),
   for up to half of the quiz (``REVIEW_SHARE``); due items beyond that wait
   for the next quiz unless nothing else is left to ask. Without the cap a
   learner who missed many items gets quizzes made only of those misses,
   asked again ten minutes later before any study: `tutor eval adaptive`
   measured 60% of the adaptive policy's items as reviews and 0.63 of fixed
   order's items to classify 95% of learners, against 0.41 with the cap;
2. otherwise, among the targeted concepts that are not mastered and whose
   prerequisites are mastered (p_known >= 0.95), the one an answer tells most
   about: the largest expected information gain on "knows it or not" (BKT with
   the default slip and guess), ties to the weaker concept. A concept still
   undecided (near its prior, or after one lucky answer) comes before one
   already confidently failed, which is practised again once the open
   questions are settled. A prerequisite with no items
   in this quiz is looked through to its own prerequisites; one outside the
   targeted concepts never blocks, so "quiz me on GANs" quizzes GANs;
3. among that concept's items: one not seen before if possible; one whose
   other concepts are already known (an item on two concepts says little about
   one while the other is unknown, so it waits); the difficulty (1..5) closest
   to what the learner's mastery suggests;
4. never an item already asked in this quiz.
A concept failed twice in a row is set aside (more items right away would be
wheel-spinning) and comes back only when nothing else is left, while it keeps
blocking its dependants. A prerequisite whose items are used up without a
verdict stops blocking, so a quiz never stalls on a thin bank.

The fixed-order and random policies exist for `tutor eval adaptive`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tutor.learner.bkt import DEFAULT_PARAMS, MASTERY_THRESHOLD, BKTParams
from tutor.quiz.model import MultipleChoice, Scenario

Item = MultipleChoice | Scenario
INFORMATIVE = 0.9  # an item is worth asking for a concept when its other concepts are this likely known
PARK_AFTER = 2  # consecutive wrong answers on a concept that set it aside for the rest of the quiz
REVIEW_SHARE = 0.5  # at most this share of a quiz (rounded up) goes to due reviews before fresh items


@dataclass(frozen=True)
class SelectionState:
    """Everything a policy may look at; built by the session before each choice."""

    pool: Sequence[Item]  # the quiz's candidate items, in bank order
    targeted: tuple[str, ...]  # concept ids the quiz is about (those with items in the pool)
    prerequisites: Mapping[str, tuple[str, ...]]  # effective prerequisites among targeted concepts
    mastery: Mapping[str, float]  # p_known per concept
    asked: frozenset[str]  # item ids already asked in this quiz
    due: Sequence[str] = ()  # item ids due for review, soonest first
    seen: frozenset[str] = field(default_factory=frozenset)  # item ids answered in earlier quizzes
    wrong_streak: Mapping[str, int] = field(default_factory=dict)  # consecutive wrong answers per concept, this quiz
    length: int | None = None  # the quiz's length (None: unknown, due reviews are not capped)
    reviews_asked: int = 0  # items asked in this quiz because they were due

    def review_slots(self, share: float | None) -> int | None:
        """How many more due reviews may come first in this quiz (None: no cap)."""
        if share is None or self.length is None:
            return None
        return max(0, max(1, math.ceil(self.length * share)) - self.reviews_asked)

    def remaining(self) -> list[Item]:
        return [item for item in self.pool if item.id not in self.asked]

    def mastered(self, concept: str) -> bool:
        return self.mastery.get(concept, 0.0) >= MASTERY_THRESHOLD

    def parked(self, concept: str) -> bool:
        """Failed PARK_AFTER times in a row in this quiz: more items now would be wheel-spinning."""
        return self.wrong_streak.get(concept, 0) >= PARK_AFTER


class Selector(Protocol):
    name: str

    def choose(self, state: SelectionState) -> Item | None: ...


def effective_prerequisites(
    prerequisites: Mapping[str, tuple[str, ...]], measurable: set[str]
) -> dict[str, tuple[str, ...]]:
    """Prerequisites restricted to measurable concepts, looking through those without items.

    If B has no items and A -> B -> C, C's effective prerequisite is A: B can never be shown mastered,
    so it must not block C forever, but what B rests on still matters.
    """
    out: dict[str, tuple[str, ...]] = {}
    for concept in measurable:
        found: list[str] = []
        stack = list(prerequisites.get(concept, ()))
        visited: set[str] = set()
        while stack:
            pre = stack.pop(0)
            if pre in visited or pre == concept:
                continue
            visited.add(pre)
            if pre in measurable:
                found.append(pre)
            elif pre in prerequisites:
                stack.extend(prerequisites[pre])
        out[concept] = tuple(dict.fromkeys(found))
    return out


def target_difficulty(p_known: float) -> float:
    """The difficulty (1..5) that suits a mastery: easy items for novices, hard ones near mastery."""
    return 1.0 + 4.0 * max(0.0, min(1.0, p_known))


def others_known(item: Item, concept: str, mastery: Mapping[str, float]) -> float:
    """Chance the learner knows the item's other concepts: an item that also needs unknown ones says
    little about this one (a wrong answer may be the other concept's fault)."""
    return math.prod(mastery.get(c, 0.0) for c in item.concepts if c != concept)


def _entropy(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -(p * math.log2(p) + (1.0 - p) * math.log2(1.0 - p))


def information_gain(p_known: float, params: BKTParams = DEFAULT_PARAMS) -> float:
    """Expected drop in uncertainty (bits) about "knows the concept" from one more answer.

    Largest for an undecided concept, near zero for one already known or confidently not known:
    asking where the learner model is unsure settles the learner's state in the fewest items.
    """
    p = max(0.0, min(1.0, p_known))
    right = p * (1.0 - params.p_slip) + (1.0 - p) * params.p_guess
    if right <= 0.0 or right >= 1.0:
        return 0.0
    after_right = p * (1.0 - params.p_slip) / right
    after_wrong = p * params.p_slip / (1.0 - right)
    return _entropy(p) - right * _entropy(after_right) - (1.0 - right) * _entropy(after_wrong)


class AdaptiveSelector:
    """The quiz's policy (see the module docstring).

    ``review_share`` (default ``REVIEW_SHARE``): the share of a quiz that due reviews may fill
    before fresh items; None lets them fill the whole quiz (measured by `tutor eval adaptive
    --variant` as "adaptive-uncapped").
    """

    name = "adaptive"

    def __init__(self, *, review_share: float | None = REVIEW_SHARE) -> None:
        self.review_share = review_share
        if review_share is None:
            self.name = "adaptive-uncapped"

    def open_concepts(self, state: SelectionState, *, informative: bool = True) -> list[str]:
        """Targeted concepts not mastered that still have an unasked item worth asking.

        With ``informative``, only items whose other concepts are probably known count: an item on
        "AI subsets and neural networks" is kept for AI subsets until neural networks is known.
        """
        practisable: set[str] = set()
        for item in state.remaining():  # one pass over the items, not one per concept
            for c in item.concepts:
                if c not in practisable and (not informative or others_known(item, c, state.mastery) >= INFORMATIVE):
                    practisable.add(c)
        return [c for c in state.targeted if c in practisable and not state.mastered(c)]

    def eligible(self, state: SelectionState) -> list[str]:
        """Open concepts whose prerequisites are mastered or no longer practisable in this quiz.

        A prerequisite blocks while it is unmastered and still has items worth asking, or while the
        learner keeps failing it (set aside): its dependants wait. One whose items are used up
        without a verdict stops blocking, so a quiz never stalls on a thin part of the bank. Concepts
        set aside come back only when nothing else is left (spacing rather than drilling).
        """
        for informative in (True, False):
            open_ = self.open_concepts(state, informative=informative)
            blocking = set(open_) | {c for c in state.targeted if state.parked(c) and not state.mastered(c)}
            ready = [c for c in open_ if not any(pre in blocking for pre in state.prerequisites.get(c, ()))]
            fresh = [c for c in ready if not state.parked(c)]
            if fresh or ready:
                return fresh or ready
        return []

    def choose(self, state: SelectionState) -> Item | None:
        remaining = state.remaining()
        if not remaining:
            return None
        by_id = {item.id: item for item in remaining}
        due = [by_id[item_id] for item_id in state.due if item_id in by_id]
        slots = state.review_slots(self.review_share)
        deferred: list[Item] = []
        if slots == 0:  # this quiz's share of reviews is spent: the rest wait unless nothing else is left
            due, deferred = [], due
        if due:  # the most informative due item first; ties: the soonest due (the order of state.due)
            return max(due, key=lambda item: round(max(
                information_gain(state.mastery.get(c, 0.0)) for c in item.concepts), 6))
        eligible = self.eligible(state)
        if not eligible:
            return deferred[0] if deferred else None
        order = {c: i for i, c in enumerate(state.targeted)}
        concept = min(
            eligible,
            key=lambda c: (-round(information_gain(state.mastery.get(c, 0.0)), 6), state.mastery.get(c, 0.0), order[c]),
        )
        target = target_difficulty(state.mastery.get(concept, 0.0))
        candidates = [(i, item) for i, item in enumerate(remaining) if concept in item.concepts]

        def wastes(item: Item) -> bool:
            # asking it now would spend the only evidence it could give about another open concept
            return any(
                not state.mastered(o) and others_known(item, o, state.mastery) < INFORMATIVE
                for o in item.concepts if o != concept and o in state.targeted
            )

        _, best = min(
            candidates,
            key=lambda pair: (
                pair[1].id in state.seen,
                others_known(pair[1], concept, state.mastery) < INFORMATIVE,
                wastes(pair[1]),
                abs(pair[1].difficulty - target),
                pair[0],
            ),
        )
        return best


class FixedOrderSelector:
    """Bank order, as a workbook would ask them (baseline), going on where the last quiz stopped."""

    name = "fixed"

    def __init__(self) -> None:
        self._last: str | None = None  # kept across a learner's quizzes when one instance serves them all

    def choose(self, state: SelectionState) -> Item | None:
        # a workbook goes on after the last item done, and starts over at the end
        ids = [item.id for item in state.pool]
        start = ids.index(self._last) + 1 if self._last in ids else 0
        for k in range(len(ids)):
            item = state.pool[(start + k) % len(ids)]
            if item.id not in state.asked:
                self._last = item.id
                return item
        return None


class RandomSelector:
    """Uniformly random unasked item, one not done in an earlier quiz if any is left (baseline)."""

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def choose(self, state: SelectionState) -> Item | None:
        remaining = state.remaining()
        fresh = [item for item in remaining if item.id not in state.seen]
        return self._rng.choice(fresh or remaining) if remaining else None
