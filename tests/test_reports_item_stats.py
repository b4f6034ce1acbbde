"""Item statistics against a data set small enough to compute by hand."""

import pytest

from tutor.reports.item_stats import (
    FirstAttempt,
    analyse_items,
    cronbach_alpha,
    discriminative_efficiency,
    pearson,
)

# Four learners, three items, scores 0/1 (first attempts):
#        i1 i2 i3   total
#   L1    1  1  1     3
#   L2    1  0  1     2
#   L3    0  1  0     1
#   L4    0  0  0     0
MATRIX = {
    "L1": {"i1": 1, "i2": 1, "i3": 1},
    "L2": {"i1": 1, "i2": 0, "i3": 1},
    "L3": {"i1": 0, "i2": 1, "i3": 0},
    "L4": {"i1": 0, "i2": 0, "i3": 0},
}


def rows():
    return [
        FirstAttempt(learner, item, float(score))
        for learner, items in MATRIX.items()
        for item, score in items.items()
    ]


def by_id(stats):
    return {s.item_id: s for s in stats}


def test_facility_is_mean_score():
    stats = by_id(analyse_items(rows()))
    assert stats["i1"].facility == pytest.approx(0.5)
    assert stats["i2"].facility == pytest.approx(0.5)
    assert stats["i3"].facility == pytest.approx(0.5)


def test_discrimination_is_item_rest_correlation():
    # i1: x = [1,1,0,0], rest = [2,1,1,0] -> cov 0.25, var x 0.25, var rest 0.5 -> r = 1/sqrt(2)
    # i2: x = [1,0,1,0], rest = [2,2,0,0] -> deviations [.5,-.5,.5,-.5] . [1,1,-1,-1] = 0 -> r = 0
    stats = by_id(analyse_items(rows()))
    assert stats["i1"].discrimination == pytest.approx(0.70710678)
    assert stats["i2"].discrimination == pytest.approx(0.0)
    assert "low discrimination" in stats["i2"].flags
    assert "low discrimination" not in stats["i1"].flags


def test_discriminative_efficiency_against_sorted_maximum():
    # i1: sorted x [0,0,1,1], sorted rest [0,1,1,2] -> max cov 0.25 = actual cov -> 1.0
    stats = by_id(analyse_items(rows()))
    assert stats["i1"].efficiency == pytest.approx(1.0)
    # x = [1,0,1,0], y = [0,1,1,2]: cov = (.5*-1 + -.5*0 + .5*0 + -.5*1)/4 = -0.25;
    # sorted max cov = 0.25 -> efficiency -1.0
    assert discriminative_efficiency([1, 0, 1, 0], [0, 1, 1, 2]) == pytest.approx(-1.0)


def test_cronbach_alpha_by_hand():
    # item variances 0.25 each (sum 0.75); totals [3,2,1,0] variance 1.25 -> 3/2 * (1 - 0.6) = 0.6
    assert cronbach_alpha(rows(), ["i1", "i2", "i3"]) == pytest.approx(0.6)
    assert cronbach_alpha(rows(), ["i1"]) is None


def test_pearson_undefined_without_variance():
    assert pearson([1, 1, 1], [0, 1, 2]) is None
    assert pearson([0, 1], [0, 1]) == pytest.approx(1.0)


def test_only_first_attempts_count():
    retries = rows() + [FirstAttempt("L4", "i1", 1.0)]  # a later retry must not move i1
    assert by_id(analyse_items(retries))["i1"].facility == pytest.approx(0.5)


def test_easy_hard_and_miskeyed_flags():
    data = []
    # item "easy": everyone right; item "hard": one of six right
    for n in range(6):
        data.append(FirstAttempt(f"L{n}", "easy", 1.0, "A"))
        data.append(FirstAttempt(f"L{n}", "hard", 1.0 if n == 0 else 0.0, "B" if n == 0 else "C"))
    # item "mk": the three strongest learners on other items all choose C, the key is B
    strength = {"L0": 1.0, "L1": 1.0, "L2": 1.0, "L3": 0.0, "L4": 0.0, "L5": 0.0}
    for learner, s in strength.items():
        data.append(FirstAttempt(learner, "other", s, "A"))
        chose = "C" if s == 1.0 else "B"
        data.append(FirstAttempt(learner, "mk", 1.0 if chose == "B" else 0.0, chose))
    stats = by_id(analyse_items(data, keys={"mk": "B", "easy": "A", "hard": "B"}))
    assert "too easy" in stats["easy"].flags
    assert "too hard" in stats["hard"].flags
    assert "likely mis-keyed" in stats["mk"].flags
    assert "likely mis-keyed" not in stats["easy"].flags
    assert stats["mk"].options == {"B": 3, "C": 3}
