"""The class-sized NumPy item analysis gives what the plain-Python reference gives."""

from __future__ import annotations

import math
import random

import pytest

from tutor.reports import item_matrix, item_stats


def random_class(seed: int) -> tuple[list[tuple[str, str, float, str]], dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    n_items = rng.randint(1, 8)
    for learner in range(rng.randint(1, 30)):
        for item in range(n_items):
            if rng.random() < 0.7:
                score = rng.choice([0.0, 1.0]) if item % 3 else rng.choice([0.0, 0.5, 1.0])
                rows.append((f"L{learner}", f"i{item}", score, rng.choice(["A", "B", "C", ""])))
    return rows, {f"i{i}": rng.choice("ABC") for i in range(n_items)}


def same(a: float | None, b: float | None) -> bool:
    return (a is None) == (b is None) and (a is None or math.isclose(a, b, abs_tol=1e-9))


@pytest.mark.parametrize("seed", range(60))
def test_matrix_matches_reference(seed: int) -> None:
    rows, keys = random_class(seed)
    reference = item_stats.analyse_first_attempts(rows, keys)
    matrix = item_matrix.build(rows)
    fast = item_matrix.analyse(matrix, keys)
    assert [s.item_id for s in fast] == [s.item_id for s in reference]
    for r, f in zip(reference, fast, strict=True):
        assert (f.attempts, f.options, f.flags) == (r.attempts, r.options, r.flags)
        assert same(f.facility, r.facility) and same(f.discrimination, r.discrimination)
        assert same(f.efficiency, r.efficiency)
    table: dict[str, dict[str, float]] = {}
    for learner, item, score, _ in rows:
        table.setdefault(learner, {})[item] = score
    ids = sorted({item for _, item, _, _ in rows})
    for subset in (ids, ids[:2], ids[1:3]):
        assert same(item_matrix.alpha(matrix, subset), item_stats.alpha_from_table(table, subset))


def test_matrix_on_the_hand_computed_class() -> None:
    rows = [(l, i, float(s), "") for l, scores in {"L1": (1, 1, 1), "L2": (1, 0, 1), "L3": (0, 1, 0),
                                                   "L4": (0, 0, 0)}.items() for i, s in zip(("i1", "i2", "i3"), scores)]
    matrix = item_matrix.build(rows)
    stats = {s.item_id: s for s in item_matrix.analyse(matrix)}
    assert stats["i1"].discrimination == pytest.approx(0.70710678)
    assert stats["i2"].discrimination == pytest.approx(0.0)
    assert item_matrix.alpha(matrix, ["i1", "i2", "i3"]) == pytest.approx(0.6)
    assert item_matrix.analyse(item_matrix.build([])) == []
