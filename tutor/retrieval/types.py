"""Result types shared by the retriever, the answer pipeline and the CLI.

Plain frozen dataclasses: cheap to build per query and trivially JSON-able.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """One indexed piece of a section: what the embedder and BM25 actually see.

    Short sections are one passage; long ones are split into overlapping windows
    of whole sentences, each prefixed with the section title so it stands alone.
    """

    section_id: str
    title: str
    text: str  # the passage's own lesson text (no title prefix)
    indexed: str  # the text given to the embedder / BM25 (title-prefixed)


@dataclass(frozen=True)
class SearchHit:
    """One section found for a query.

    ``score`` is the fused score the hits are ranked by; ``dense`` is the best
    cosine similarity of the query with the section's passages and ``lexical``
    the best BM25 score, kept so callers can explain or re-rank.
    """

    section_id: str
    title: str
    text: str
    score: float
    dense: float
    lexical: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchResult:
    """The sections that answer a query, best first, and whether the course covers it at all."""

    query: str
    hits: list[SearchHit] = field(default_factory=list)
    in_scope: bool = False
    scope_score: float = 0.0  # calibrated probability that the course covers the query

    @property
    def top(self) -> SearchHit | None:
        return self.hits[0] if self.hits else None

    def to_dict(self) -> dict[str, Any]:
        """The `tutor search --json` object: query, in_scope, scope_score, hits."""
        return {
            "query": self.query,
            "in_scope": self.in_scope,
            "scope_score": round(self.scope_score, 4),
            "hits": [
                {
                    "section_id": h.section_id,
                    "title": h.title,
                    "score": round(h.score, 4),
                    "dense": round(h.dense, 4),
                    "lexical": round(h.lexical, 4),
                    "text": h.text,
                }
                for h in self.hits
            ],
        }
