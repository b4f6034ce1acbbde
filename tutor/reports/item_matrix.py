"""Item analysis for a whole class at once: ``item_stats`` in NumPy.

``item_stats`` is the reference: plain Python, short enough to check against
Moodle's definitions by eye. At 10,000 learners it spends seconds in Python
loops, so the reports run this columnar version instead: the same formulas
over arrays (per-item sums with ``bincount``, the sorted pairing for
efficiency and the "strong third" with stable ``lexsort``), in the same
summation order. The reports build the matrix with ``from_groups``, rows
ordered by item, so those sorts become sorts (or, for the strong third, a
partition) within each item's slice. Tests check that both give the same
numbers and flags on random classes, by either route.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tutor.reports.item_stats import (
    LOW_DISCRIMINATION,
    STRONG_SHARE,
    TOO_EASY,
    TOO_HARD,
    ItemStats,
)


@dataclass(frozen=True)
class FirstAttemptMatrix:
    """First attempts as columns: one row per (learner, item), codes instead of strings."""

    item_ids: list[str]  # item code -> id, sorted by id
    answers: list[str]  # answer code -> text ("" included when present)
    learner: Any  # np.ndarray[int]: learner code per row
    item: Any  # np.ndarray[int]: item code per row
    score: Any  # np.ndarray[float]
    answer: Any  # np.ndarray[int]: answer code per row
    n_learners: int
    # when rows are ordered by item (``from_groups``): item code i's rows are starts[i]:starts[i + 1]
    starts: Any = None

    def __len__(self) -> int:
        return len(self.score)


def build(rows: Iterable[tuple[Any, str, float, str]]) -> FirstAttemptMatrix:
    """Columns from ``(learner, item_id, score, answer)`` rows that are already first attempts."""
    rows = list(rows)
    if not rows:
        return from_columns((), (), (), ())
    learners, items, scores, answers = zip(*rows, strict=True)
    return from_columns(learners, items, scores, answers)


def from_columns(
    learners: Sequence[Any], items: Sequence[str], scores: Sequence[float], answers: Sequence[str]
) -> FirstAttemptMatrix:
    """The matrix from parallel columns (what ``queries.first_attempts`` returns)."""
    n = len(scores)
    item_ids = sorted(set(items))
    item_code = {item_id: i for i, item_id in enumerate(item_ids)}
    answer_code: dict[str, int] = {}
    answer_codes = np.fromiter(
        (answer_code.setdefault(a or "", len(answer_code)) for a in answers), np.int64, n
    )
    if all(isinstance(x, int) for x in learners[:1]):
        learner_codes = np.unique(np.fromiter(learners, np.int64, n), return_inverse=True)[1].reshape(-1)
    else:
        learner_code: dict[Any, int] = {}
        learner_codes = np.fromiter((learner_code.setdefault(x, len(learner_code)) for x in learners), np.int64, n)
    return FirstAttemptMatrix(
        item_ids=item_ids,
        answers=list(answer_code),
        learner=learner_codes.astype(np.int64),
        item=np.fromiter(map(item_code.__getitem__, items), np.int64, n),
        score=np.fromiter(scores, np.float64, n),
        answer=answer_codes,
        n_learners=int(learner_codes.max()) + 1 if n else 0,
    )


def from_groups(groups: Sequence[tuple[str, str, float, Any]]) -> FirstAttemptMatrix:
    """The matrix from ``(item_id, answer, score, learner ids)`` groups (what ``queries.first_attempt_groups``
    returns), rows ordered by item, then learner.

    That order gives the same numbers as ``from_columns`` on the rows ordered by
    learner, then item (how SQL used to return them): every sum runs over an
    item's rows by learner and over a learner's rows by item either way, and
    ties in the strong third still keep learner order.
    """
    if not groups:
        return from_columns((), (), (), ())
    item_ids = sorted({g[0] for g in groups})
    item_code = {item_id: i for i, item_id in enumerate(item_ids)}
    answer_code: dict[str, int] = {}
    sizes = np.array([len(g[3]) for g in groups], dtype=np.int64)
    learners = np.concatenate([np.asarray(g[3], dtype=np.int64) for g in groups])
    items = np.repeat(np.array([item_code[g[0]] for g in groups], dtype=np.int64), sizes)
    scores = np.repeat(np.array([float(g[2]) for g in groups], dtype=np.float64), sizes)
    answers = np.repeat(
        np.array([answer_code.setdefault(g[1] or "", len(answer_code)) for g in groups], dtype=np.int64), sizes
    )
    top = int(learners.max()) + 1
    if 0 <= int(learners.min()) and top <= 64 * len(learners) + 1024:
        # ids are small non-negative integers (database keys): code them by table lookup, sort on one key
        order = np.argsort(items * top + learners, kind="stable")
        present = np.zeros(top, dtype=bool)
        present[learners] = True
        learner_codes = (np.cumsum(present) - 1)[learners]
    else:
        order = np.lexsort((learners, items))
        learner_codes = np.unique(learners, return_inverse=True)[1].reshape(-1)
    return FirstAttemptMatrix(
        item_ids=item_ids,
        answers=list(answer_code),
        learner=learner_codes[order].astype(np.int64),
        item=items[order],
        score=scores[order],
        answer=answers[order],
        n_learners=int(learner_codes.max()) + 1 if len(learners) else 0,
        starts=np.searchsorted(items[order], np.arange(len(item_ids) + 1)),
    )


def _per_item(index: Any, weights: Any, n: int) -> Any:
    return np.bincount(index, weights=weights, minlength=n)


def analyse(m: FirstAttemptMatrix, keys: Mapping[str, str] | None = None) -> list[ItemStats]:
    """``item_stats.analyse_first_attempts`` on a matrix: same statistics, same flags."""
    keys = keys or {}
    n_items = len(m.item_ids)
    if n_items == 0:
        return []
    count = np.bincount(m.item, minlength=n_items)
    facility = _per_item(m.item, m.score, n_items) / np.maximum(count, 1)

    total = np.bincount(m.learner, weights=m.score, minlength=m.n_learners)
    answered = np.bincount(m.learner, minlength=m.n_learners)
    paired = answered[m.learner] > 1
    item = m.item[paired]
    x = m.score[paired]
    y = (total[m.learner[paired]] - x) / (answered[m.learner[paired]] - 1)
    n = np.bincount(item, minlength=n_items)
    safe_n = np.maximum(n, 1)
    mean_x = _per_item(item, x, n_items) / safe_n
    mean_y = _per_item(item, y, n_items) / safe_n
    dx = x - mean_x[item]
    dy = y - mean_y[item]
    var_x = _per_item(item, dx * dx, n_items) / safe_n
    var_y = _per_item(item, dy * dy, n_items) / safe_n
    cov = _per_item(item, dx * dy, n_items) / safe_n

    # efficiency: pair the k-th smallest score with the k-th smallest rest score, item by item
    segments = _segments(item, n)
    grouped = np.sort(item)
    sorted_x = _sorted_within(x, item, segments)
    sorted_y = _sorted_within(y, item, segments)
    best = _per_item(grouped, (sorted_x - mean_x[grouped]) * (sorted_y - mean_y[grouped]), n_items) / safe_n

    strong_counts = _strong_answer_counts(m, item, y, n, paired, len(m.answers), segments)
    answer_counts = np.bincount(m.item * len(m.answers) + m.answer, minlength=n_items * len(m.answers)).reshape(
        n_items, len(m.answers)
    )
    blank = m.answers.index("") if "" in m.answers else -1

    results = []
    for i, item_id in enumerate(m.item_ids):
        disc = None
        if n[i] >= 2 and var_x[i] > 0 and var_y[i] > 0:
            disc = float(cov[i] / math.sqrt(var_x[i] * var_y[i]))
        eff = float(cov[i] / best[i]) if n[i] >= 2 and best[i] > 0 else None
        fac = float(facility[i])
        options = {
            m.answers[a]: int(c) for a, c in enumerate(answer_counts[i]) if c and a != blank
        }
        flags = []
        if fac > TOO_EASY:
            flags.append("too easy")
        if fac < TOO_HARD:
            flags.append("too hard")
        if disc is not None and disc < LOW_DISCRIMINATION:
            flags.append("low discrimination")
        key = keys.get(item_id)
        if key and n[i] >= 3 and _avoided(strong_counts[i], m.answers, key, blank):
            flags.append("likely mis-keyed")
        results.append(ItemStats(item_id, int(count[i]), fac, disc, eff, dict(sorted(options.items())), tuple(flags)))
    return results


def _segments(item: Any, n: Any) -> list[tuple[int, int]] | None:
    """Where each item's rows lie when rows are ordered by item (as ``from_groups`` orders them), else None.

    Sorting within each item's slice gives exactly what a stable sort on
    (item, value) gives, at a fraction of the cost of ``lexsort``.
    """
    if len(item) > 1 and not bool(np.all(item[1:] >= item[:-1])):
        return None
    ends = np.cumsum(n)
    return [(int(end - size), int(end)) for size, end in zip(n, ends, strict=True) if size]


def _sorted_within(values: Any, item: Any, segments: list[tuple[int, int]] | None) -> Any:
    """``values`` sorted by (item, value): item by item, each item's values ascending."""
    if segments is None:
        return values[np.lexsort((values, item))]
    if not segments:
        return values[:0]
    return np.concatenate([np.sort(values[a:b]) for a, b in segments])


def _strong_answer_counts(
    m: FirstAttemptMatrix, item: Any, rest: Any, n: Any, paired: Any, n_answers: int,
    segments: list[tuple[int, int]] | None = None,
) -> Any:
    """Per item, how often each answer was chosen by the strongest third (by rest score).

    The strong third is the first ``ceil(n/3)`` of the item's rows sorted by
    rest score, highest first, ties in input order (as ``sorted()`` does).
    """
    n_items = len(m.item_ids)
    take = np.maximum(1, np.ceil(n * STRONG_SHARE)).astype(np.int64)
    answer = m.answer[paired]
    if segments is not None:
        # item by item: everyone above the cut-off score, then the first of those exactly at it
        counts = np.zeros((n_items, n_answers), dtype=np.int64)
        for a, b in segments:
            i, r = int(item[a]), rest[a:b]
            k = int(take[i])
            if k >= b - a:
                chosen = answer[a:b]
            else:
                cut = np.partition(r, (b - a) - k)[(b - a) - k]  # the k-th highest rest score
                above = r > cut
                at_cut = r == cut
                chosen = answer[a:b][above | (at_cut & (np.cumsum(at_cut) <= k - int(above.sum())))]
            counts[i] = np.bincount(chosen, minlength=n_answers)
        return counts
    order = np.lexsort((-rest, item))  # stable: ties keep the input order, as sorted() does
    starts = np.concatenate(([0], np.cumsum(n)[:-1]))
    ranked_item = item[order]
    rank = np.arange(len(order)) - starts[ranked_item]
    strong = rank < take[ranked_item]
    chosen = answer[order][strong]
    counts = np.bincount(ranked_item[strong] * n_answers + chosen, minlength=n_items * n_answers)
    return counts.reshape(n_items, n_answers)


def _avoided(counts: Any, answers: list[str], key: str, blank: int) -> bool:
    key_count = int(counts[answers.index(key)]) if key in answers else 0
    return any(int(c) > key_count for a, c in enumerate(counts) if a != blank and answers[a] != key)


def alpha(m: FirstAttemptMatrix, item_ids: Sequence[str]) -> float | None:
    """``item_stats.cronbach_alpha`` over the learners who answered every one of ``item_ids``."""
    k = len(item_ids)
    if k < 2:
        return None
    index = {item_id: i for i, item_id in enumerate(m.item_ids)}
    if any(item_id not in index for item_id in item_ids):
        return None  # nobody answered that item, so nobody is complete
    column = np.full(len(m.item_ids), -1, dtype=np.int64)
    for col, item_id in enumerate(item_ids):
        column[index[item_id]] = col
    if m.starts is not None:  # the items' rows are slices: no pass over the whole matrix
        chosen: Any = np.concatenate(
            [np.arange(m.starts[index[i]], m.starts[index[i] + 1]) for i in item_ids]
        )
    else:
        chosen = column[m.item] >= 0
    learners = m.learner[chosen]
    complete = np.bincount(learners, minlength=m.n_learners) == k
    n_complete = int(complete.sum())
    if n_complete < 2:
        return None
    keep = complete[learners]
    row_of = np.cumsum(complete) - 1
    table = np.zeros((n_complete, k))
    table[row_of[learners[keep]], column[m.item[chosen][keep]]] = m.score[chosen][keep]
    item_var = float(table.var(axis=0).sum())
    total_var = float(table.sum(axis=1).var())
    if total_var <= 0:
        return None
    return k / (k - 1) * (1 - item_var / total_var)
