"""Speed of retrieval: model load, index build (cold and cached), query and sentence-pick latency."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _queries(course) -> list[str]:
    from tutor.retrieval.devset import load_devset
    from tutor.retrieval.errors import RetrievalError

    try:
        ds = load_devset(course_id=course.id)
        return [q.question for q in ds.in_scope] + [q.question for q in ds.out_of_scope]
    except RetrievalError:
        return [f"what is {s.title.lower()}?" for s in course.sections()]


def bench_retrieval(course_path: str | Path | None = None, adapter: str | None = None, rounds: int = 2) -> dict[str, Any]:
    """All figures in seconds or milliseconds; queries are the dev-set questions (else section titles)."""
    from tutor.retrieval.embedder import load_embedder
    from tutor.retrieval.retriever import Retriever
    from tutor.retrieval.service import open_course

    course = open_course(course_path)
    started = time.perf_counter()
    import torch  # noqa: F401 - timed: the embedder runs on plain torch; the import is most of a load
    import_s = time.perf_counter() - started
    embedder = load_embedder(adapter)
    model_load_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        retriever = Retriever.build(course, embedder=embedder, cache_dir=Path(tmp))
        build_cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        retriever = Retriever.build(course, embedder=embedder, cache_dir=Path(tmp))
        build_warm_s = time.perf_counter() - t0
        cache_hit = retriever.stats.cache_hit

    queries = _queries(course)
    for q in queries[:5]:
        retriever.search(q + " (warm-up)")
    search_ms: list[float] = []
    sentence_ms: list[float] = []
    for r in range(rounds):
        for q in queries:
            q = q if r == 0 else f"{q} "  # a new string each round: no query-embedding cache hit
            t0 = time.perf_counter()
            res = retriever.search(q, k=5)
            search_ms.append((time.perf_counter() - t0) * 1000)
            if res.hits:
                t0 = time.perf_counter()
                retriever.best_sentences(q, res.hits[0].section_id, n=2)
                sentence_ms.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tutor", "--help"], capture_output=True, check=False)
    help_s = time.perf_counter() - t0

    return {
        "model_id": embedder.model_id,
        "sections": len(retriever.sections),
        "passages": retriever.stats.passages,
        "sentences": retriever.stats.sentences,
        "import_s": round(import_s, 3),
        "model_load_s": round(model_load_s, 3),
        "index_build_cold_s": round(build_cold_s, 3),
        "index_build_cached_s": round(build_warm_s, 3),
        "cache_hit": cache_hit,
        "queries": len(search_ms),
        "query_p50_ms": round(statistics.median(search_ms), 2),
        "query_p95_ms": round(_percentile(search_ms, 0.95), 2),
        "query_max_ms": round(max(search_ms), 2),
        "best_sentences_p50_ms": round(statistics.median(sentence_ms), 3) if sentence_ms else None,
        "best_sentences_p95_ms": round(_percentile(sentence_ms, 0.95), 3) if sentence_ms else None,
        "cli_help_s": round(help_s, 3),
    }
