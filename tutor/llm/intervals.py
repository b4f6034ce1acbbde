"""How far a figure measured on a few dozen questions can be trusted.

The answer figures come from 50-90 questions, and a goal such as "groundedness >= 0.9" is often missed or met by
one or two answers. A bootstrap interval (resample the questions with replacement, take the middle 95% of the
resampled means) says whether a figure's distance to its goal, or between two models, is larger than what
another draw of questions would move it by. Percentile intervals need no assumption about the figure's
distribution, which matters here: per-question scores are mostly 0 or 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESAMPLES = 2000


def bootstrap_interval(
    values: Sequence[float], *, level: float = 0.95, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float, float] | None:
    """The percentile bootstrap interval of the mean of ``values`` (None when there are none).

    Seeded, so the same answers always give the same interval.
    """
    xs = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if xs.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = xs[rng.integers(0, xs.size, size=(resamples, xs.size))].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return round(float(lo), 4), round(float(hi), 4)


def paired_difference_interval(
    mine: dict[str, float], theirs: dict[str, float], **kwargs: float | int
) -> tuple[float, float] | None:
    """The interval of mean(mine - theirs) over the keys both have (the same questions, two models)."""
    shared = sorted(set(mine) & set(theirs))
    return bootstrap_interval([mine[k] - theirs[k] for k in shared], **kwargs)  # type: ignore[arg-type]
