"""Bayesian Knowledge Tracing: the probability that a learner knows a concept.

Classic BKT (Corbett & Anderson, 1995) keeps one number per learner and concept,
``p_known``, and four parameters per concept: the prior ``p_init``, the chance of
learning at each practice opportunity ``p_learn``, and the noise of an answer,
``p_slip`` (knows it, answers wrong) and ``p_guess`` (does not know, answers
right). After every answer the engine applies Bayes' rule to the observation and
then the learning transition. There is no forgetting: spaced review (FSRS) takes
care of retention per item.

Answers can carry partial credit (a partly right scenario explanation, or a right
answer after hints): a credit ``c`` in [0, 1] is treated as soft evidence, the
mixture ``c * P(known | right) + (1 - c) * P(known | wrong)``. With ``c`` equal to
0 or 1 this is exactly the textbook update.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

MASTERY_THRESHOLD = 0.95  # p_known at or above this counts as mastered
NOT_MASTERED_THRESHOLD = 0.05  # p_known at or below this: confidently not mastered (the mirror of mastery)


class BKTParamError(ValueError):
    """Parameters outside the range where BKT is identifiable."""


@dataclass(frozen=True)
class BKTParams:
    """The four BKT parameters of one concept."""

    p_init: float = 0.2
    p_learn: float = 0.15
    p_slip: float = 0.1
    p_guess: float = 0.25

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not 0.0 < value < 1.0:
                raise BKTParamError(f"BKT parameter {name}={value} must lie strictly between 0 and 1")
        # A learner who knows the concept must be likelier to answer right than one who does not,
        # otherwise "known" and "unknown" swap meaning (model degeneracy).
        if self.p_guess >= 1.0 - self.p_slip:
            raise BKTParamError(
                f"BKT parameters are degenerate: p_guess={self.p_guess} >= 1 - p_slip={1.0 - self.p_slip}"
            )

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> BKTParams:
        return cls(**{k: float(data[k]) for k in ("p_init", "p_learn", "p_slip", "p_guess")})

    def with_guess(self, p_guess: float) -> BKTParams:
        """The same concept seen through an item with another chance of guessing (e.g. 10 model types)."""
        guess = min(p_guess, (1.0 - self.p_slip) * 0.999)
        return BKTParams(self.p_init, self.p_learn, self.p_slip, guess)


DEFAULT_PARAMS = BKTParams()


def p_correct(p_known: float, params: BKTParams) -> float:
    """Chance that the next answer is right."""
    return p_known * (1.0 - params.p_slip) + (1.0 - p_known) * params.p_guess


def posterior(p_known: float, credit: float, params: BKTParams, others_known: float = 1.0) -> float:
    """P(known | the observed answer), before the learning transition.

    ``others_known`` is the chance that the learner knows the item's *other* concepts (1.0 for an
    item on one concept). Items on several concepts are conjunctive: answering right takes knowing
    all of them, so a wrong answer is blamed on each concept in proportion to how likely it is the
    missing one, instead of on all of them in full.
    """
    credit = min(1.0, max(0.0, float(credit)))
    q = min(1.0, max(0.0, float(others_known)))
    right_if_known = q * (1.0 - params.p_slip) + (1.0 - q) * params.p_guess
    right = p_known * right_if_known
    right_norm = right + (1.0 - p_known) * params.p_guess
    wrong = p_known * (1.0 - right_if_known)
    wrong_norm = wrong + (1.0 - p_known) * (1.0 - params.p_guess)
    given_right = right / right_norm if right_norm > 0 else p_known
    given_wrong = wrong / wrong_norm if wrong_norm > 0 else p_known
    return credit * given_right + (1.0 - credit) * given_wrong


def update(p_known: float, credit: float | bool, params: BKTParams, others_known: float = 1.0) -> float:
    """p_known after one answer: Bayes on the observation, then the chance to learn from practice."""
    post = posterior(p_known, float(credit), params, others_known)
    return post + (1.0 - post) * params.p_learn


def is_mastered(p_known: float) -> bool:
    return p_known >= MASTERY_THRESHOLD


def decision(p_known: float) -> bool | None:
    """The learner model's verdict on a concept: True mastered, False not mastered, None undecided.

    Two-sided on purpose: a low-but-uncertain estimate (a concept never asked sits at its prior)
    is *not* a verdict of "not mastered"; only P(known) <= NOT_MASTERED_THRESHOLD is, as only
    P(known) >= MASTERY_THRESHOLD is mastery.
    """
    if p_known >= MASTERY_THRESHOLD:
        return True
    if p_known <= NOT_MASTERED_THRESHOLD:
        return False
    return None


def decisions(mastery: Mapping[str, float], prerequisites: Mapping[str, Sequence[str]]) -> dict[str, bool | None]:
    """Verdicts for every concept of ``mastery``, using the prerequisite graph as a bound.

    Knowing a concept requires knowing its prerequisites, so P(known c) <= P(known p) for every
    (transitive) prerequisite p: when a prerequisite is confidently not mastered, so is c, even
    if c was never asked (that is why the quiz gates dependants behind their prerequisites).
    """
    memo: dict[str, float] = {}

    def bound(concept: str, path: frozenset[str]) -> float:
        if concept in memo:
            return memo[concept]
        value = mastery.get(concept, 0.0)
        for pre in prerequisites.get(concept, ()):
            if pre in mastery and pre not in path:
                value = min(value, bound(pre, path | {concept}))
        memo[concept] = value
        return value

    out: dict[str, bool | None] = {}
    for concept, p in mastery.items():
        if bound(concept, frozenset()) <= NOT_MASTERED_THRESHOLD:
            out[concept] = False
        else:
            out[concept] = decision(p)
    return out
