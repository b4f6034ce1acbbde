"""Training pairs (question, section) for the course embedder, generated from the course itself.

Sources, each kept small and explainable:

- ``title``: the section title turned into the questions students ask about it
  ("what is a gated recurrent unit?", "tell me about vaes in image compression");
- ``definition``: sentences of the form "X is/are ..." turned into "what is X?";
- ``keywords``: terse keyword queries from a sentence's rarest terms
  ("discriminator real fake data"), the way students type into a search box;
- ``sentence``: the sentence itself (inverse cloze: find the passage a sentence came from);
- ``concept``: concept names and descriptions from course.yaml, for the section
  that introduces the concept;
- ``dev``: the dev split of the dev set (never the heldout split);
- ``student``: hand-written student-style questions (adapters/data/embedder-questions.yaml,
  see trainset.py), in a student's words rather than the lesson's.

Every pair records all sections relevant to its question, so training never
uses a right answer as a negative.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

from tutor.retrieval.devset import DevSet
from tutor.retrieval.errors import RetrievalError
from tutor.retrieval.passages import PassageConfig, section_passages
from tutor.retrieval.text import STOPWORDS, common_words, key_terms, plain, sentences, stem, terms, words
from tutor.retrieval.trainset import TrainSet

_DEFINITION_RE = re.compile(
    r"^(?P<subj>[A-Z][\w\-() ,']{1,70}?)\s+(?P<verb>is|are|was|were|involves|refers to|consist of|consists of)\s+(?P<rest>.{8,})$"
)
_PRONOUNS = {"it", "they", "this", "these", "that", "those", "he", "she"}
_TITLE_PREFIXES = (
    "real-world impact of ",
    "real-world analogy: ",
    "types of neural networks: ",
    "components of rnn: ",
    "use case: ",
    "example: ",
)


@dataclass(frozen=True)
class TrainingPair:
    anchor: str
    section_id: str
    relevant: frozenset[str]
    source: str


_WHOLE = PassageConfig(max_words=1_000_000)


def passage_text(section) -> str:
    """What the positive side of a pair looks like: the whole section, titled, as indexed."""
    return section_passages(section.id, section.title, section.text, _WHOLE, tuple(section.concepts))[0].indexed


def _topic(title: str) -> str:
    t = title.strip().rstrip("?").strip()
    low = t.lower()
    for prefix in _TITLE_PREFIXES:
        if low.startswith(prefix):
            t = t[len(prefix) :]
            break
    if ":" in t and not low.startswith("use case"):
        head, tail = t.split(":", 1)
        t = tail.strip() or head.strip()
    return t.strip().lower()


def _title_questions(title: str) -> list[str]:
    topic = _topic(title)
    full = title.strip().rstrip("?").lower()
    out = [f"what is {topic}?", f"explain {topic}", f"tell me about {full}", f"{topic}?"]
    if full != topic:
        out.append(f"{full}?")
    return out


def _definition_question(sentence: str, topic: str, title: str) -> str | None:
    """ "X is ..." -> "what is X?", only when X is what the section is about (its title names it)."""
    m = _DEFINITION_RE.match(sentence.strip())
    if not m:
        return None
    subj = m.group("subj").strip()
    verb = m.group("verb")
    if subj.split()[0].lower() in {"what", "how", "why", "which", "when", "where", "who"}:
        return None
    if subj.lower() in _PRONOUNS:
        subj = topic
    if len(subj.split()) > 8 or not set(terms(subj)) & set(terms(title)):
        return None
    aux = "are" if verb in {"are", "were", "consist of"} or subj.lower().endswith("s") else "is"
    return f"what {aux} {subj.lower()}?"


def _keyword_query(sentence: str, df: Counter, n_docs: int, rng: random.Random) -> str | None:
    common = common_words()
    toks = [
        w
        for w in words(sentence)
        if w not in STOPWORDS and len(w) > 2 and not w.isdigit() and stem([w])[0] not in common
    ]
    if len(toks) < 2:
        return None
    ranked = sorted(set(toks), key=lambda w: (df.get(w, 0), w))
    keep = set(ranked[: rng.randint(2, 4)])
    if len(keep) < 2:
        return None
    ordered = []
    for w in toks:
        if w in keep and w not in ordered:
            ordered.append(w)
    return " ".join(ordered)


def generate_pairs(
    course, devset: DevSet | None = None, seed: int = 13, trainset: TrainSet | None = None
) -> list[TrainingPair]:
    """All training pairs for a course (plus the dev split of ``devset`` and the hand-written
    ``trainset`` questions when given), deduplicated."""
    rng = random.Random(seed)
    sections = list(course.sections())
    by_id = {s.id: s for s in sections}
    df: Counter = Counter()
    for s in sections:
        df.update(set(words(plain(s.text))))
    pairs: list[TrainingPair] = []
    title_terms = {s.id: set(terms(s.title)) for s in sections}

    def _titled(question: str) -> frozenset[str]:
        """Sections whose title names everything the question asks about: all fair answers to it."""
        asked = set(key_terms(question))
        return frozenset(sid for sid, t in title_terms.items() if asked and asked <= t)

    def add(anchor: str, section_id: str, source: str, relevant: frozenset[str] | None = None) -> None:
        anchor = " ".join(anchor.split())
        if anchor:
            pairs.append(TrainingPair(anchor, section_id, (relevant or frozenset()) | {section_id}, source))

    for s in sections:
        topic = _topic(s.title)
        for q in _title_questions(s.title):
            add(q, s.id, "title", _titled(q))
        for sent in sentences(s.text):
            if len(words(sent)) < 5:
                continue
            add(sent, s.id, "sentence")
            q = _definition_question(sent, topic, s.title)
            if q:
                add(q, s.id, "definition", _titled(q))
            kw = _keyword_query(sent, df, len(sections), rng)
            if kw:
                add(kw, s.id, "keywords")

    for concept in getattr(course, "concepts", ()):
        primary = [s for s in sections if s.concepts and s.concepts[0] == concept.id]
        if len(primary) == 1:
            sid = primary[0].id
            add(f"what is {concept.name.lower()}?", sid, "concept", frozenset(p.id for p in primary))
            if concept.description:
                add(concept.description, sid, "concept")

    if devset is not None:
        for q in devset.in_scope:
            if q.split != "dev":
                continue  # the heldout split must never reach training
            relevant = frozenset(q.sections)
            for sid in q.sections:
                if sid in by_id:
                    add(q.question, sid, "dev", relevant)

    if trainset is not None:
        for tq in trainset.in_scope:
            relevant = frozenset(tq.sections)
            for sid in tq.sections:
                if sid in by_id:
                    add(tq.question, sid, "student", relevant)

    # Ambiguous generated anchors (same text, several sections) are relevant to all of them.
    owners: dict[str, set[str]] = {}
    for p in pairs:
        owners.setdefault(p.anchor.lower(), set()).update(p.relevant)
    seen: set[tuple[str, str]] = set()
    out = []
    for p in pairs:
        key = (p.anchor.lower(), p.section_id)
        if key in seen:
            continue
        seen.add(key)
        out.append(TrainingPair(p.anchor, p.section_id, frozenset(owners[p.anchor.lower()]), p.source))
    return out


def check_no_heldout(pairs: list[TrainingPair], devset: DevSet | None) -> None:
    """Refuse to train when a heldout question leaked into the pairs."""
    if devset is None:
        return
    heldout = {" ".join(q.question.split()).lower() for q in devset.in_scope if q.split == "heldout"}
    heldout |= {" ".join(q.question.split()).lower() for q in devset.out_of_scope if q.split == "heldout"}
    leaked = [p.anchor for p in pairs if p.anchor.lower() in heldout]
    if leaked:
        raise RetrievalError(f"heldout question in training pairs: {leaked[0]!r}")
    # Hand-written questions must not even paraphrase a heldout one closely.
    from tutor.retrieval.trainset import near_duplicates

    close = near_duplicates(sorted({p.anchor for p in pairs if p.source == "student"}), sorted(heldout))
    if close:
        q, h, overlap = close[0]
        raise RetrievalError(f"training question {q!r} is too close to heldout question {h!r} ({overlap:.2f})")
