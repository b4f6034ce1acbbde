"""Small text helpers shared by the prompt, the evidence picker and the grounding check."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9*])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def split_sentences(text: str) -> list[str]:
    """Sentences of plain prose (lines and list items count as breaks too), in order."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)])\s)", text):
        block = " ".join(block.split())
        if not block:
            continue
        for piece in _SENTENCE_END.split(block):
            piece = piece.strip()
            if piece:
                out.append(piece)
    return out


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces: what key-fact matching compares."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether the normalised phrase occurs in the normalised text, starting at a word.

    The end is left open so inflections count ("low temp" in "low temperatures", "predict" in
    "predictable"), while a phrase inside a word does not ("gan" is not in "organ").
    """
    needle = normalise(phrase)
    if not needle:
        return False
    return f" {needle}" in f" {normalise(text)}"


def complete_sentences(text: str) -> str:
    """Cut a generated text after its last finished sentence (a max-length stop leaves a fragment)."""
    stripped = text.rstrip()
    if not stripped or stripped[-1] in ".!?\"')":
        return stripped
    cut = max(stripped.rfind(". "), stripped.rfind("! "), stripped.rfind("? "), stripped.rfind(".\n"))
    if cut <= 0:
        return stripped
    return stripped[: cut + 1]


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?", "\"", "'", ")"))


def join_sentences(parts: list[str] | tuple[str, ...]) -> str:
    """Join sentences into prose; list items (no end punctuation) after a "...:" line become "a; b; c."."""
    out = ""
    in_list = False
    for raw in parts:
        part = raw.strip()
        if not part:
            continue
        if not out:
            out = part
        elif out.endswith(":"):
            out += " " + part
            in_list = not _ends_sentence(part)
            continue
        elif in_list and not _ends_sentence(part) and not part.endswith(":"):
            out += "; " + part
            continue
        else:
            if in_list:
                out += "."
            out += " " + part
        in_list = False
    if in_list:
        out += "."
    return out


def drop_repeated_sentences(text: str) -> str:
    """Remove sentences that repeat an earlier one word for word (a greedy small model loops)."""
    seen: set[str] = set()
    kept: list[str] = []
    for sentence in split_sentences(text):
        key = normalise(sentence)
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(sentence)
    return " ".join(kept) if len(kept) < len(split_sentences(text)) else text


# Function words, and the glue an explanation adds around lesson facts ("for example, in the context of ...").
_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been being both but by can could
    did do does doing down during each few for from further had has have having he her here hers him his how i
    if in into is it its itself just like may me might more most must my no nor not now of off on once only or
    other our out over own same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who whom why will with
    would you your example context case type kind way well often many much make makes made use used uses using
    help helps allow allows one two new way thing things able known called""".split()
)


def content_terms(text: str) -> list[str]:
    """Lower-case content words and numbers, crude plural/verb endings removed: what "novel wording" is counted on."""
    out = []
    for word in re.findall(r"[a-z][a-z0-9]+|\d+", text.lower()):
        if word.isdigit():  # numbers are facts: an invented "100 times" or "2020" must count as novel
            out.append(word)
            continue
        if word in _STOPWORDS or len(word) < 3:
            continue
        for suffix in ("ing", "ies", "es", "ed", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
        out.append(word)
    return out


def novelty(claim: str, known_text: str) -> float:
    """Share of the claim's content words that never occur in ``known_text`` (0 = all known)."""
    terms = content_terms(claim)
    if not terms:
        return 0.0
    known = set(content_terms(known_text))
    return sum(t not in known for t in terms) / len(terms)


# Words that start a clause after an opener ("In simple words, the ...") and lose their capital there.
_CLAUSE_GLUE = frozenset("a an the it its this that these those they there their in on at for when if to with by "
                         "as each both one some many most so but and or instead just like".split())


def after_opener(seed: str, text: str) -> str:
    """``text`` as it reads after ``seed``: when the seed ends with an opener ("In simple words,"), a
    leading function word is lower-cased ("The retailer" -> "the retailer"); names and acronyms keep
    their capitals ("GANs", "Generative AI"). Used for the model's first words and for training targets."""
    if not seed.rstrip().endswith(","):
        return text
    stripped = text.lstrip()
    first = stripped.split(" ", 1)[0]
    if first[:1].isupper() and (first[1:].islower() or len(first) == 1) and first.lower() in _CLAUSE_GLUE:
        lead = text[: len(text) - len(stripped)]
        return lead + stripped[0].lower() + stripped[1:]
    return text


def _syllables(word: str) -> int:
    groups = re.findall(r"[aeiouy]+", word.lower())
    n = len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0)
    return max(1, n)


def fk_grade(text: str) -> float | None:
    """Flesch-Kincaid grade level, with a vowel-group syllable count.

    Not textstat: this textstat version counts syllables with nltk's cmudict, which it tries to
    download at first use (no network here), so the same formula is computed locally.
    """
    words = re.findall(r"[A-Za-z']+", text)
    if len(words) < 5:
        return None
    sentences = max(1, len(re.findall(r"[.!?]+(?:\s|$)", text)))
    syllables = sum(_syllables(w) for w in words)
    return round(0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59, 2)


def own_words(answer: str, key_sentence: str) -> str:
    """What the model wrote after the lesson sentences its answer opens with (all of it when it does not).

    The opening is quoted lesson text that the tutor seeds: the grounding check judges only the rest, and a
    key fact stated in the opening is the lesson's, whichever model continues (`tutor eval answers`).
    """
    key = key_sentence.strip()
    if key and answer.startswith(key):
        return answer[len(key) :].lstrip(" .")
    return answer
