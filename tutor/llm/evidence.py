"""Choosing the lesson text an answer shows, and the passages the model reads.

Measured on the dev questions (86 in scope, evals/genai-models/questions.yaml,
share of key facts the evidence holds / all facts held / mean words):
    top section only                       0.744 / 0.698 /  83
    its 2 best sentences                   0.541 / 0.430 /  35
    top section + best sentence of hits 2-3 0.874 / 0.814 / 114
    top 2 sections in full                 0.878 / 0.849 / 153
    top 3 sections in full                 0.917 / 0.884 / 222
So the evidence is the best section in full plus the single best sentence of
each next hit: nearly the recall of two whole sections at three quarters of the
words, and every quote names its section. The key sentence (restated right
before the answer, see `tutor.llm.prompt`) is the top section's best sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tutor.llm.prompt import PromptPassage
from tutor.llm.text import fk_grade, join_sentences
from tutor.llm.types import Evidence, Source

BestSentences = Callable[[str, str, int], Sequence[tuple[str, float]]]


@dataclass(frozen=True)
class EvidenceConfig:
    hits: int = 3  # sections considered
    extra_sentences: int = 1  # best sentences quoted from each hit after the first
    prompt: str = "evidence"  # what the model reads: "evidence" (the quotes) | "sections" (the hits in full)
    key_sentences: int = 3  # how many key sentences to pick (pooled over the hits)
    section_weight: float = 0.5  # weight of the section's retrieval score next to a sentence's own score
    beginner_key_sentences: int = 2  # fewer for a beginner: the rest of the answer is in plain words
    plain_words: float = 0.0  # preference for easy-to-read key sentences (see `prefer_plain`)
    beginner_plain_words: float = 0.0  # 0.3 measured (see `for_level`); off while the shipped adapter is kept

    def for_level(self, level: str) -> EvidenceConfig:
        """The settings for a learner's level (a beginner gets fewer of the lesson's sentences).

        Measured on the dev split with the shipped adapter (first 40 questions for readability):
        three key sentences instead of two raised the intermediate answers' key-fact accuracy
        0.847 -> 0.868 and groundedness 0.863 -> 0.907, and left beginners' key facts as they were
        (0.871 either way) but made their answers harder to read (Flesch-Kincaid 11.5 -> 12.2,
        against 13.9 for advanced answers); so beginners keep two.

        ``beginner_plain_words`` > 0 also makes a beginner's two the plainer of the four best
        (`prefer_plain`). At 0.3, on the dev questions, the two sentences' Flesch-Kincaid grade fell
        14.5 -> 13.5 (first 40) and 14.4 -> 13.0 (last 40), and the key facts they hold 0.733 -> 0.721
        and 0.738 -> 0.700. Through the shipped adapter the beginner answers read 11.47 -> 10.79 and
        stated 0.871 -> 0.858 of the key facts; that adapter already reads over 2 grades easier for
        beginners than for advanced learners, so the fact loss is not worth it and it is off.
        """
        if level != "beginner":
            return self
        return replace(self, key_sentences=self.beginner_key_sentences, plain_words=self.beginner_plain_words)


@dataclass(frozen=True)
class EvidencePick:
    evidence: list[Evidence]
    key_sentence: str  # the key sentences joined (what the prompt restates / the answer may start with)
    prompt_passages: list[PromptPassage]
    sources: list[Source]
    key_sentences: tuple[str, ...] = ()


def ranked_sentences(
    question: str, hits: Sequence[Any], best_sentences: BestSentences, weight: float
) -> list[tuple[float, int, int, str]]:
    """Every sentence of the hits as (score, hit rank, position in section, text), best first.

    Score = the sentence's own score (`best_sentences`: cosine + term overlap) + ``weight`` x its
    section's retrieval score, so a sentence of a clearly better section wins a near tie.
    """
    pool: list[tuple[float, int, int, str]] = []
    for rank, hit in enumerate(hits):
        for order, (sentence, score) in enumerate(best_sentences(question, hit.section_id, 50)):
            pool.append((float(score) + weight * float(hit.score), rank, order, sentence))
    return sorted(pool, key=lambda x: -x[0])


PLAIN_POOL = 4  # the plainness preference reorders only this many best sentences
PLAIN_GRADE = 8.0  # reading grade under which a sentence counts as plain


def prefer_plain(ranked: Sequence[tuple[float, int, int, str]], weight: float) -> list[tuple[float, int, int, str]]:
    """The ranking with its first `PLAIN_POOL` sentences reordered to favour easy reading.

    A beginner's answer opens with lesson sentences, and those set its reading level: the lesson often says
    the same thing twice, once technically and once in plain words or an analogy. Each of the best sentences
    loses ``weight`` x (grade above `PLAIN_GRADE`) / 10 of its score, so a plainer sentence wins a near tie
    but a clearly better one keeps its place; sentences further down are never brought in.
    """
    if weight <= 0:
        return list(ranked)

    def penalty(row: tuple[float, int, int, str]) -> float:
        grade = fk_grade(row[3])
        return 0.0 if grade is None else weight * max(0.0, grade - PLAIN_GRADE) / 10

    head = sorted(ranked[:PLAIN_POOL], key=lambda r: -(r[0] - penalty(r)))
    return head + list(ranked[PLAIN_POOL:])


LIST_ITEMS = 5  # at most this many items follow a key sentence that introduces a list
PRONOUN_START = re.compile(r"^(It|Its|This|These|They|Their|Them|That|Those)\b")


def subject_of(title: str) -> str:
    """What a section is about, from its title: "Components of RNN: Gated Recurrent Unit" -> "Gated Recurrent Unit"."""
    return title.rsplit(":", 1)[-1].strip()


def with_list_items(
    chosen: Sequence[tuple[float, int, int, str]],
    ranked: Sequence[tuple[float, int, int, str]],
    titles: Sequence[str] = (),
) -> list[tuple[float, int, int, str]]:
    """Give chosen sentences the context they need to stand alone.

    A sentence that ends with ":" introduces a list: its items come along (the lesson's lists,
    "GenAI plays a crucial role in:" + four items, carry their facts in the items, which the
    sentence splitter makes separate sentences). A sentence that starts with a pronoun ("It is
    the simplest type of neural network...") brings the sentence before it, or, when it opens its
    section, is prefixed with the subject its section title names ("Feedforward Neural Networks: it
    is the simplest type...").
    """
    by_position = {(r[1], r[2]): r for r in ranked}
    out: list[tuple[float, int, int, str]] = []
    for row in chosen:
        if PRONOUN_START.match(row[3]):  # "It is the simplest type...": bring the sentence that names "it"
            before = by_position.get((row[1], row[2] - 1))
            if before is not None and before not in out:
                out.append(before)
            elif before is None and row[1] < len(titles):  # the section opens with "It": its title names it
                row = (row[0], row[1], row[2], f"{subject_of(titles[row[1]])}: {row[3][0].lower()}{row[3][1:]}")
        if row not in out:
            out.append(row)
        if row[3].rstrip().endswith(":"):
            for step in range(1, LIST_ITEMS + 1):
                item = by_position.get((row[1], row[2] + step))
                if item is None or item[3].rstrip().endswith(":"):
                    break
                if item not in out:
                    out.append(item)
    return out


def key_sentences(question: str, hits: Sequence[Any], best_sentences: BestSentences, n: int, weight: float) -> list[str]:
    """The ``n`` best sentences over all hits, in reading order (section rank, then position).

    Measured on the dev questions (share of key facts in the chosen sentences): the top section's single
    best sentence 0.40, pooled over three hits 0.45 (1 sentence) and 0.61 (2 sentences, weight 0.5).
    """
    ranked = ranked_sentences(question, hits, best_sentences, weight)
    best = with_list_items(ranked[:n], ranked, [h.title for h in hits])
    return [s for _, _, _, s in sorted(best, key=lambda x: (x[1], x[2]))]


def sources_of(hits: Sequence[Any]) -> list[Source]:
    return [Source(section_id=h.section_id, title=h.title, score=float(h.score)) for h in hits]


def pick_evidence(question: str, hits: Sequence[Any], best_sentences: BestSentences, config: EvidenceConfig) -> EvidencePick:
    """Evidence quotes (best section in full, then the best sentences of the next hits) and the prompt passages."""
    hits = list(hits)[: config.hits]
    if not hits:
        return EvidencePick([], "", [], [])
    top = hits[0]
    evidence = [Evidence(top.section_id, top.title, top.text)]
    ranked = ranked_sentences(question, hits, best_sentences, config.section_weight)
    best = with_list_items(prefer_plain(ranked, config.plain_words)[: config.key_sentences], ranked, [h.title for h in hits])
    keys = [s for _, _, _, s in sorted(best, key=lambda x: (x[1], x[2]))]
    for rank, hit in enumerate(hits[1:], start=1):
        mine = [r for r in ranked if r[1] == rank]  # best first
        chosen = mine[: config.extra_sentences] + [r for r in best if r[1] == rank and r not in mine[: config.extra_sentences]]
        if chosen:  # quoted in the section's own order; a key sentence is always quoted
            evidence.append(Evidence(hit.section_id, hit.title, join_sentences([r[3] for r in sorted(chosen, key=lambda r: r[2])])))
    if config.prompt == "sections":
        passages = [PromptPassage(h.section_id, h.title, h.text) for h in hits]
    else:
        passages = [PromptPassage(e.section_id, e.title, e.text) for e in evidence]
    return EvidencePick(evidence, join_sentences(keys), passages, sources_of(hits), tuple(keys))
