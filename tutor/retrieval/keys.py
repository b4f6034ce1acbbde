"""Example questions as extra search keys of the sections they are about.

Why: a student's wording is often closer to another student's question than to
the lesson's prose ("what's the deal with the generator thing?" vs "The
generator creates fake data..."). The course already has such questions, each
naming the section that answers it: the hand-written training questions of the
course embedder and the dev split of the course's question set. Each one is
embedded once with the index, and a section's dense score becomes the better of
its best passage and its best example question (`FusionConfig.question_keys`),
among the three sections the lesson text ranks first: the keys reorder them,
never bring in another.

Measured with the course adapter, cross-fitted on the dev split (each dev
question scored by an adapter trained without it, and never its own key):
fused recall@1 0.872 -> 0.907, MRR 0.926 -> 0.942 (6 gained, 3 lost), recall@3
unchanged by construction. Letting the keys lift any section scored the same on
dev but cost heldout recall@3 (0.966 -> 0.931); a weighted mix of passage and
key scores (0.1-0.5) gained less.
The scope decision does not use the keys: a question close to an example
question is not evidence that the lesson answers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.retrieval.errors import RetrievalError


@dataclass(frozen=True)
class QuestionKey:
    question: str
    section_id: str  # the section that answers it best


def keys_for_sections(pairs: Iterable[tuple[str, Sequence[str]]], section_ids: set[str]) -> tuple[QuestionKey, ...]:
    """One key per (question, sections) pair, on its first section; pairs about unknown sections are skipped."""
    out: list[QuestionKey] = []
    seen: set[tuple[str, str]] = set()
    for question, sections in pairs:
        text = " ".join(str(question).split())
        if not text or not sections or sections[0] not in section_ids:
            continue
        key = (text.lower(), sections[0])
        if key not in seen:
            seen.add(key)
            out.append(QuestionKey(text, sections[0]))
    return tuple(out)


def default_question_keys(
    course: Any,
    splits: Sequence[str] = ("dev",),
    *,
    trainset_path: Path | None = None,
    devset_path: Path | None = None,
) -> tuple[QuestionKey, ...]:
    """The course's example questions: the embedder's training questions and the dev set's ``splits``.

    A missing or unreadable file gives no keys from it (search still works, from the passages
    alone), and so does a file written for another course (one naming a section this course does
    not have); the heldout split is never a key source, it is what the keys are measured on.
    """
    from tutor.retrieval.devset import load_devset
    from tutor.retrieval.trainset import load_trainset

    section_ids = {s.id for s in course.sections()}
    pairs: list[tuple[str, Sequence[str]]] = []
    try:
        pairs += [(q.question, q.sections) for q in load_trainset(trainset_path, section_ids).in_scope]
    except (RetrievalError, OSError, ValueError):
        pass
    wanted = [s for s in splits if s != "heldout"]
    if wanted:
        try:
            devset = load_devset(devset_path, getattr(course, "id", "genai-models"))
            if all(s in section_ids for q in devset.in_scope for s in q.sections):
                pairs += [(q.question, q.sections) for q in devset.in_scope if q.split in wanted]
        except (RetrievalError, OSError, ValueError):
            pass
    return keys_for_sections(pairs, section_ids)


def keys_for_split(course: Any, split: str, *, devset_path: Path | None = None) -> tuple[QuestionKey, ...]:
    """The keys to measure a split with, so that no question is its own key: the dev split is scored
    with the training questions alone, the heldout split (and the shipped index) with the dev split too."""
    splits = () if split in ("dev", "all") else ("dev",)
    return default_question_keys(course, splits, devset_path=devset_path)
