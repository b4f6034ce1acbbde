"""Cutting course sections into the passages retrieval indexes.

Most sections of a lesson are a heading and a few sentences, so one section is
one passage. Longer (supplementary) sections are cut into windows of whole
sentences so one passage never runs past what MiniLM reads (256 word pieces;
it was trained on 128). Every passage starts with its section title: a title
like "Real-World Impact of GANs: Deepfake Technology" is often the best
summary of what the passage answers; a title like "Gated Recurrent Unit" also
gets its acronym ("GRU"), the word students actually type. Window sizes were measured with
`tutor eval retrieval` (see adapters/embedder/card.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tutor.retrieval.text import plain, sentences, title_acronym, words
from tutor.retrieval.types import Passage


@dataclass(frozen=True)
class PassageConfig:
    """How sections become passages; part of the index cache key."""

    max_words: int = 40  # a window's lesson text, in words (~55 word pieces)
    overlap: int = 1  # sentences shared by neighbouring windows
    title: bool = True  # prefix the section title
    whole: bool = True  # also index the whole section when it is split

    def key(self) -> str:
        return f"w{self.max_words}-o{self.overlap}-t{int(self.title)}-h{int(self.whole)}"


def _windows(sents: list[str], max_words: int, overlap: int) -> list[list[str]]:
    out: list[list[str]] = []
    start = 0
    while start < len(sents):
        end, count = start, 0
        while end < len(sents) and (count == 0 or count + len(words(sents[end])) <= max_words):
            count += len(words(sents[end]))
            end += 1
        out.append(sents[start:end])
        if end >= len(sents):
            break
        start = max(end - overlap, start + 1)
    return out


def section_passages(
    section_id: str, title: str, markdown: str, config: PassageConfig, concepts: tuple[str, ...] = ()
) -> list[Passage]:
    """The passages of one section; a section with no text still gets its title as a passage.

    A title acronym is added only when the course itself uses it for this section
    (as a concept id or in the text), so "Generative AI Model Types" never becomes "GAMT".
    """
    body = plain(markdown)
    acronym = title_acronym(title)
    if acronym and acronym.lower() not in {c.lower() for c in concepts} | set(words(body)):
        acronym = None
    titled = f"{title} ({acronym})" if acronym else title
    prefix = f"{titled}. " if config.title else ""
    if len(words(body)) <= config.max_words:
        return [Passage(section_id, title, body, (prefix + body).strip() or title)]
    out = []
    if config.whole:
        out.append(Passage(section_id, title, body, prefix + body))
    for window in _windows(sentences(markdown), config.max_words, config.overlap):
        text = " ".join(window)
        out.append(Passage(section_id, title, text, prefix + text))
    return out


def make_passages(sections: Iterable, config: PassageConfig | None = None) -> list[Passage]:
    """Passages for every section (objects with ``id``, ``title`` and ``text``), in course order."""
    config = config or PassageConfig()
    out: list[Passage] = []
    for s in sections:
        out.extend(section_passages(s.id, s.title, s.text, config, tuple(getattr(s, "concepts", ()))))
    return out
