"""Hand-written training questions for the course embedder and the scope classifier.

Why a separate file from the dev set: the generated pairs (titles, sentences,
keywords) read like the lesson, not like a student, and the dev split is small
(and is what every choice is measured on). ``adapters/data/embedder-questions.yaml``
holds student-style paraphrases written from the course text, several per
section, with the confusable neighbours (GRU / LSTM / RNN, autoencoder / VAE,
the GAN sections...) named explicitly. Its ``in_scope`` questions become
training pairs (source ``student``); its ``out_of_scope`` questions (AI topics
the course never covers, other subjects) only join the dev split's out-of-scope
questions when the scope classifier is fitted. None of it is ever an
evaluation question: tests/test_retrieval_trainset.py fails when one is close
to a heldout question.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tutor.retrieval.devset import read_question_file
from tutor.retrieval.errors import RetrievalError

TRAINSET_NAME = "embedder-questions.yaml"


@dataclass(frozen=True)
class TrainQuestion:
    question: str
    sections: tuple[str, ...]  # first = the section that answers it best


@dataclass(frozen=True)
class TrainOutOfScope:
    question: str
    kind: str  # off-topic | near-topic


@dataclass(frozen=True)
class TrainSet:
    in_scope: tuple[TrainQuestion, ...]
    out_of_scope: tuple[TrainOutOfScope, ...]
    path: Path | None = None


def default_trainset_path() -> Path:
    from tutor.config import adapters_dir

    return adapters_dir() / "data" / TRAINSET_NAME


def load_trainset(path: Path | None = None, section_ids: set[str] | None = None) -> TrainSet:
    """Read the training questions; a missing default file is an empty set, a bad entry an error.

    ``section_ids``: when given, every listed section must be one of them (a renamed
    section must not silently train towards nothing).
    """
    explicit = path is not None
    path = Path(path) if path else default_trainset_path()
    if not path.is_file():
        if explicit:
            raise RetrievalError(f"no training questions at {path}")
        return TrainSet((), (), None)
    data = read_question_file(path)
    ins, outs = [], []
    for n, item in enumerate(data.get("in_scope") or []):
        try:
            q = TrainQuestion(str(item["question"]), tuple(str(s) for s in item["sections"]))
        except (KeyError, TypeError) as exc:
            raise RetrievalError(f"{path}: in_scope entry {n + 1} is missing {exc}") from exc
        if not q.sections:
            raise RetrievalError(f"{path}: in_scope entry {n + 1} lists no sections")
        unknown = [s for s in q.sections if section_ids is not None and s not in section_ids]
        if unknown:
            raise RetrievalError(f"{path}: in_scope entry {n + 1} names unknown section {unknown[0]!r}")
        ins.append(q)
    for n, item in enumerate(data.get("out_of_scope") or []):
        try:
            outs.append(TrainOutOfScope(str(item["question"]), str(item.get("kind", "off-topic"))))
        except (KeyError, TypeError) as exc:
            raise RetrievalError(f"{path}: out_of_scope entry {n + 1} is missing {exc}") from exc
    return TrainSet(tuple(ins), tuple(outs), path)


# Two questions whose stemmed content terms overlap this much (Jaccard) are
# treated as the same question asked twice: 0.4 flags "gated recurrent unit
# explained" against "gated recurrent unit - what are the gates actually for",
# while questions that merely share a topic word ("what is a gan" vs "how are
# deepfakes made") stay well below it.
NEAR_DUPLICATE_JACCARD = 0.4


def term_overlap(a: str, b: str) -> float:
    """Jaccard overlap of two questions' stemmed content terms (0 when either has none)."""
    from tutor.retrieval.text import terms

    x, y = set(terms(a)), set(terms(b))
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def near_duplicates(
    questions: list[str], protected: list[str], threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[tuple[str, str, float]]:
    """Every (question, protected question, overlap) pair at or over the threshold, or equal as text."""
    out = []
    for q in questions:
        norm_q = " ".join(q.lower().split())
        for p in protected:
            overlap = term_overlap(q, p)
            if overlap >= threshold or norm_q == " ".join(p.lower().split()):
                out.append((q, p, overlap))
    return out
