"""Item analysis as Moodle's quiz statistics and Canvas's item analysis compute it.

Only first attempts count: a learner who retries an item after seeing its
feedback tells us about the feedback, not the item. Quizzes here are adaptive,
so learners answer different subsets of the bank; the "rest of the test" for a
learner is therefore their proportion correct on the *other* items they
attempted (a sum would favour learners who simply answered more items).
Correlations are scale-free, so on a complete matrix this equals Moodle's
item-vs-rest correlation exactly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TOO_EASY = 0.9
TOO_HARD = 0.2
LOW_DISCRIMINATION = 0.1
STRONG_SHARE = 1 / 3  # top third of learners by rest score are the "strong" group


@dataclass(frozen=True)
class FirstAttempt:
    learner: str
    item_id: str
    score: float  # 0..1
    answer: str = ""  # option key for multiple choice


@dataclass(frozen=True)
class ItemStats:
    item_id: str
    attempts: int
    facility: float | None
    discrimination: float | None
    efficiency: float | None
    options: dict[str, int] = field(default_factory=dict)
    flags: tuple[str, ...] = ()


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def _cov(xs: list[float], ys: list[float]) -> float:
    mx, my = _mean(xs), _mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / len(xs)


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Correlation, or None where either list has no variance (undefined, not zero)."""
    if len(xs) < 2:
        return None
    vx, vy = _cov(xs, xs), _cov(ys, ys)
    if vx <= 0 or vy <= 0:
        return None
    return _cov(xs, ys) / math.sqrt(vx * vy)


def discriminative_efficiency(xs: list[float], ys: list[float]) -> float | None:
    """cov(x, rest) over the largest covariance the two lists could have (both sorted)."""
    if len(xs) < 2:
        return None
    best = _cov(sorted(xs), sorted(ys))
    if best <= 0:
        return None
    return _cov(xs, ys) / best


def first_attempts_only(rows: Iterable[FirstAttempt]) -> list[FirstAttempt]:
    """Keep each learner's first attempt at each item (rows must come oldest first)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for row in rows:
        key = (row.learner, row.item_id)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def analyse_items(
    rows: Iterable[FirstAttempt], keys: Mapping[str, str] | None = None
) -> list[ItemStats]:
    """Per-item statistics and flags. ``keys`` maps multiple-choice item ids to their correct option."""
    keys = keys or {}
    attempts = first_attempts_only(rows)
    by_learner: dict[str, dict[str, FirstAttempt]] = {}
    for a in attempts:
        by_learner.setdefault(a.learner, {})[a.item_id] = a

    def rest_score(learner: str, item_id: str) -> float | None:
        others = [a.score for i, a in by_learner[learner].items() if i != item_id]
        return _mean(others) if others else None

    results = []
    for item_id in sorted({a.item_id for a in attempts}):
        rows_i = [a for a in attempts if a.item_id == item_id]
        scores = [a.score for a in rows_i]
        paired = [(a, rest_score(a.learner, item_id)) for a in rows_i]
        paired = [(a, r) for a, r in paired if r is not None]
        xs = [a.score for a, _ in paired]
        ys = [r for _, r in paired]
        facility = _mean(scores) if scores else None
        disc = pearson(xs, ys)
        eff = discriminative_efficiency(xs, ys)
        options = dict(sorted(Counter(a.answer for a in rows_i if a.answer).items()))

        flags = []
        if facility is not None and facility > TOO_EASY:
            flags.append("too easy")
        if facility is not None and facility < TOO_HARD:
            flags.append("too hard")
        if disc is not None and disc < LOW_DISCRIMINATION:
            flags.append("low discrimination")
        key = keys.get(item_id)
        if key and _strong_learners_avoid_key(paired, key):
            flags.append("likely mis-keyed")
        results.append(
            ItemStats(item_id, len(rows_i), facility, disc, eff, options, tuple(flags))
        )
    return results


def _strong_learners_avoid_key(paired: list[tuple[FirstAttempt, float]], key: str) -> bool:
    """True when, among the strongest third by rest score, some distractor beats the key."""
    if len(paired) < 3:
        return False
    ranked = sorted(paired, key=lambda p: p[1], reverse=True)
    strong = ranked[: max(1, math.ceil(len(ranked) * STRONG_SHARE))]
    counts = Counter(a.answer for a, _ in strong if a.answer)
    key_count = counts.pop(key, 0)
    return any(n > key_count for n in counts.values())


def cronbach_alpha(rows: Iterable[FirstAttempt], item_ids: list[str]) -> float | None:
    """k/(k-1) * (1 - sum of item variances / variance of totals), over learners who took every item.

    None where it does not apply: fewer than two items, fewer than two complete learners, or no
    variance in the totals.
    """
    k = len(item_ids)
    if k < 2:
        return None
    table: dict[str, dict[str, float]] = {}
    for a in first_attempts_only(rows):
        table.setdefault(a.learner, {})[a.item_id] = a.score
    complete = [t for t in table.values() if all(i in t for i in item_ids)]
    if len(complete) < 2:
        return None
    item_var = sum(_cov(col, col) for col in ([t[i] for t in complete] for i in item_ids))
    totals = [sum(t[i] for i in item_ids) for t in complete]
    total_var = _cov(totals, totals)
    if total_var <= 0:
        return None
    return k / (k - 1) * (1 - item_var / total_var)
