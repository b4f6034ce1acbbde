"""Which item to ask next: the adaptive policy, and the two baselines it is measured against.

Adaptive (the quiz's policy):
1. an item due for spaced review comes first (soonest due first);
2. otherwise the weakest targeted concept that is not mastered and whose
   prerequisites are mastered (p_known >= 0.95). A prerequisite with no items
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

from tutor.learner.bkt import MASTERY_THRESHOLD
from tutor.quiz.model import MultipleChoice, Scenario

Item = MultipleChoice | Scenario
INFORMATIVE = 0.9  # an item is worth asking for a concept when its other concepts are this likely known
PARK_AFTER = 2  # consecutive wrong answers on a concept that set it aside for the rest of the quiz


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


class AdaptiveSelector:
    name = "adaptive"

    def open_concepts(self, state: SelectionState, *, informative: bool = True) -> list[str]:
        """Targeted concepts not mastered that still have an unasked item worth asking.

        With ``informative``, only items whose other concepts are probably known count: an item on
        "AI subsets and neural networks" is kept for AI subsets until neural networks is known.
        """
        remaining = state.remaining()
        out = []
        for c in state.targeted:
            if state.mastered(c):
                continue
            items = [i for i in remaining if c in i.concepts]
            if informative:
                items = [i for i in items if others_known(i, c, state.mastery) >= INFORMATIVE]
            if items:
                out.append(c)
        return out

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
        for item_id in state.due:
            if item_id in by_id:
                return by_id[item_id]
        eligible = self.eligible(state)
        if not eligible:
            return None
        order = {c: i for i, c in enumerate(state.targeted)}
        concept = min(eligible, key=lambda c: (state.mastery.get(c, 0.0), order[c]))
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
    """Bank order, as a paper quiz would ask them (baseline)."""

    name = "fixed"

    def choose(self, state: SelectionState) -> Item | None:
        remaining = state.remaining()
        return remaining[0] if remaining else None


class RandomSelector:
    """Uniformly random unasked item (baseline)."""

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def choose(self, state: SelectionState) -> Item | None:
        remaining = state.remaining()
        return self._rng.choice(remaining) if remaining else None
