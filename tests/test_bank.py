"""The question bank loads every file of its folder and reports bad items precisely."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tutor.content import ContentError
from tutor.quiz.bank import BankError, load_bank
from tutor.quiz.model import MultipleChoice, Scenario

REPO = Path(__file__).resolve().parents[1]
QUICK_CHECKS = REPO / "quizzes/genai-models/quick-checks.yaml"
SEED = Path(__file__).resolve().parents[2] / "shared/seeds/000_7b39ddffe6416692.txt"

SCENARIO = """\
items:
  - kind: scenario
    id: sc-faces
    concepts: [gan]
    objective: explain-models
    scenario: "A game studio wants realistic faces for characters that do not exist."
    accepted: [gan]
    key_points: ["a generator and a discriminator compete"]
    model_answer: "A GAN: the generator creates faces while the discriminator learns to detect fakes."
    sections: [gan]
"""


@pytest.fixture
def bank_dir(tmp_path: Path) -> Path:
    """A bank folder holding a copy of the quick checks and one scenario."""
    folder = tmp_path / "bank"
    folder.mkdir()
    shutil.copy(QUICK_CHECKS, folder / "quick-checks.yaml")
    (folder / "scenarios.yaml").write_text(SCENARIO)
    return folder


def _problems(course, folder: Path) -> list[str]:
    with pytest.raises(BankError) as info:
        load_bank(course, folder)
    assert isinstance(info.value, ContentError)
    return list(info.value.problems)


def _matches(problems: list[str], pattern: str) -> bool:
    return any(re.search(pattern, p) for p in problems)


# ---------------------------------------------------------------- shipped bank

def test_shipped_bank_loads_with_the_six_quick_checks(course):
    bank = load_bank(course)
    assert bank.course_id == "genai-models" and re.fullmatch(r"[0-9a-f]{16}", bank.version)
    quick = {item.id: item for item in bank.items if getattr(item, "source", "") == "lesson"}
    assert len(quick) == 6
    expected = {"industry": "A", "primary difference": "A", "image generation": "A", "human-like text": "A",
                "sequential data": "C", "real-time image editing": "C"}
    for phrase, key in expected.items():
        [item] = [i for i in quick.values() if phrase in i.stem]
        assert item.answer == key, phrase
    for item in quick.values():
        assert all(option.feedback.strip() for option in item.options)
        assert item.answer in {o.key for o in item.options}


@pytest.mark.skipif(not SEED.is_file(), reason=f"lesson source text not present at {SEED}")
def test_quick_checks_are_verbatim_from_the_lesson():
    seed_lines = {line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()}
    items = yaml.safe_load(QUICK_CHECKS.read_text())["items"]
    assert len(items) == 6
    for item in items:
        assert item["stem"] in seed_lines, item["stem"]
        for option in item["options"]:
            assert f"- {option['key']}. {option['text']}" in seed_lines, option


# ---------------------------------------------------------------- loading

def test_every_yaml_file_of_the_folder_is_loaded(course, bank_dir):
    bank = load_bank(course, bank_dir)
    assert len(bank.items) == 7
    assert isinstance(bank.item("sc-faces"), Scenario)
    assert isinstance(bank.item("qc-image-generation"), MultipleChoice)
    (bank_dir / "notes.txt").write_text("not a bank file")
    assert len(load_bank(course, bank_dir).items) == 7


def test_version_is_a_hash_of_the_files(course, bank_dir):
    first = load_bank(course, bank_dir).version
    assert load_bank(course, bank_dir).version == first
    path = bank_dir / "scenarios.yaml"
    path.write_text(path.read_text().replace("do not exist", "never existed"))
    assert load_bank(course, bank_dir).version != first


def test_missing_bank_folder(course, tmp_path):
    assert _matches(_problems(course, tmp_path / "nowhere"), "question bank not found")
    (tmp_path / "empty").mkdir()
    assert _matches(_problems(course, tmp_path / "empty"), r"no \*\.yaml question files")


# ---------------------------------------------------------------- validation errors

def test_yaml_syntax_error_names_file_and_line(course, bank_dir):
    (bank_dir / "scenarios.yaml").write_text(SCENARIO.replace("accepted: [gan]", "accepted: [gan"))
    assert _matches(_problems(course, bank_dir), r"^scenarios\.yaml:[78]:\d+: YAML syntax error")


def test_duplicate_ids_across_files(course, bank_dir):
    (bank_dir / "scenarios.yaml").write_text(SCENARIO.replace("sc-faces", "qc-image-generation"))
    assert _matches(_problems(course, bank_dir),
                    r"^scenarios\.yaml:3: items\[0\]\.id: duplicate item id 'qc-image-generation' "
                    r"\(first at quick-checks\.yaml:\d+\)")


def test_answer_key_not_among_options_and_duplicate_keys(course, bank_dir, edit):
    path = bank_dir / "quick-checks.yaml"
    edit(path, "    answer: C\n    sections: [evaluation-criteria]",
         "    answer: E\n    sections: [evaluation-criteria]")
    edit(path, '      - key: B\n        text: "GAN"', '      - key: A\n        text: "GAN"')
    problems = _problems(course, bank_dir)
    assert _matches(problems, r"^quick-checks\.yaml:\d+: items\[5\]\.answer: answer 'E' is not among the option keys")
    assert _matches(problems, r"^quick-checks\.yaml:\d+: items\[4\]\.options\[1\]\.key: duplicate option key 'A'")


def test_unknown_concept_objective_and_section(course, bank_dir, edit):
    path = bank_dir / "quick-checks.yaml"
    edit(path, "concepts: [gan]", "concepts: [gans]")
    edit(path, "objective: differentiate", "objective: compare")
    edit(path, "sections: [evaluation-criteria]", "sections: [evaluation-critera]")
    problems = _problems(course, bank_dir)
    assert _matches(problems, r"^quick-checks\.yaml:\d+: items\[2\]\.concepts\[0\]: unknown concept 'gans'")
    assert _matches(problems, r"^quick-checks\.yaml:\d+: items\[0\]\.objective: unknown objective 'compare'")
    assert _matches(problems,
                    r"^quick-checks\.yaml:\d+: items\[5\]\.sections\[0\]: unknown section 'evaluation-critera'")
    assert len(problems) == 3


def test_model_type_outside_the_vocabulary(course, bank_dir):
    (bank_dir / "scenarios.yaml").write_text(SCENARIO.replace("accepted: [gan]", "accepted: [gan, bert]"))
    assert _matches(_problems(course, bank_dir),
                    r"^scenarios\.yaml:7: items\[0\]\.accepted\[1\]: unknown model type 'bert' \(expected one of")


def test_fewer_than_two_options(course, bank_dir):
    items = yaml.safe_load((bank_dir / "quick-checks.yaml").read_text())["items"]
    items[1]["options"] = items[1]["options"][:1]
    (bank_dir / "quick-checks.yaml").write_text(yaml.safe_dump({"items": items}, sort_keys=False))
    assert _matches(_problems(course, bank_dir),
                    r"^quick-checks\.yaml:\d+: items\[1\]\.options: needs at least two options")


def test_schema_errors_name_field_path(course, bank_dir):
    text = SCENARIO.replace("    model_answer:", "    colour: red\n    model_answer:")
    text = text.replace("    concepts: [gan]\n", "")
    (bank_dir / "scenarios.yaml").write_text(text)
    problems = _problems(course, bank_dir)
    assert _matches(problems, r"^scenarios\.yaml:2: items\[0\]\.concepts: required field is missing")
    assert _matches(problems, r"^scenarios\.yaml:8: items\[0\]\.colour: unknown field")


def test_unknown_kind_and_bad_top_level(course, bank_dir):
    (bank_dir / "scenarios.yaml").write_text(SCENARIO.replace("kind: scenario", "kind: essay"))
    (bank_dir / "extra.yaml").write_text("- just a list\n")
    problems = _problems(course, bank_dir)
    assert _matches(problems, r"^scenarios\.yaml:2: items\[0\]\.kind: unknown kind 'essay'")
    assert _matches(problems, r"^extra\.yaml:1: expected a mapping with the key 'items'")
