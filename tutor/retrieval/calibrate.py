"""Choosing the fusion weight and fitting the scope classifier on the dev split.

Both are fitted on *scored dev questions*. For the base model these are just
the dev questions searched with it. The course adapter is trained on the dev
questions too, so scoring them with the final adapter would flatter it (its
cosines for questions it has seen are higher than for new ones, and a scope
threshold fitted on them would refuse real students). The pipeline therefore
cross-fits: each dev question is scored by an adapter trained without it, and
the settings fitted on those scores ship with the final adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tutor.retrieval.devset import DevSet
from tutor.retrieval.evaluate import RankingMetrics, ranking_metrics
from tutor.retrieval.fusion import FusionConfig
from tutor.retrieval.retriever import QueryScores, Retriever
from tutor.retrieval.scope import ScopeFeatures, ScopeModel, fit_scope
from tutor.retrieval.settings import Calibration

# The decision threshold is the highest that still answers this share of the
# dev in-scope questions: a wrong refusal costs a student more than a polite
# answer to a near-topic question.
MIN_IN_SCOPE_KEPT = 0.97
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))
FUSION_GRID: tuple[FusionConfig, ...] = (
    FusionConfig("dense"),
    FusionConfig("lexical"),
    FusionConfig("rrf"),
    *(FusionConfig("convex", a, lexical_norm=n) for n in ("max", "query")
      for a in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)),
)


@dataclass(frozen=True)
class ScoredQuestion:
    id: str
    kind: str  # in-scope | off-topic | near-topic
    sections: tuple[str, ...]
    scores: QueryScores

    @property
    def in_scope(self) -> bool:
        return self.kind == "in-scope"


def score_devset(retriever: Retriever, devset: DevSet) -> list[ScoredQuestion]:
    out = []
    for q in devset.in_scope:
        s = retriever.scores(q.question)
        if s is not None:
            out.append(ScoredQuestion(q.id, "in-scope", q.sections, s))
    for o in devset.out_of_scope:
        s = retriever.scores(o.question)
        if s is not None:
            out.append(ScoredQuestion(o.id, o.kind, (), s))
    return out


def rank_metrics(retriever: Retriever, rows: list[ScoredQuestion], fusion: FusionConfig) -> RankingMetrics:
    """recall@k / MRR (ranx) of one fusion over already-scored questions."""
    runs, relevant = {}, {}
    for row in rows:
        if not row.in_scope:
            continue
        _, fused = retriever.rank(row.scores, fusion)
        low = float(fused.min())
        runs[row.id] = {s.id: float(v - low + 1e-6) for s, v in zip(retriever.sections, fused)}
        relevant[row.id] = row.sections
    return ranking_metrics(runs, relevant)


def choose_fusion(retriever: Retriever, rows: list[ScoredQuestion]) -> tuple[FusionConfig, list[dict[str, Any]]]:
    """The grid's best fusion by recall@1, then MRR; and the whole grid for the card."""
    table = []
    best, best_key = FUSION_GRID[0], (-1.0, -1.0)
    for fusion in FUSION_GRID:
        m = rank_metrics(retriever, rows, fusion)
        table.append({"method": fusion.method, "alpha": fusion.alpha, "lexical_norm": fusion.lexical_norm,
                      "recall_at_1": m.recall_at_1,
                      "recall_at_3": m.recall_at_3, "mrr": m.mrr})
        key = (round(m.recall_at_1, 6), round(m.mrr, 6))
        if key > best_key:
            best, best_key = fusion, key
    return best, table


def sweep(model: ScopeModel, rows: list[tuple[ScopeFeatures, str]]) -> list[dict[str, float]]:
    """Kept / declined shares at each threshold: the calibration table of the card."""
    probs = [(model.probability(f), kind) for f, kind in rows]
    out = []
    for t in THRESHOLDS:
        entry: dict[str, float] = {"threshold": t}
        for kind, key in (("in-scope", "in_scope_kept"), ("off-topic", "off_topic_declined"),
                          ("near-topic", "near_topic_declined")):
            xs = [p for p, k in probs if k == kind]
            hits = sum(p >= t for p in xs) if kind == "in-scope" else sum(p < t for p in xs)
            entry[key] = hits / len(xs) if xs else 0.0
        out.append(entry)
    return out


def reliability(model: ScopeModel, rows: list[tuple[ScopeFeatures, str]], bins: int = 5) -> list[dict]:
    """Mean predicted probability vs observed in-scope share, per probability bin."""
    out = []
    probs = [(model.probability(f), kind == "in-scope") for f, kind in rows]
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(p, y) for p, y in probs if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if inside:
            out.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(inside),
                        "mean_score": sum(p for p, _ in inside) / len(inside),
                        "in_scope_share": sum(y for _, y in inside) / len(inside)})
    return out


def fit_calibration(
    retriever: Retriever,
    rows: list[ScoredQuestion],
    model_id: str,
    note: str = "",
    extra_out: list[ScoredQuestion] | None = None,
) -> tuple[Calibration, dict[str, Any]]:
    """Fusion by grid search, scope by logistic regression + threshold; plus the tables behind them.

    ``extra_out``: out-of-scope training questions (adapters/data/embedder-questions.yaml) that join
    the dev split's out-of-scope ones in the scope fit — 18 dev questions are too few to teach it what
    near-topic jargon looks like. The threshold and the sweep still come from the dev split alone.
    """
    fusion, grid = choose_fusion(retriever, rows)
    labelled = [(r.scores.features, r.kind) for r in rows]
    extra = [(r.scores.features, False) for r in extra_out or () if not r.in_scope]
    model = fit_scope([(f, k == "in-scope") for f, k in labelled] + extra, model_id)
    if extra:
        n_in = sum(k == "in-scope" for _, k in labelled)
        model = replace(model, fitted_on=f"dev split ({n_in} in-scope, {len(labelled) - n_in} out-of-scope questions) "
                        f"plus {len(extra)} out-of-scope training questions")
    table = sweep(model, labelled)
    ok = [r["threshold"] for r in table if r["in_scope_kept"] >= MIN_IN_SCOPE_KEPT]
    model = replace(model, threshold=max(ok, default=0.5), fitted_on=model.fitted_on + note)
    model = replace(model, calibration={"dev_sweep": table, "dev_reliability": reliability(model, labelled)})
    return Calibration(model_id, fusion, model), {"fusion_grid": grid}
