"""Checks on the shipped question bank's content and on the scenario grading development set.

The loader (tests/test_bank.py) proves a bank is well formed; these tests prove the bank we ship is good
enough to quiz with: it is big enough, every concept of the course can be practised, difficulties and key
positions are spread, and every option explains itself. The grading set (evals/genai-models/grading.yaml)
is only useful to tune and measure the scenario grader if its expected verdicts follow its own stated rule,
so the rule is recomputed here from each item's accepted types and key point count.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tutor.quiz.model import MODEL_TYPES, MultipleChoice, QuestionBank, Scenario

GRADING = Path(__file__).resolve().parents[1] / "evals" / "genai-models" / "grading.yaml"

MIN_AUTHORED_MC = 40
MIN_LESSON_ITEMS = 6
MIN_SCENARIOS = 12
MIN_SAMPLES = 90
MIN_PER_KIND = 8
MIN_PER_DIFFICULTY = 6
# The concepts a learner meets most: each needs enough items for an adaptive quiz to avoid repeating itself.
CORE_CONCEPTS = (
    "generative-ai", "genai-vs-traditional", "applications", "neural-networks", "rnn", "autoencoder", "vae",
    "gan", "transformer", "self-attention", "training", "sampling", "evaluation", "diffusion", "ethics",
)
JUNK_KINDS = {"off-topic", "empty", "gibberish", "copy-of-scenario"}
KINDS = {"excellent", "partial", "right-type-wrong-reason", "wrong-type"} | JUNK_KINDS
VERDICTS = {"correct", "partial", "incorrect"}


@pytest.fixture(scope="module")
def bank(course) -> QuestionBank:  # noqa: ANN001 - `course` is the shared fixture of conftest.py
    from tutor.quiz.bank import load_bank

    return load_bank(course)


@pytest.fixture(scope="module")
def authored(bank: QuestionBank) -> list[MultipleChoice]:
    return [i for i in bank.items if isinstance(i, MultipleChoice) and i.source == "authored"]


@pytest.fixture(scope="module")
def scenarios(bank: QuestionBank) -> dict[str, Scenario]:
    return {i.id: i for i in bank.items if isinstance(i, Scenario)}


@pytest.fixture(scope="module")
def samples() -> list[dict[str, Any]]:
    with GRADING.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict) and isinstance(data.get("samples"), list), "grading.yaml needs a 'samples' list"
    return data["samples"]


def expected_verdict(item: Scenario, kind: str, model_type: str, met: list[int]) -> str:
    """The rule stated at the top of grading.yaml."""
    if kind in JUNK_KINDS or model_type not in item.accepted or not met:
        return "incorrect"
    needed = math.ceil(2 * len(item.key_points) / 3)
    return "correct" if len(met) >= needed else "partial"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


# ---------------------------------------------------------------- the bank


def test_bank_sizes(bank: QuestionBank, authored: list[MultipleChoice], scenarios: dict[str, Scenario]) -> None:
    lesson = [i for i in bank.items if isinstance(i, MultipleChoice) and i.source == "lesson"]
    assert len(authored) >= MIN_AUTHORED_MC
    assert len(lesson) >= MIN_LESSON_ITEMS
    assert len(scenarios) >= MIN_SCENARIOS


def test_every_concept_is_practised(course, bank: QuestionBank) -> None:  # noqa: ANN001
    covered = Counter(c for item in bank.items for c in item.concepts)
    missing = [c.id for c in course.concepts if covered[c.id] == 0]
    assert not missing, f"concepts without any item: {missing}"


def test_core_concepts_have_three_multiple_choice_items(authored: list[MultipleChoice]) -> None:
    counts = Counter(c for item in authored for c in item.concepts)
    thin = {c: counts[c] for c in CORE_CONCEPTS if counts[c] < 3}
    assert not thin, f"core concepts with fewer than 3 authored items: {thin}"


def test_difficulties_are_spread(authored: list[MultipleChoice], scenarios: dict[str, Scenario]) -> None:
    levels = Counter(i.difficulty for i in authored)
    assert all(levels[d] >= MIN_PER_DIFFICULTY for d in range(1, 6)), levels
    assert len({s.difficulty for s in scenarios.values()}) >= 3


def test_correct_keys_are_not_in_one_position(authored: list[MultipleChoice]) -> None:
    positions = Counter([o.key for o in i.options].index(i.answer) for i in authored)
    assert len(positions) == 4, positions
    assert max(positions.values()) <= 0.4 * len(authored), positions


def test_authored_items_are_well_formed(authored: list[MultipleChoice]) -> None:
    for item in authored:
        assert re.fullmatch(r"mc-[a-z-]+-\d+", item.id), item.id
        assert item.id.rsplit("-", 1)[0].removeprefix("mc-") in item.concepts, f"{item.id}: id names no concept"
        assert len(item.options) == 4, item.id
        texts = [o.text.strip().lower() for o in item.options]
        assert len(set(texts)) == 4, f"{item.id}: duplicate option texts"
        for option in item.options:
            assert len(option.feedback.split()) >= 6, f"{item.id} {option.key}: feedback too thin"
        right = next(o for o in item.options if o.key == item.answer)
        assert right.feedback.startswith("Right"), f"{item.id}: the key's feedback should say it is right"
        for option in item.options:
            if option.key != item.answer:
                assert not option.feedback.startswith("Right"), f"{item.id} {option.key}: wrong option called right"


def test_scenarios_are_well_formed(scenarios: dict[str, Scenario]) -> None:
    for item in scenarios.values():
        assert re.fullmatch(r"sc-\d+", item.id), item.id
        assert 2 <= len(item.key_points) <= 4, item.id
        assert len(set(item.accepted)) == len(item.accepted), item.id
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", item.model_answer.strip()) if s]
        assert 3 <= len(sentences) <= 6, f"{item.id}: model answer has {len(sentences)} sentences"
    assert len({t for s in scenarios.values() for t in s.accepted}) >= 7, "scenarios should exercise most types"


# ---------------------------------------------------------------- the grading development set


def test_grading_set_size_and_ids(samples: list[dict[str, Any]]) -> None:
    assert len(samples) >= MIN_SAMPLES
    ids = [s["id"] for s in samples]
    assert len(set(ids)) == len(ids), "duplicate sample ids"


def test_samples_point_at_scenarios(samples: list[dict[str, Any]], scenarios: dict[str, Scenario]) -> None:
    for sample in samples:
        assert sample["item"] in scenarios, f"{sample['id']}: {sample['item']} is not a scenario of the bank"
        assert sample["model_type"] in MODEL_TYPES, f"{sample['id']}: unknown model type"
        assert sample["kind"] in KINDS, f"{sample['id']}: unknown kind {sample['kind']!r}"
        assert sample["expected"]["verdict"] in VERDICTS, sample["id"]
        assert isinstance(sample["explanation"], str), sample["id"]
    assert {s["item"] for s in samples} == set(scenarios), "every scenario needs grading samples"


def test_key_point_indexes_in_range(samples: list[dict[str, Any]], scenarios: dict[str, Scenario]) -> None:
    for sample in samples:
        met = sample["expected"]["key_points_met"]
        count = len(scenarios[sample["item"]].key_points)
        assert met == sorted(set(met)), f"{sample['id']}: key_points_met must be sorted and unique"
        assert all(isinstance(i, int) and 0 <= i < count for i in met), f"{sample['id']}: index out of range"


def test_every_kind_is_well_represented(samples: list[dict[str, Any]]) -> None:
    kinds = Counter(s["kind"] for s in samples)
    assert set(kinds) == KINDS
    assert all(n >= MIN_PER_KIND for n in kinds.values()), kinds
    per_kind_items = {k: {s["item"] for s in samples if s["kind"] == k} for k in KINDS}
    assert all(len(items) >= 6 for items in per_kind_items.values()), "each kind should span several scenarios"


def test_verdicts_follow_the_stated_rule(samples: list[dict[str, Any]], scenarios: dict[str, Scenario]) -> None:
    for sample in samples:
        item = scenarios[sample["item"]]
        met = sample["expected"]["key_points_met"]
        want = expected_verdict(item, sample["kind"], sample["model_type"], met)
        assert sample["expected"]["verdict"] == want, f"{sample['id']}: rule gives {want}"


def test_kinds_match_what_they_claim(samples: list[dict[str, Any]], scenarios: dict[str, Scenario]) -> None:
    claimed = {"excellent": "correct", "partial": "partial"}
    for sample in samples:
        item, kind = scenarios[sample["item"]], sample["kind"]
        accepted = sample["model_type"] in item.accepted
        if kind == "wrong-type":
            assert not accepted, f"{sample['id']}: wrong-type sample names an accepted type"
        elif kind not in JUNK_KINDS:
            assert accepted, f"{sample['id']}: {kind} sample must name an accepted type"
        if kind in claimed:
            assert sample["expected"]["verdict"] == claimed[kind], sample["id"]
        if kind == "right-type-wrong-reason" or kind in JUNK_KINDS:
            assert sample["expected"]["key_points_met"] == [], f"{sample['id']}: {kind} meets no key point"
        if kind == "empty":
            assert not sample["explanation"].strip(), sample["id"]
        else:
            assert sample["explanation"].strip(), f"{sample['id']}: only 'empty' samples may be blank"


def test_copies_really_copy_the_scenario(samples: list[dict[str, Any]], scenarios: dict[str, Scenario]) -> None:
    for sample in samples:
        if sample["kind"] != "copy-of-scenario":
            continue
        words = _words(sample["explanation"])
        source = set(_words(scenarios[sample["item"]].scenario))
        shared = sum(w in source for w in words) / len(words)
        assert shared >= 0.8, f"{sample['id']}: only {shared:.0%} of its words come from the scenario"


def test_rule_distinguishes_the_cases() -> None:
    """The rule function itself: the 2/3 threshold rounds up, and junk never passes."""
    three = Scenario(id="sc-x", concepts=("gan",), objective="explain-models", scenario="s", accepted=("gan",),
                     key_points=("a", "b", "c"), model_answer="m", sections=("gan",))
    four = three.model_copy(update={"key_points": ("a", "b", "c", "d")})
    assert expected_verdict(three, "excellent", "gan", [0, 1]) == "correct"
    assert expected_verdict(four, "partial", "gan", [0, 1]) == "partial"
    assert expected_verdict(four, "excellent", "gan", [0, 1, 3]) == "correct"
    assert expected_verdict(three, "wrong-type", "vae", [0, 1, 2]) == "incorrect"
    assert expected_verdict(three, "right-type-wrong-reason", "gan", []) == "incorrect"
    assert expected_verdict(three, "copy-of-scenario", "gan", [0, 1]) == "incorrect"
