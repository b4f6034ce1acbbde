"""The figures of `tutor eval retrieval` as one JSON-able dict (also written into the adapter card)."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from tutor.retrieval.devset import DevSet, load_devset
from tutor.retrieval.evaluate import evaluate_retriever
from tutor.retrieval.fusion import FusionConfig
from tutor.retrieval.retriever import Retriever

GOALS = {"recall_at_1": 0.85, "recall_at_3": 0.95, "out_of_scope_declined": 0.9, "in_scope_refused_max": 0.05}


def evidence_metrics(retriever: Retriever, devset: DevSet, n: int = 2) -> dict[str, float]:
    """How often the n sentences `best_sentences` picks from the best listed section state a key fact,
    against simply taking the section's first n sentences."""
    picked = first = total = 0
    for q in devset.in_scope:
        if not q.key_facts:
            continue
        section = q.sections[0]
        chosen = " ".join(s for s, _ in retriever.best_sentences(q.question, section, n=n)).lower()
        opening = " ".join(retriever.section_sentences(section)[:n]).lower()
        text = retriever.section_text(section).lower()
        facts = [alts for alts in q.key_facts if any(a.lower() in text for a in alts)]
        if not facts:
            continue
        total += 1
        picked += any(any(a.lower() in chosen for a in alts) for alts in facts)
        first += any(any(a.lower() in opening for a in alts) for alts in facts)
    return {
        f"key_fact_in_best_{n}": picked / total if total else 0.0,
        f"key_fact_in_first_{n}": first / total if total else 0.0,
        "questions": total,
    }


def embedder_report(retriever: Retriever, devset: DevSet, with_lexical: bool) -> dict[str, Any]:
    methods = {"dense": FusionConfig("dense")}
    if with_lexical:
        methods = {"lexical": FusionConfig("lexical"), **methods}
    methods["fused (RRF)"] = FusionConfig("rrf")
    if retriever.question_keys:
        methods["fused, no question keys"] = replace(retriever.config.fusion, question_keys=False)
    methods["fused"] = retriever.config.fusion
    report = evaluate_retriever(retriever, devset, methods).to_dict()
    report["evidence"] = evidence_metrics(retriever, devset)
    report["fusion"] = asdict(retriever.config.fusion)
    return report


def retrieval_report(
    split: str = "heldout",
    course_path: str | Path | None = None,
    questions: str | Path | None = None,
    embedders: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate the base embedder and (when shipped) the course adapter on one split of the dev set."""
    from tutor.retrieval.embedder import load_embedder, resolve_adapter
    from tutor.retrieval.service import open_course

    course = open_course(course_path)
    devset = load_devset(Path(questions) if questions else None, course.id).split(split)  # type: ignore[arg-type]
    if embedders is None:
        embedders = {"base": load_embedder("none")}
        if resolve_adapter(None) is not None:
            embedders["tuned"] = load_embedder(None)
    shipped = "tuned" if "tuned" in embedders else "base"
    out: dict[str, Any] = {
        "split": split,
        "n_in_scope": len(devset.in_scope),
        "n_off_topic": sum(q.kind == "off-topic" for q in devset.out_of_scope),
        "n_near_topic": sum(q.kind == "near-topic" for q in devset.out_of_scope),
        "shipped": shipped,
        "embedders": {},
        "goals": GOALS,
    }
    from tutor.retrieval.keys import keys_for_split

    keys = keys_for_split(course, split, devset_path=Path(questions) if questions else None)
    out["question_keys"] = len(keys)
    for n, (name, embedder) in enumerate(embedders.items()):
        retriever = Retriever.build(course, embedder=embedder, question_keys=keys)
        out["embedders"][name] = embedder_report(retriever, devset, with_lexical=n == 0)
    best = out["embedders"][shipped]
    fused, scope = best["ranking"]["fused"], best["scope"]
    out["goals_met"] = {
        "recall_at_1": fused["recall_at_1"] >= GOALS["recall_at_1"],
        "recall_at_3": fused["recall_at_3"] >= GOALS["recall_at_3"],
        "out_of_scope_declined": scope["out_of_scope_declined"] >= GOALS["out_of_scope_declined"],
        "in_scope_refused_max": 1.0 - scope["in_scope_kept"] <= GOALS["in_scope_refused_max"],
    }
    return out
