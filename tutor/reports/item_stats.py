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
    return analyse_first_attempts(
        ((a.learner, a.item_id, a.score, a.answer) for a in first_attempts_only(rows)), keys
    )


def analyse_first_attempts(
    rows: Iterable[tuple[object, str, float, str]], keys: Mapping[str, str] | None = None
) -> list[ItemStats]:
    """``analyse_items`` on rows that are already first attempts: ``(learner, item_id, score, answer)``.

    The instructor reports feed this straight from an SQL query over a whole
    class (hundreds of thousands of rows), so it makes one pass to group by
    item and learner, and takes the rest score from the learner's total
    instead of re-summing their other items for every row.
    """
    keys = keys or {}
    totals: dict[object, list[float]] = {}  # learner -> [sum of scores, items]
    by_item: dict[str, list[tuple[object, float, str]]] = {}
    for learner, item_id, score, answer in rows:
        score = float(score)
        entry = totals.get(learner)
        if entry is None:
            totals[learner] = [score, 1.0]
        else:
            entry[0] += score
            entry[1] += 1.0
        by_item.setdefault(item_id, []).append((learner, score, answer or ""))

    results = []
    for item_id in sorted(by_item):
        rows_i = by_item[item_id]
        scores = [score for _, score, _ in rows_i]
        paired: list[tuple[float, float, str]] = []  # (score, rest score, answer)
        for learner, score, answer in rows_i:
            total, count = totals[learner]
            if count > 1:
                paired.append((score, (total - score) / (count - 1), answer))
        xs = [score for score, _, _ in paired]
        ys = [rest for _, rest, _ in paired]
        facility = _mean(scores) if scores else None
        disc = pearson(xs, ys)
        eff = discriminative_efficiency(xs, ys)
        options = dict(sorted(Counter(answer for _, _, answer in rows_i if answer).items()))

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


def _strong_learners_avoid_key(paired: list[tuple[float, float, str]], key: str) -> bool:
    """True when, among the strongest third by rest score, some distractor beats the key."""
    if len(paired) < 3:
        return False
    ranked = sorted(paired, key=lambda p: p[1], reverse=True)
    strong = ranked[: max(1, math.ceil(len(ranked) * STRONG_SHARE))]
    counts = Counter(answer for _, _, answer in strong if answer)
    key_count = counts.pop(key, 0)
    return any(n > key_count for n in counts.values())


def cronbach_alpha(rows: Iterable[FirstAttempt], item_ids: list[str]) -> float | None:
    """k/(k-1) * (1 - sum of item variances / variance of totals), over learners who took every item.

    None where it does not apply: fewer than two items, fewer than two complete learners, or no
    variance in the totals.
    """
    table: dict[str, dict[str, float]] = {}
    for a in first_attempts_only(rows):
        table.setdefault(a.learner, {})[a.item_id] = a.score
    return alpha_from_table(table, item_ids)


def alpha_from_table(table: Mapping[object, Mapping[str, float]], item_ids: list[str]) -> float | None:
    """``cronbach_alpha`` from first-attempt scores already laid out as learner -> item -> score."""
    k = len(item_ids)
    if k < 2:
        return None
    complete = [t for t in table.values() if all(i in t for i in item_ids)]
    if len(complete) < 2:
        return None
    item_var = sum(_cov(col, col) for col in ([t[i] for t in complete] for i in item_ids))
    totals = [sum(t[i] for i in item_ids) for t in complete]
    total_var = _cov(totals, totals)
    if total_var <= 0:
        return None
    return k / (k - 1) * (1 - item_var / total_var)
