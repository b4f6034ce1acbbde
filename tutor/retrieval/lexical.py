"""Lexical search: BM25 (bm25s) over the same passages the embedder sees.

BM25 catches what a small embedder blurs — exact names like "GRU", "DALL-E",
"backpropagation" — and its vocabulary doubles as the course vocabulary the
scope rule checks a question's key terms against. Students misspell ("nueral",
"evaulating"), so a query word the course does not know is mapped to a course
word one edit away (symmetric-delete lookup, words of 5+ letters, never an
everyday English word). Building all this for a course takes milliseconds, so
it is rebuilt rather than cached.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tutor.retrieval.text import QUESTION_WORDS, STOPWORDS, common_words, stem, terms, words

BM25_K1 = 1.2
BM25_B = 0.75


MIN_FUZZY_LENGTH = 5
_WORD_RE = re.compile(r"[A-Za-z]+")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class LexicalIndex:
    """BM25 over passage texts, the document frequency of every course term, and a typo map."""

    bm25: Any
    n_docs: int
    df: Counter = field(default_factory=Counter)
    word_df: Counter = field(default_factory=Counter)  # raw (unstemmed) course words
    near: dict[str, set[str]] = field(default_factory=dict)  # one-delete variant -> course words

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        tokenized = [terms(t) or ["\u2205"] for t in texts]  # bm25s needs a token per document
        bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        bm25.index(tokenized, show_progress=False)
        df: Counter = Counter()
        word_df: Counter = Counter()
        for toks, text in zip(tokenized, texts):
            df.update(set(toks))
            word_df.update(set(words(text)))
        near: dict[str, set[str]] = {}
        for w in word_df:
            if len(w) >= MIN_FUZZY_LENGTH and not w.isdigit():
                for v in _deletes(w) | {w}:
                    near.setdefault(v, set()).add(w)
        return cls(bm25=bm25, n_docs=len(texts), df=df, word_df=word_df, near=near)

    def correct(self, word: str) -> str:
        """The word, or the most frequent course word one edit away when the course lacks it."""
        if len(word) < MIN_FUZZY_LENGTH or word in self.word_df or stem([word])[0] in self.df:
            return word
        if stem([word])[0] in common_words():
            return word
        candidates: set[str] = set()
        for v in _deletes(word) | {word}:
            candidates |= self.near.get(v, set())
        if not candidates:
            return word
        return max(sorted(candidates), key=lambda c: self.word_df[c])

    def correct_text(self, query: str) -> str:
        """The query with misspelt words fixed and split compounds joined ("feed forward" ->
        "feedforward") where the course has the right word; everything else untouched."""
        spans = [(m.start(), m.end(), m.group().lower()) for m in _WORD_RE.finditer(query)]
        out, pos, i = [], 0, 0
        while i < len(spans):
            start, end, word = spans[i]
            replacement = None
            if i + 1 < len(spans):
                n_start, n_end, n_word = spans[i + 1]
                joined = word + n_word
                if (
                    query[end:n_start] in {" ", "-"}
                    and joined in self.word_df
                    and word not in STOPWORDS
                    and n_word not in STOPWORDS
                ):
                    out.append(query[pos:start] + joined)
                    pos, i = n_end, i + 2
                    continue
            fixed = self.correct(word)
            if fixed != word:
                replacement = fixed
            if replacement is not None:
                out.append(query[pos:start] + replacement)
                pos = end
            i += 1
        out.append(query[pos:])
        return "".join(out)

    def query_terms(self, query: str, drop_question_words: bool = False) -> list[str]:
        """Stemmed, typo-corrected content terms of a query."""
        skip = STOPWORDS | QUESTION_WORDS if drop_question_words else STOPWORDS
        kept = [self.correct(w) for w in words(query) if w not in skip and (len(w) > 1 or w.isdigit())]
        return stem(kept)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no query term is in the course)."""
        q = [t for t in self.query_terms(query) if t in self.df]
        if not q:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(q), dtype=np.float32)

    def ceiling(self, query: str) -> float:
        """Roughly the highest BM25 score the query can reach: each course term at saturation."""
        return sum(self.idf(t) * (BM25_K1 + 1) for t in set(self.query_terms(query)) if t in self.df)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unknown terms get the highest value."""
        return math.log(1.0 + (self.n_docs + 0.5) / (self.df.get(term, 0) + 0.5))

    def known(self, term: str) -> bool:
        return term in self.df
