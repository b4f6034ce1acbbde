"""Fit BKT parameters from stored attempt history with expectation-maximisation.

Why not pyBKT: pyBKT 1.4.3 (the current release) installs on Python 3.11 but
cannot run next to the rest of tutor's stack: importing it fails with
scikit-learn >= 1.6 (its metric probe calls a private sklearn function with plain
lists), and once past that its EM loop assigns arrays into scalar slots, which
NumPy 2 forbids. So the same model is fitted here: BKT is a two-state hidden
Markov model (unknown -> known, no forgetting), fitted by Baum-Welch on all
learners' answer sequences for a concept at once (vectorised over learners),
from a small grid of starting points, keeping the best likelihood. Guess and
slip are bounded so that "known" keeps meaning known (no degenerate fits).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tutor.learner.bkt import BKTParams
from tutor.learner.params import ConceptFit, ParamSet

MIN_ATTEMPTS = 100  # fewer answers than this for a concept: keep the default parameters
MIN_LEARNERS = 10

_BOUNDS = {
    "p_init": (0.01, 0.99),
    "p_learn": (0.005, 0.6),
    "p_slip": (0.01, 0.3),
    "p_guess": (0.01, 0.45),
}


@dataclass(frozen=True)
class FitResult:
    params: BKTParams
    log_likelihood: float
    iterations: int


def _clip(name: str, value: float) -> float:
    lo, hi = _BOUNDS[name]
    return float(min(hi, max(lo, value)))


def _pad(sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    length = max(len(s) for s in sequences)
    obs = np.zeros((len(sequences), length), dtype=float)
    mask = np.zeros((len(sequences), length), dtype=bool)
    for i, seq in enumerate(sequences):
        obs[i, : len(seq)] = seq
        mask[i, : len(seq)] = True
    return obs, mask


def _e_step(obs: np.ndarray, mask: np.ndarray, p: BKTParams) -> tuple[np.ndarray, np.ndarray, float]:
    """Posterior state probabilities (gamma) and unknown->known transition mass (xi) per step."""
    n, length = obs.shape
    # emission[n, t, state]: state 0 unknown, 1 known; padded steps emit 1 (no evidence)
    e_known = np.where(obs > 0.5, 1.0 - p.p_slip, p.p_slip)
    e_unknown = np.where(obs > 0.5, p.p_guess, 1.0 - p.p_guess)
    emit = np.stack([e_unknown, e_known], axis=-1)
    emit[~mask] = 1.0
    trans = np.array([[1.0 - p.p_learn, p.p_learn], [0.0, 1.0]])
    eye = np.eye(2)

    alpha = np.zeros((n, length, 2))
    scale = np.ones((n, length))
    a = np.array([1.0 - p.p_init, p.p_init])[None, :] * emit[:, 0]
    scale[:, 0] = a.sum(axis=1)
    alpha[:, 0] = a / scale[:, 0:1]
    for t in range(1, length):
        step = np.where(mask[:, t : t + 1], 1.0, 0.0)
        prior = step * (alpha[:, t - 1] @ trans) + (1.0 - step) * (alpha[:, t - 1] @ eye)
        a = prior * emit[:, t]
        scale[:, t] = a.sum(axis=1)
        alpha[:, t] = a / scale[:, t : t + 1]

    beta = np.ones((n, length, 2))
    xi01 = np.zeros((n, length))
    for t in range(length - 2, -1, -1):
        real_next = mask[:, t + 1]
        nxt = emit[:, t + 1] * beta[:, t + 1] / scale[:, t + 1 : t + 2]
        b = nxt @ trans.T
        beta[:, t] = np.where(real_next[:, None], b, beta[:, t + 1])
        xi01[:, t] = np.where(real_next, alpha[:, t, 0] * trans[0, 1] * nxt[:, 1], 0.0)

    gamma = alpha * beta
    gamma /= gamma.sum(axis=-1, keepdims=True)
    loglik = float(np.log(scale[mask]).sum())
    return gamma, xi01, loglik


def _m_step(obs: np.ndarray, mask: np.ndarray, gamma: np.ndarray, xi01: np.ndarray) -> BKTParams:
    m = mask.astype(float)
    unknown = gamma[..., 0] * m
    known = gamma[..., 1] * m
    has_next = np.zeros_like(m)
    has_next[:, :-1] = m[:, 1:]
    p_init = gamma[:, 0, 1].mean()
    p_learn = xi01.sum() / max((gamma[..., 0] * has_next).sum(), 1e-12)
    p_guess = (unknown * obs).sum() / max(unknown.sum(), 1e-12)
    p_slip = (known * (1.0 - obs)).sum() / max(known.sum(), 1e-12)
    return _bounded(p_init, p_learn, p_slip, p_guess)


def _bounded(p_init: float, p_learn: float, p_slip: float, p_guess: float) -> BKTParams:
    slip = _clip("p_slip", p_slip)
    guess = min(_clip("p_guess", p_guess), 0.99 * (1.0 - slip))
    return BKTParams(_clip("p_init", p_init), _clip("p_learn", p_learn), slip, guess)


def fit_bkt(
    sequences: Sequence[Sequence[int]], *, max_iter: int = 200, tol: float = 1e-5
) -> FitResult:
    """Best BKT parameters (maximum likelihood, several starts) for answer sequences of one concept.

    Each sequence is one learner's answers on the concept in time order, 1 right and 0 wrong.
    """
    sequences = [list(s) for s in sequences if len(s) > 0]
    if not sequences:
        raise ValueError("no answer sequences to fit")
    obs, mask = _pad(sequences)
    best: FitResult | None = None
    starts = itertools.product((0.1, 0.4), (0.05, 0.2), (0.05, 0.15), (0.15, 0.3))
    for p_init, p_learn, p_slip, p_guess in starts:
        params = BKTParams(p_init, p_learn, p_slip, p_guess)
        previous = -np.inf
        iterations = 0
        for iterations in range(1, max_iter + 1):
            gamma, xi01, loglik = _e_step(obs, mask, params)
            params = _m_step(obs, mask, gamma, xi01)
            if loglik - previous < tol:
                break
            previous = loglik
        _, _, loglik = _e_step(obs, mask, params)
        if best is None or loglik > best.log_likelihood:
            best = FitResult(params, loglik, iterations)
    assert best is not None
    return best


def sequences_by_concept(attempts: Iterable) -> dict[str, list[list[int]]]:
    """Group stored attempts (oldest first) into per-concept, per-learner answer sequences."""
    grouped: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for attempt in attempts:
        for concept in attempt.concepts:
            grouped[concept][attempt.learner_id].append(1 if attempt.correct else 0)
    return {concept: list(by_learner.values()) for concept, by_learner in grouped.items()}


def fit_param_set(
    attempts: Iterable,
    concept_ids: Iterable[str],
    *,
    default: BKTParams | None = None,
    min_attempts: int = MIN_ATTEMPTS,
    min_learners: int = MIN_LEARNERS,
) -> ParamSet:
    """Fit every concept that has enough history; the others keep the defaults (and say so)."""
    base = ParamSet() if default is None else ParamSet(default=default)
    grouped = sequences_by_concept(attempts)
    concepts: dict[str, ConceptFit] = {}
    for concept in concept_ids:
        seqs = grouped.get(concept, [])
        n_attempts = sum(len(s) for s in seqs)
        if n_attempts >= min_attempts and len(seqs) >= min_learners:
            result = fit_bkt(seqs)
            concepts[concept] = ConceptFit(result.params, "fitted", n_attempts, len(seqs), result.log_likelihood)
        else:
            concepts[concept] = ConceptFit(base.default, "default", n_attempts, len(seqs))
    return ParamSet(default=base.default, concepts=concepts)
