"""Does the course cover this question? A small calibrated classifier over retrieval signals.

A threshold on the top cosine alone (the pilot) declines most off-topic
questions but not near-topic ones ("how does Q-learning update its q
table?" is close to "training" in embedding space). What gives those away is
vocabulary: their key terms ("q-learning", "dropout", "kernel") are nowhere in
the course, and they are not everyday words either. So the scope score is a
logistic regression over a few features:

- ``dense``: best cosine similarity of the question with a passage;
- ``lexical``: best BM25 score, divided by the question's total term weight
  (how much of the question the best passage contains);
- ``cover``: the idf-weighted share of the question's key terms that occur in
  the course at all;
- ``foreign``: 1 when some key term is neither course vocabulary (after typo
  correction) nor common English (Dale-Chall easy words) — the jargon of some
  other topic — else 0.

Weights are fitted on the dev split of the dev set (`tutor train-embedder`)
and shipped next to the embedder they were fitted for (see settings.py),
because cosine scales differ between the base and the fine-tuned model.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutor.retrieval.errors import RetrievalError
from tutor.retrieval.lexical import LexicalIndex
from tutor.retrieval.text import common_words

FEATURES: tuple[str, ...] = ("dense", "lexical", "cover", "foreign")
# The features the shipped classifier uses. Chosen by leave-one-out on the dev
# split (base MiniLM): with (dense, cover, foreign) and C=3, 98% of in-scope
# questions kept and every off- and near-topic one declined at thresholds
# 0.3-0.5; adding `lexical` or a top-1/top-5 margin changed nothing, and a
# foreign-term *count* (instead of "any") declined only 78% of near-topic ones.
FITTED_FEATURES: tuple[str, ...] = ("dense", "cover", "foreign")
REGULARISATION_C = 3.0


@dataclass(frozen=True)
class ScopeFeatures:
    dense: float
    lexical: float
    cover: float
    foreign: float

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


def scope_features(query: str, dense_top: float, lexical_top: float, lexical: LexicalIndex) -> ScopeFeatures:
    """The scope signals of one query, given its best dense and BM25 scores."""
    keys = lexical.query_terms(query, drop_question_words=True)
    if not keys:
        # "what is it?" names nothing: judged on the embedding alone, with no vocabulary support
        return ScopeFeatures(dense=dense_top, lexical=0.0, cover=0.0, foreign=0.0)
    weights = [lexical.idf(t) for t in keys]
    total = sum(weights)
    known = sum(w for t, w in zip(keys, weights) if lexical.known(t))
    common = common_words()
    foreign = sum(1 for t in set(keys) if not lexical.known(t) and t not in common)
    all_terms = lexical.query_terms(query)
    query_weight = sum(lexical.idf(t) for t in all_terms) or 1.0
    return ScopeFeatures(
        dense=float(dense_top),
        lexical=float(min(lexical_top / query_weight, 2.0)),
        cover=known / total if total else 0.0,
        foreign=1.0 if foreign else 0.0,
    )


@dataclass(frozen=True)
class ScopeModel:
    """Logistic regression on standardised features; ``threshold`` applies to its probability."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float = 0.5
    features: tuple[str, ...] = FEATURES
    model_id: str = ""
    fitted_on: str = ""
    calibration: dict = field(default_factory=dict)

    def probability(self, f: ScopeFeatures) -> float:
        z = self.bias
        values = {name: getattr(f, name) for name in FEATURES}
        for name, w, m, s in zip(self.features, self.weights, self.mean, self.scale):
            z += w * (values[name] - m) / (s or 1.0)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def decide(self, f: ScopeFeatures) -> tuple[bool, float]:
        p = self.probability(f)
        return p >= self.threshold, p

    @classmethod
    def default(cls) -> ScopeModel:
        """Uncalibrated fallback (no shipped calibration for this embedder): the pilot's rule,
        top cosine >= 0.35, with a penalty for a foreign term; probability 0.5 sits at the rule's edge."""
        return cls(
            weights=(12.0, 0.0, 0.0, -2.0),
            bias=0.0,
            mean=(0.35, 0.0, 0.0, 0.0),
            scale=(1.0, 1.0, 1.0, 1.0),
            threshold=0.5,
            fitted_on="default rule (uncalibrated)",
        )

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ScopeModel:
        data = json.loads(text)
        for key in ("weights", "mean", "scale", "features"):
            data[key] = tuple(data[key])
        unknown = set(data["features"]) - set(FEATURES)
        if unknown:
            raise RetrievalError(f"scope calibration uses unknown features: {', '.join(sorted(unknown))}")
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())

    @classmethod
    def load(cls, path: Path) -> ScopeModel:
        try:
            return cls.from_json(path.read_text())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RetrievalError(f"bad scope calibration {path}: {exc}") from exc


def fit_scope(
    rows: list[tuple[ScopeFeatures, bool]],
    model_id: str,
    features: tuple[str, ...] = FITTED_FEATURES,
    c: float = REGULARISATION_C,
) -> ScopeModel:
    """Fit the logistic regression (class-balanced, L2) on labelled feature rows."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if len({label for _, label in rows}) < 2:
        raise RetrievalError("scope calibration needs both in-scope and out-of-scope questions")
    x = np.array([[getattr(f, n) for n in features] for f, _ in rows], dtype=np.float64)
    y = np.array([int(label) for _, label in rows])
    mean = x.mean(0)
    scale = x.std(0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
    clf.fit((x - mean) / scale, y)
    return ScopeModel(
        weights=tuple(float(w) for w in clf.coef_[0]),
        bias=float(clf.intercept_[0]),
        mean=tuple(float(m) for m in mean),
        scale=tuple(float(s) for s in scale),
        features=features,
        model_id=model_id,
        fitted_on=f"dev split: {int(y.sum())} in-scope, {int((1 - y).sum())} out-of-scope questions",
    )
