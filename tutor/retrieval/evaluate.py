"""Retrieval quality on the dev set: recall@k and MRR (by ranx), and scope accuracy.

A question counts as found at k when any of the sections listed for it is in
the top k (ranx ``hit_rate@k``; the set lists every section that answers it);
``first@1`` is the stricter share whose top hit is the listed best section.
Scope figures: in-scope questions kept (1 - false refusals), off-topic and
near-topic questions declined, each on its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tutor.retrieval.devset import DevSet
from tutor.retrieval.fusion import FusionConfig
from tutor.retrieval.retriever import QueryScores, Retriever

RANX_METRICS = ("hit_rate@1", "hit_rate@3", "hit_rate@5", "mrr")


@dataclass(frozen=True)
class RankingMetrics:
    recall_at_1: float
    recall_at_3: float
    recall_at_5: float
    mrr: float
    first_at_1: float
    n: int


@dataclass(frozen=True)
class ScopeMetrics:
    in_scope_kept: float  # share of in-scope questions answered (1 - false refusals)
    off_topic_declined: float
    near_topic_declined: float
    out_of_scope_declined: float  # off-topic and near-topic together
    n_in: int
    n_off: int
    n_near: int
    brier: float  # mean squared error of scope_score against the truth
    threshold: float


@dataclass
class EmbedderReport:
    model_id: str
    ranking: dict[str, RankingMetrics] = field(default_factory=dict)  # by method
    scope: ScopeMetrics | None = None
    misses: list[dict[str, Any]] = field(default_factory=list)  # default method's top-1 misses

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "ranking": {m: asdict(r) for m, r in self.ranking.items()},
            "scope": asdict(self.scope) if self.scope else None,
            "misses": self.misses,
        }


def ranking_metrics(runs: dict[str, dict[str, float]], relevant: dict[str, tuple[str, ...]]) -> RankingMetrics:
    """recall@1/3/5 (any relevant section in the top k) and MRR via ranx, plus first@1."""
    from ranx import Qrels, Run, evaluate

    if not runs:
        return RankingMetrics(0.0, 0.0, 0.0, 0.0, 0.0, 0)
    qrels = Qrels({q: {s: 1 for s in secs} for q, secs in relevant.items()})
    run = Run({q: dict(scores) for q, scores in runs.items()})
    values = evaluate(qrels, run, list(RANX_METRICS), make_comparable=True)
    first = sum(1 for q, scores in runs.items() if max(scores, key=scores.get) == relevant[q][0]) / len(runs)
    return RankingMetrics(
        recall_at_1=float(values["hit_rate@1"]),
        recall_at_3=float(values["hit_rate@3"]),
        recall_at_5=float(values["hit_rate@5"]),
        mrr=float(values["mrr"]),
        first_at_1=first,
        n=len(runs),
    )


def _run(retriever: Retriever, scores: QueryScores, fusion: FusionConfig) -> dict[str, float]:
    _, fused = retriever.rank(scores, fusion)
    # ranx drops zero scores as "not retrieved": shift so every section keeps its rank
    low = float(fused.min())
    return {s.id: float(v - low + 1e-6) for s, v in zip(retriever.sections, fused)}


def evaluate_retriever(
    retriever: Retriever,
    devset: DevSet,
    methods: dict[str, FusionConfig] | None = None,
) -> EmbedderReport:
    """Ranking metrics for each fusion method and scope metrics for the retriever's scope model."""
    if methods is None:
        default = retriever.config.fusion
        methods = {"dense": FusionConfig("dense"), "lexical": FusionConfig("lexical"), "fused": default}
    report = EmbedderReport(model_id=retriever.embedder.model_id)
    relevant = {q.id: q.sections for q in devset.in_scope}
    scored = {q.id: retriever.scores(q.question) for q in devset.in_scope}
    for name, fusion in methods.items():
        runs = {qid: _run(retriever, s, fusion) for qid, s in scored.items() if s is not None}
        report.ranking[name] = ranking_metrics(runs, {q: relevant[q] for q in runs})
    default_fusion = retriever.config.fusion
    for q in devset.in_scope:
        s = scored[q.id]
        if s is None:
            continue
        order, _ = retriever.rank(s, default_fusion)
        top = retriever.sections[int(order[0])].id
        if top not in q.sections:
            report.misses.append({"id": q.id, "question": q.question, "expected": list(q.sections), "got": top})
    report.scope = scope_metrics(retriever, devset)
    return report


def scope_metrics(retriever: Retriever, devset: DevSet) -> ScopeMetrics:
    kept, declined = [], {"off-topic": [], "near-topic": []}
    squared = []
    for q in devset.in_scope:
        res = retriever.search(q.question, k=1)
        kept.append(res.in_scope)
        squared.append((1.0 - res.scope_score) ** 2)
    for q in devset.out_of_scope:
        res = retriever.search(q.question, k=1)
        declined.setdefault(q.kind, []).append(not res.in_scope)
        squared.append(res.scope_score**2)

    def share(xs: list[bool]) -> float:
        return sum(xs) / len(xs) if xs else 0.0

    out_all = declined["off-topic"] + declined["near-topic"]
    return ScopeMetrics(
        in_scope_kept=share(kept),
        off_topic_declined=share(declined["off-topic"]),
        near_topic_declined=share(declined["near-topic"]),
        out_of_scope_declined=share(out_all),
        n_in=len(kept),
        n_off=len(declined["off-topic"]),
        n_near=len(declined["near-topic"]),
        brier=sum(squared) / len(squared) if squared else 0.0,
        threshold=retriever.scope.threshold,
    )
