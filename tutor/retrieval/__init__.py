"""Retrieval: find the lesson passage that answers a student's question, and know when none does.

Public API (names resolved lazily so importing the package stays cheap)::

    from tutor.retrieval import Retriever, SearchResult, SearchHit, Embedder, load_embedder
    emb = load_embedder(adapter=None)        # MiniLM + shipped course adapter; "none" = base model
    r = Retriever.build(course, embedder=emb, cache_dir=None)
    res = r.search(query, k=5)               # SearchResult(query, hits, in_scope, scope_score)
    r.best_sentences(query, section_id, n=2) # [(sentence, score)] in text order
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.retrieval.embedder import Embedder, MiniLMEmbedder, load_embedder
    from tutor.retrieval.errors import RetrievalError
    from tutor.retrieval.retriever import Retriever, RetrieverConfig
    from tutor.retrieval.types import SearchHit, SearchResult

_EXPORTS = {
    "Embedder": "tutor.retrieval.embedder",
    "MiniLMEmbedder": "tutor.retrieval.embedder",
    "load_embedder": "tutor.retrieval.embedder",
    "RetrievalError": "tutor.retrieval.errors",
    "Retriever": "tutor.retrieval.retriever",
    "RetrieverConfig": "tutor.retrieval.retriever",
    "SearchHit": "tutor.retrieval.types",
    "SearchResult": "tutor.retrieval.types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tutor.retrieval' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
