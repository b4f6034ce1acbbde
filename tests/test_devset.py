"""Checks on the retrieval/answers development set (evals/genai-models/questions.yaml).

The dev set is only worth something if it points at real sections and if its
key facts can actually be found in what it points at: a key fact that is in
no listed section (nor in the reference answer) would score a correct,
grounded tutor as wrong. These tests catch a renamed section, a typo in a fact,
or a set that has shrunk below what the evaluations need.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

DEVSET = Path(__file__).resolve().parents[1] / "evals" / "genai-models" / "questions.yaml"

MIN_IN_SCOPE = 90
MIN_OUT_OF_SCOPE = 30
MIN_QUESTIONS_PER_CONCEPT = 2
SPLITS = {"dev", "heldout"}
KINDS = {"off-topic", "near-topic"}


def _norm(text: str) -> str:
    """Lowercase and collapse whitespace, the way key-fact matching compares text."""
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.fixture(scope="module")
def devset() -> dict[str, Any]:
    with DEVSET.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict), "questions.yaml must be a mapping"
    return data


@pytest.fixture(scope="module")
def course():  # noqa: ANN201 - the Course type lives in tutor.content
    from tutor.content import load_course

    return load_course()


def test_top_level_shape(devset: dict[str, Any]) -> None:
    assert devset.get("version") == 1
    assert isinstance(devset.get("in_scope"), list)
    assert isinstance(devset.get("out_of_scope"), list)


def test_ids_are_unique(devset: dict[str, Any]) -> None:
    ids = [q["id"] for q in devset["in_scope"]] + [q["id"] for q in devset["out_of_scope"]]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_questions_are_unique(devset: dict[str, Any]) -> None:
    texts = [_norm(q["question"]) for q in devset["in_scope"] + devset["out_of_scope"]]
    dupes = [t for t, n in Counter(texts).items() if n > 1]
    assert not dupes, f"duplicate questions: {dupes}"


def test_minimum_counts(devset: dict[str, Any]) -> None:
    assert len(devset["in_scope"]) >= MIN_IN_SCOPE
    assert len(devset["out_of_scope"]) >= MIN_OUT_OF_SCOPE


def test_in_scope_fields_well_formed(devset: dict[str, Any]) -> None:
    problems: list[str] = []
    for q in devset["in_scope"]:
        qid = q.get("id", "?")
        if not str(q.get("question", "")).strip():
            problems.append(f"{qid}: empty question")
        if not str(q.get("answer", "")).strip():
            problems.append(f"{qid}: empty answer")
        sections = q.get("sections")
        if not sections or len(set(sections)) != len(sections):
            problems.append(f"{qid}: sections must be a non-empty list without repeats")
        facts = q.get("key_facts")
        if not facts or not 1 <= len(facts) <= 3:
            problems.append(f"{qid}: needs 1-3 key facts")
        for fact in facts or []:
            if not fact or not all(isinstance(a, str) and a.strip() for a in fact):
                problems.append(f"{qid}: empty key-fact alternative in {fact!r}")
            elif any(a != a.lower() for a in fact):
                problems.append(f"{qid}: key-fact alternatives must be lowercase: {fact!r}")
        if q.get("split") not in SPLITS:
            problems.append(f"{qid}: split must be one of {sorted(SPLITS)}")
    assert not problems, "\n".join(problems)


def test_out_of_scope_fields_well_formed(devset: dict[str, Any]) -> None:
    problems: list[str] = []
    for q in devset["out_of_scope"]:
        qid = q.get("id", "?")
        if not str(q.get("question", "")).strip():
            problems.append(f"{qid}: empty question")
        if q.get("kind") not in KINDS:
            problems.append(f"{qid}: kind must be one of {sorted(KINDS)}")
        if q.get("split") not in SPLITS:
            problems.append(f"{qid}: split must be one of {sorted(SPLITS)}")
    assert not problems, "\n".join(problems)
    kinds = Counter(q["kind"] for q in devset["out_of_scope"])
    assert set(kinds) == KINDS, f"both kinds of out-of-scope question needed, got {dict(kinds)}"


@pytest.mark.parametrize("part", ["in_scope", "out_of_scope"])
def test_both_splits_used(devset: dict[str, Any], part: str) -> None:
    splits = Counter(q["split"] for q in devset[part])
    assert splits["dev"] > 0 and splits["heldout"] > 0, dict(splits)
    share = splits["dev"] / sum(splits.values())
    assert 0.45 <= share <= 0.75, f"{part}: dev share {share:.2f}, aim for about 60% dev"


def test_sections_exist_in_course(devset: dict[str, Any], course) -> None:  # noqa: ANN001
    known = {s.id for s in course.sections()}
    missing = sorted(
        {f"{q['id']}:{sid}" for q in devset["in_scope"] for sid in q["sections"] if sid not in known}
    )
    assert not missing, f"unknown section ids: {missing}"


def test_key_facts_are_grounded(devset: dict[str, Any], course) -> None:  # noqa: ANN001
    """Every alternative of every fact is in a listed section or the reference answer."""
    texts = {s.id: _norm(f"{s.title}\n{s.text}") for s in course.sections()}
    problems: list[str] = []
    for q in devset["in_scope"]:
        haystacks = [texts.get(sid, "") for sid in q["sections"]] + [_norm(q["answer"])]
        for fact in q["key_facts"]:
            for alt in fact:
                needle = _norm(alt)
                if not any(needle in hay for hay in haystacks):
                    problems.append(f"{q['id']}: {alt!r} not in {q['sections']} nor the answer")
    assert not problems, "\n".join(problems)


def test_every_fact_is_in_the_lesson(devset: dict[str, Any], course) -> None:  # noqa: ANN001
    """The answer may add phrasings, but each fact itself must be taught by a listed section."""
    texts = {s.id: _norm(f"{s.title}\n{s.text}") for s in course.sections()}
    problems: list[str] = []
    for q in devset["in_scope"]:
        haystacks = [texts.get(sid, "") for sid in q["sections"]]
        for fact in q["key_facts"]:
            if not any(_norm(alt) in hay for alt in fact for hay in haystacks):
                problems.append(f"{q['id']}: no phrasing of {fact!r} in {q['sections']}")
    assert not problems, "\n".join(problems)


def test_first_section_states_a_key_fact(devset: dict[str, Any], course) -> None:  # noqa: ANN001
    """The best section must itself carry the answer: at least one fact is in its text."""
    problems: list[str] = []
    for q in devset["in_scope"]:
        first = course.section(q["sections"][0])
        text = _norm(f"{first.title}\n{first.text}")
        if not any(_norm(alt) in text for fact in q["key_facts"] for alt in fact):
            problems.append(f"{q['id']}: no key fact found in its first section {first.id!r}")
    assert not problems, "\n".join(problems)


def test_every_concept_is_asked_about(devset: dict[str, Any], course) -> None:  # noqa: ANN001
    """Each concept is taught by some section that at least two questions point at."""
    counts: Counter[str] = Counter()
    for q in devset["in_scope"]:
        concepts = {c for sid in q["sections"] for c in course.section(sid).concepts}
        counts.update(concepts)
    thin = {c.id: counts[c.id] for c in course.concepts if counts[c.id] < MIN_QUESTIONS_PER_CONCEPT}
    assert not thin, f"concepts asked about fewer than {MIN_QUESTIONS_PER_CONCEPT} times: {thin}"


@pytest.mark.parametrize("split", sorted(SPLITS))
def test_each_split_covers_most_sections(devset: dict[str, Any], course, split: str) -> None:  # noqa: ANN001
    """Held-out figures mean little if heldout skips whole topics; same for dev."""
    asked = {q["sections"][0] for q in devset["in_scope"]}
    in_split = {q["sections"][0] for q in devset["in_scope"] if q["split"] == split}
    assert len(in_split) >= 0.5 * len(asked), f"{split} covers {len(in_split)}/{len(asked)} first sections"
