"""Turning lesson markdown into what retrieval indexes: clean sentences and search terms.

Kept free of heavy imports: the tokenizer is used by BM25, by the scope rule
(which query terms the course knows) and by the training-pair generator.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Longest query we look at, in characters. MiniLM only reads 256 word pieces
# anyway; cutting early keeps a pasted essay from costing seconds of tokenizing.
MAX_QUERY_CHARS = 2000

STOPWORDS: frozenset[str] = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    doesn don isn aren wasn weren won didn hasn haven hadn shouldn wouldn couldn let
    """.split()
)

# Words that say what kind of question it is, not what it is about. They are
# ignored when judging whether the course knows a question's terms.
QUESTION_WORDS: frozenset[str] = frozenset(
    """
    explain describe tell define definition mean meaning means example examples give show difference differ
    differences compare comparison work works working happen happens role purpose used use uses using
    help helps way ways thing things kind kinds type types main key important basically exactly simple simply
    terms really like please know want understand get make makes made good better best course lesson
    """.split()
)

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS_RE = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_BULLET_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING_RE = re.compile(r"^\s*#{1,6}\s+")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: a C Snowball stemmer, fast enough to call per query

    return Stemmer.Stemmer("english")


_VOWELS = set("aeiouy")


def _singular_acronym(word: str) -> str:
    """Snowball keeps "rnns" (no vowel before the s); acronym plurals must meet their singular."""
    if len(word) > 2 and word.endswith("s") and not (_VOWELS & set(word[:-1])):
        return word[:-1]
    return word


def stem(words: list[str]) -> list[str]:
    return _stemmer().stemWords([_singular_acronym(w) for w in words])


_ACRONYM_PLURAL_RE = re.compile(r"\b([A-Z][A-Z0-9]+)s\b")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, stopwords kept (``GAN's`` -> ``gan``, ``GRUs`` -> ``gru``)."""
    text = _ACRONYM_PLURAL_RE.sub(r"\1", text)
    return [w.split("'")[0] for w in _TOKEN_RE.findall(text.lower())]


_FUNCTION_WORDS = {"of", "and", "in", "the", "for", "to", "a", "an", "vs", "on", "with", "is", "are"}


def title_acronym(title: str) -> str | None:
    """The acronym students use for a titled model name: "Long Short-Term Memory" -> "LSTM".

    Only for a title (or its part after a colon) of three or more capitalised words
    with no acronym already in parentheses: "what is a GRU" must find "Gated Recurrent Unit".
    """
    topic = title.split(":")[-1].strip()
    if "(" in topic:
        return None
    parts = [p for p in re.split(r"[\s\-]+", topic) if p]
    if len(parts) < 3 or any(p.lower() in _FUNCTION_WORDS or not p[0].isupper() for p in parts):
        return None
    return "".join(p[0] for p in parts).upper()


def terms(text: str) -> list[str]:
    """Stemmed content terms: what BM25 indexes and matches."""
    return stem([w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())])


def key_terms(text: str) -> list[str]:
    """The stemmed terms that say what a question is about (question words dropped)."""
    kept = [w for w in words(text) if w not in STOPWORDS and w not in QUESTION_WORDS and len(w) > 1]
    return stem(kept)


def clean_query(query: str) -> str:
    """Whitespace-normalised and truncated query text: safe to embed and tokenize."""
    return " ".join(query[: MAX_QUERY_CHARS * 2].split())[:MAX_QUERY_CHARS]


def _inline(text: str) -> str:
    text = _LINK_RE.sub(r"\1", text)
    for _ in range(2):
        text = _EMPHASIS_RE.sub(r"\2", text)
    return " ".join(text.split())


def _table_rows(lines: list[str]) -> list[str]:
    """Markdown table rows as sentences ``Header: cell; Header: cell``, header row and rule dropped."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-{2,}:?", c or "--") for c in r)]
    if len(rows) < 2:
        return [_inline("; ".join(r)) for r in rows]
    header, body = rows[0], rows[1:]
    out = []
    for row in body:
        parts = [f"{h}: {c}" if h else c for h, c in zip(header, row) if c]
        out.append(_inline("; ".join(parts)) + ".")
    return out


def blocks(markdown: str) -> list[str]:
    """Paragraphs, list items and table rows of a markdown body, inline markup removed.

    Sub-headings are dropped: inside a section they label, they do not inform
    (and the section title already travels with every passage).
    """
    text = _COMMENT_RE.sub("", markdown)
    out: list[str] = []
    para: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if para:
            out.append(_inline(" ".join(para)))
            para.clear()
        if table:
            out.extend(_table_rows(table))
            table.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif _HEADING_RE.match(line):
            flush()
        elif line.startswith("|"):
            if para:
                out.append(_inline(" ".join(para)))
                para.clear()
            table.append(line)
        elif _BULLET_RE.match(line):
            flush()
            para.append(_BULLET_RE.sub("", line))
        else:
            if table:
                flush()
            para.append(line)
    flush()
    return [b for b in out if b]


def sentences(markdown: str) -> list[str]:
    """The sentences of a markdown body, in order: the units `best_sentences` picks from."""
    out: list[str] = []
    for block in blocks(markdown):
        for piece in _SENTENCE_END_RE.split(block):
            piece = piece.strip()
            if piece:
                out.append(piece)
    return out


def plain(markdown: str) -> str:
    """A section body as plain prose (for embedding and BM25)."""
    return " ".join(blocks(markdown))


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Stems of everyday English words (textstat's Dale-Chall list), plus stopwords and question words."""
    import importlib.util
    from pathlib import Path

    found: set[str] = set(STOPWORDS) | set(QUESTION_WORDS)
    try:
        # Located, not imported: importing textstat imports nltk (seconds of CPU on the first question).
        spec = importlib.util.find_spec("textstat")
        roots = list(spec.submodule_search_locations or []) if spec is not None else []
        text = (Path(roots[0]) / "resources" / "en" / "easy_words.txt").read_text() if roots else ""
        found |= {w.strip().lower() for w in text.split() if w.strip()}
    except (ModuleNotFoundError, FileNotFoundError, OSError):  # pragma: no cover - optional resource
        pass
    return frozenset(stem(sorted(found)))
