"""Hybrid retrieval over a course: dense (MiniLM) + lexical (BM25), fused, with a scope decision.

The unit of retrieval is the section (what the tutor cites and quizzes point
at); a section's dense and lexical scores are the best over its passages.
`best_sentences` then picks the sentences inside a section that carry the
answer, for the tutor's evidence.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tutor.retrieval import cache as index_cache
from tutor.retrieval.embedder import Embedder
from tutor.retrieval.errors import RetrievalError
from tutor.retrieval.fusion import FusionConfig, fuse
from tutor.retrieval.keys import QuestionKey
from tutor.retrieval.lexical import LexicalIndex
from tutor.retrieval.passages import PassageConfig, make_passages
from tutor.retrieval.scope import ScopeFeatures, ScopeModel, scope_features
from tutor.retrieval.text import clean_query, plain, sentences, terms, words
from tutor.retrieval.types import Passage, SearchHit, SearchResult

# Weight of the query's (idf-weighted) term overlap with a sentence, next to its
# cosine, when picking a section's best sentences. Measured on the dev split
# (base MiniLM, best listed section): a key fact is in the 2 sentences picked
# for 0.833 of questions at weight 0, 0.869 at 0.15, 0.881 at 0.3 and 0.5,
# 0.869 at 1.0 (the section's first 2 sentences: 0.643).
SENTENCE_LEXICAL_WEIGHT = 0.3

# How many of the best sections (by the lesson text alone) the example questions may reorder
# (`tutor.retrieval.keys`): letting them lift any section raised dev recall@1 as much but cost
# heldout recall@3 two questions; within the top three, recall@3 cannot change.
KEY_RERANK_TOP = 3


@dataclass(frozen=True)
class RetrieverConfig:
    passages: PassageConfig = field(default_factory=PassageConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)


@dataclass(frozen=True)
class QueryScores:
    """Everything retrieval knows about one query: per-section scores and scope features."""

    query: str
    dense: np.ndarray  # per section, best passage cosine
    lexical: np.ndarray  # per section, best passage BM25
    features: ScopeFeatures
    lexical_ceiling: float = 0.0  # the most BM25 could give this query (for query-scaled fusion)
    keys: np.ndarray | None = None  # per section, best example-question cosine (-inf: none); None = no keys


@dataclass
class BuildStats:
    seconds: float
    cache_hit: bool
    passages: int
    sentences: int
    cache_file: Path | None


class Retriever:
    """Search one course. Build with `Retriever.build`; safe to share between threads for reading."""

    def __init__(
        self,
        sections: list[Any],
        passages: list[Passage],
        passage_vectors: np.ndarray,
        sentence_rows: list[tuple[int, str]],
        sentence_vectors: np.ndarray,
        embedder: Embedder,
        config: RetrieverConfig,
        scope: ScopeModel,
        stats: BuildStats,
        question_keys: Sequence[QuestionKey] = (),
        key_vectors: np.ndarray | None = None,
    ) -> None:
        self._sections = sections
        self._section_index = {s.id: i for i, s in enumerate(sections)}
        self.passages = passages
        self._passage_section = np.array([self._section_index[p.section_id] for p in passages], dtype=np.int64)
        self._passage_vectors = passage_vectors
        self._sentence_rows = sentence_rows
        self._sentence_vectors = sentence_vectors
        self._sentences_of: dict[int, list[int]] = {}
        for row, (sec, _) in enumerate(sentence_rows):
            self._sentences_of.setdefault(sec, []).append(row)
        self.embedder = embedder
        self.config = config
        self.scope = scope
        self.stats = stats
        self.question_keys = tuple(question_keys)  # `build` keeps only those of known sections, as the vectors
        self._key_section = np.array([self._section_index[k.section_id] for k in self.question_keys], dtype=np.int64)
        self._key_vectors = (
            np.ascontiguousarray(key_vectors, dtype=np.float32)
            if key_vectors is not None and len(self.question_keys)
            else None
        )
        self.lexical = LexicalIndex.build([p.indexed for p in passages])
        self._plain_text = [plain(s.text) for s in sections]
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        course: Any,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
        *,
        config: RetrieverConfig | None = None,
        scope: ScopeModel | None = None,
        use_cache: bool = True,
        question_keys: Sequence[QuestionKey] | None = None,
    ) -> Retriever:
        """Index a course, reusing the cached embeddings when the course and model are unchanged.

        ``cache_dir`` None = `tutor.config.paths().index_cache`; ``config`` / ``scope`` None = the
        fusion and scope classifier calibrated for this embedder (else the defaults);
        ``question_keys`` None = the course's example questions (`tutor.retrieval.keys`), () = none.
        """
        started = time.perf_counter()
        if embedder is None:
            from tutor.retrieval.embedder import load_embedder

            embedder = load_embedder()
        if config is None or scope is None:
            from tutor.retrieval.settings import calibration_for

            calibration = calibration_for(embedder)
            if config is None:
                config = RetrieverConfig(fusion=calibration.fusion) if calibration else RetrieverConfig()
            if scope is None:
                scope = calibration.scope if calibration else ScopeModel.default()
        sections = list(course.sections())
        if not sections:
            raise RetrievalError(f"course {getattr(course, 'id', '?')!r} has no sections to search")
        passages = make_passages(sections, config.passages)
        sentence_rows = [(i, s) for i, sec in enumerate(sections) for s in sentences(sec.text)]
        passage_texts = [p.indexed for p in passages]
        sentence_texts = [s for _, s in sentence_rows]
        if question_keys is None:
            from tutor.retrieval.keys import default_question_keys

            question_keys = default_question_keys(course)
        section_ids = {s.id for s in sections}
        question_keys = tuple(k for k in question_keys if k.section_id in section_ids)
        key_texts = [k.question for k in question_keys]
        digest = index_cache.texts_digest(passage_texts + ["\x1f"] + sentence_texts + ["\x1e"] + key_texts)

        path = None
        cached = None
        if use_cache:
            from tutor.config import paths

            cache_dir = Path(cache_dir) if cache_dir is not None else paths().index_cache
            content_hash = course.content_hash() if hasattr(course, "content_hash") else ""
            sections_digest = hashlib.sha256(
                "\0".join(f"{s.id}\x1f{s.title}\x1f{s.text}" for s in sections).encode()
            ).hexdigest()[:16]
            key = index_cache.index_key(content_hash, sections_digest, embedder.model_id, config.passages.key())
            path = index_cache.cache_path(cache_dir, getattr(course, "id", "course"), embedder.model_id, key)
            cached = index_cache.load(path, digest)

        if cached is None:
            vectors = embedder.encode(passage_texts + sentence_texts + key_texts)
            n_text = len(passage_texts) + len(sentence_texts)
            passage_vectors = vectors[: len(passage_texts)]
            sentence_vectors = vectors[len(passage_texts) : n_text]
            key_vectors = vectors[n_text:] if key_texts else None
            if path is not None:
                try:
                    index_cache.save(path, index_cache.CachedIndex(passage_vectors, sentence_vectors, digest, key_vectors))
                except OSError:
                    pass  # a read-only cache folder only costs a rebuild next time
        else:
            passage_vectors, sentence_vectors = cached.passage_vectors, cached.sentence_vectors
            key_vectors = cached.key_vectors if key_texts else None

        stats = BuildStats(
            seconds=time.perf_counter() - started,
            cache_hit=cached is not None,
            passages=len(passages),
            sentences=len(sentence_rows),
            cache_file=path,
        )
        return cls(
            sections,
            passages,
            np.ascontiguousarray(passage_vectors, dtype=np.float32),
            sentence_rows,
            np.ascontiguousarray(sentence_vectors, dtype=np.float32),
            embedder,
            config,
            scope,
            stats,
            question_keys,
            key_vectors,
        )

    # ----------------------------------------------------------------- search
    @property
    def sections(self) -> list[Any]:
        return list(self._sections)

    def _embed(self, query: str) -> np.ndarray:
        """The query's embedding; the last few are kept, since `best_sentences` follows `search`."""
        with self._lock:
            vec = self._query_cache.get(query)
            if vec is not None:
                self._query_cache.move_to_end(query)
                return vec
        vec = self.embedder.encode([query])[0]
        with self._lock:
            self._query_cache[query] = vec
            if len(self._query_cache) > 64:
                self._query_cache.popitem(last=False)
        return vec

    def _per_section(self, passage_scores: np.ndarray) -> np.ndarray:
        out = np.full(len(self._sections), -np.inf, dtype=np.float32)
        np.maximum.at(out, self._passage_section, passage_scores.astype(np.float32))
        return out

    def scores(self, query: str) -> QueryScores | None:
        """Per-section dense and lexical scores and the scope features; None for an empty query."""
        q = clean_query(query)
        if not words(q):
            return None
        q = self.lexical.correct_text(q)
        qv = self._embed(q)
        dense = self._per_section(self._passage_vectors @ qv)
        lexical = self._per_section(self.lexical.scores(q))
        features = scope_features(q, float(dense.max()), float(lexical.max()), self.lexical)
        keys = None
        if self._key_vectors is not None:
            keys = np.full(len(self._sections), -np.inf, dtype=np.float32)
            np.maximum.at(keys, self._key_section, (self._key_vectors @ qv).astype(np.float32))
        return QueryScores(q, dense, lexical, features, self.lexical.ceiling(q), keys)

    def rank(self, scores: QueryScores, fusion: FusionConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Section indices best first, and the fused score of every section."""
        fusion = fusion or self.config.fusion
        fused = fuse(scores.dense, scores.lexical, fusion, scores.lexical_ceiling)
        order = np.argsort(-fused, kind="stable")
        if not (fusion.question_keys and scores.keys is not None):
            return order, fused
        # the example questions reorder the sections the lesson text ranks first, never bring in another
        top = order[:KEY_RERANK_TOP]
        keyed = fuse(np.maximum(scores.dense, scores.keys), scores.lexical, fusion, scores.lexical_ceiling)
        top = top[np.argsort(-keyed[top], kind="stable")]
        fused = fused.copy()
        fused[top] = keyed[top]
        return np.concatenate([top, order[KEY_RERANK_TOP:]]), fused

    def search(self, query: str, k: int = 5) -> SearchResult:
        """The k sections that best answer the query, and whether the course covers it at all."""
        if k < 1:
            raise RetrievalError(f"k must be at least 1 (got {k})")
        scores = self.scores(query)
        if scores is None:
            return SearchResult(query=query, hits=[], in_scope=False, scope_score=0.0)
        order, fused = self.rank(scores)
        hits = [
            SearchHit(
                section_id=self._sections[i].id,
                title=self._sections[i].title,
                text=self._plain_text[i],
                score=float(fused[i]),
                dense=float(scores.dense[i]),
                lexical=float(scores.lexical[i]),
            )
            for i in order[:k]
        ]
        in_scope, probability = self.scope.decide(scores.features)
        return SearchResult(query=query, hits=hits, in_scope=in_scope, scope_score=probability)

    def section_sentences(self, section_id: str) -> list[str]:
        """The sentences `best_sentences` chooses from, in text order."""
        if section_id not in self._section_index:
            raise RetrievalError(f"unknown section id {section_id!r}")
        return [self._sentence_rows[r][1] for r in self._sentences_of.get(self._section_index[section_id], [])]

    def section_text(self, section_id: str) -> str:
        """A section's body as plain prose (markdown removed), as hits carry it."""
        if section_id not in self._section_index:
            raise RetrievalError(f"unknown section id {section_id!r}")
        return self._plain_text[self._section_index[section_id]]

    def best_sentences(self, query: str, section_id: str, n: int = 2) -> list[tuple[str, float]]:
        """The section's ``n`` sentences most relevant to the query (cosine + term overlap), in text order."""
        if section_id not in self._section_index:
            raise RetrievalError(f"unknown section id {section_id!r}")
        rows = self._sentences_of.get(self._section_index[section_id], [])
        q = clean_query(query)
        if not rows or n < 1:
            return []
        if not words(q):
            return [(self._sentence_rows[r][1], 0.0) for r in rows[:n]]
        q = self.lexical.correct_text(q)
        qv = self._embed(q)
        dense = self._sentence_vectors[rows] @ qv
        q_terms = set(self.lexical.query_terms(q, drop_question_words=True)) or set(self.lexical.query_terms(q))
        weight = sum(self.lexical.idf(t) for t in q_terms) or 1.0
        overlap = np.array(
            [sum(self.lexical.idf(t) for t in q_terms & set(terms(self._sentence_rows[r][1]))) / weight for r in rows],
            dtype=np.float32,
        )
        score = dense + SENTENCE_LEXICAL_WEIGHT * overlap
        chosen = sorted(np.argsort(-score, kind="stable")[:n].tolist())
        return [(self._sentence_rows[rows[j]][1], float(score[j])) for j in chosen]
