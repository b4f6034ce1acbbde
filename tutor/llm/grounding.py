"""How much of an explanation the lesson evidence supports.

Each explanation sentence (at least ``MIN_WORDS`` words) gets a support score:
the smaller of
- its best cosine with any evidence sentence (the retrieval embedder, MiniLM), and
- 1 - its novelty: the share of its content words found neither in the evidence
  nor in the question (invented names, dates and places show up here, while a
  fluent paraphrase keeps a high cosine and a low novelty).
A sentence is supported when its score reaches ``SENTENCE_SUPPORT``; the answer's
``grounded`` figure is the share of supported sentences, and the explanation is
shown as fact only when that share reaches ``ANSWER_SUPPORT``.

Measured on 92 hand-labelled explanation sentences of base-model dev answers
(41 unsupported): cosine alone at its best threshold agreed with the labels on
65-68% of sentences; the combined score at 0.65 agrees on 66-73% and flags 24
sentences, 71% of them truly unsupported, catching 41% of the unsupported ones.
It is a weak detector (sentence similarity cannot see a reversed relation such
as "high temperature makes output predictable"), so the answer keeps the lesson's
own key sentences first and the figure is reported, never the only safeguard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tutor.llm.text import novelty, split_sentences

Encode = Callable[[list[str]], np.ndarray]

MIN_WORDS = 4
SENTENCE_SUPPORT = 0.65
ANSWER_SUPPORT = 0.50


@dataclass(frozen=True)
class Grounding:
    score: float | None  # share of sentences supported (None: nothing to judge)
    mean_support: float | None  # mean support score over sentences
    sentences: tuple[tuple[str, float], ...]  # each judged sentence and its support score
    supported: bool | None


def judged_sentences(explanation: str) -> list[str]:
    return [s for s in split_sentences(explanation) if len(s.split()) >= MIN_WORDS]


def grounding(
    explanation: str,
    support_texts: Sequence[str],
    encode: Encode,
    *,
    question: str = "",
    sentence_support: float = SENTENCE_SUPPORT,
    answer_support: float = ANSWER_SUPPORT,
) -> Grounding:
    """Score ``explanation`` against the sentences of ``support_texts`` (one embedder call)."""
    claims = judged_sentences(explanation)
    support = [s for text in support_texts for s in split_sentences(text) if s.strip()]
    if not claims:
        return Grounding(None, None, (), None)
    if not support:
        return Grounding(0.0, 0.0, tuple((c, 0.0) for c in claims), False)
    vectors = np.asarray(encode(claims + support), dtype=np.float32)
    cosine = (vectors[: len(claims)] @ vectors[len(claims) :].T).max(axis=1)
    known = " ".join(support) + " " + question
    scores = np.array([min(float(c), 1.0 - novelty(claim, known)) for claim, c in zip(claims, cosine)])
    share = float((scores >= sentence_support).mean())
    return Grounding(
        score=share,
        mean_support=float(scores.mean()),
        sentences=tuple((c, float(s)) for c, s in zip(claims, scores)),
        supported=share >= answer_support,
    )
