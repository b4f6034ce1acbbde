"""Combining dense and lexical section scores into one ranking.

Two standard fusions are offered and measured on the dev split: reciprocal-rank
fusion (rank-only, no tuning) and a convex combination of the cosine similarity
with a scaled BM25 score (one weight and the scaling, chosen on the dev split by
`tutor train-embedder` and shipped per embedder in its calibration file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["dense", "lexical", "rrf", "convex"]
METHODS: tuple[Method, ...] = ("dense", "lexical", "rrf", "convex")


Norm = Literal["max", "query"]


@dataclass(frozen=True)
class FusionConfig:
    method: Method = "convex"
    alpha: float = 0.7  # weight of the dense score in the convex fusion
    rrf_k: int = 60  # the usual RRF constant (Cormack et al., 2009)
    # How BM25 is scaled for the convex fusion: "max" divides by the best section's
    # score (the best lexical match always gets 1, even on generic words); "query"
    # divides by the most the query's course terms could score, so only matching its
    # rare terms counts fully.
    lexical_norm: Norm = "max"
    # A section's dense score is the better of its passages' and its example questions'
    # (`tutor.retrieval.keys`); no effect on a retriever built without keys.
    question_keys: bool = True


def max_normalise(scores: np.ndarray) -> np.ndarray:
    """Scores divided by their maximum (all zeros stay zeros): BM25 has no fixed scale."""
    top = float(scores.max()) if scores.size else 0.0
    if top <= 0.0:
        return np.zeros_like(scores, dtype=np.float32)
    return (scores / top).astype(np.float32)


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every entry (ties broken by position, as a stable sort does)."""
    order = np.argsort(-scores, kind="stable")
    out = np.empty(len(scores), dtype=np.int64)
    out[order] = np.arange(1, len(scores) + 1)
    return out


def rrf(dense: np.ndarray, lexical: np.ndarray, k: int = 60) -> np.ndarray:
    """Reciprocal-rank fusion; entries with no lexical evidence get no lexical share."""
    fused = 1.0 / (k + ranks(dense))
    lexical_part = 1.0 / (k + ranks(lexical))
    return (fused + np.where(lexical > 0, lexical_part, 0.0)).astype(np.float32)


def fuse(dense: np.ndarray, lexical: np.ndarray, config: FusionConfig, lexical_scale: float = 0.0) -> np.ndarray:
    """One score per entry, higher is better, by the configured method.

    ``lexical_scale``: the highest BM25 score the query could reach (for ``lexical_norm="query"``).
    """
    if config.method == "dense":
        return dense.astype(np.float32)
    if config.method == "lexical":
        return lexical.astype(np.float32)
    if config.method == "rrf":
        return rrf(dense, lexical, config.rrf_k)
    if config.method == "convex":
        if config.lexical_norm == "query":
            scaled = np.minimum(lexical / lexical_scale, 1.0) if lexical_scale > 0 else np.zeros_like(lexical)
        else:
            scaled = max_normalise(lexical)
        return (config.alpha * dense + (1.0 - config.alpha) * scaled).astype(np.float32)
    raise ValueError(f"unknown fusion method {config.method!r}; choose one of {', '.join(METHODS)}")
