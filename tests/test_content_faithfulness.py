"""Every substantive line of the original lesson survives in the course."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.content import load_course
from tutor.content.faithfulness import check_faithful, normalise, source_lines

SEED = Path(__file__).resolve().parents[2] / "shared/seeds/000_7b39ddffe6416692.txt"
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason=f"lesson source text not present at {SEED}")


@needs_seed
def test_shipped_course_carries_every_lesson_line(course):
    assert len(source_lines(SEED.read_text(encoding="utf-8"))) > 150
    assert check_faithful(course, SEED) == []


@needs_seed
def test_a_dropped_sentence_is_reported_with_its_line(course_copy, edit):
    sentence = ("They retain memory of previous inputs, making them ideal for tasks like speech recognition "
                "and text generation.")
    edit(course_copy / "lessons/06-rnn-autoencoders.md", sentence + "\n", "")
    missing = check_faithful(load_course(course_copy), SEED)
    assert len(missing) == 1
    number = next(i for i, line in enumerate(SEED.read_text().splitlines(), 1) if line.strip() == sentence)
    assert missing[0] == f"line {number}: {sentence}"


def test_quick_checks_headings_and_labels_are_skipped():
    text = (
        "# **Heading Here Is Long**\nGenerative AI\n\nVS\n\nCreativity and  \ninnovation\n"
        "A real sentence with words.\n## Quick Check\nWhich model is best for this?\n- A. Option one here\n"
        "# Next Part\nAnother real sentence here.\n"
    )
    assert source_lines(text) == [
        (6, "Creativity and innovation"), (8, "A real sentence with words."), (13, "Another real sentence here."),
    ]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("- 🔗 Define the key principles.", "Define the key principles."),
        ("Use case\tGenerative AI (GenAI)\tTraditional", "Use case Generative AI (GenAI) Traditional"),
        ("| Use case | Generative AI (GenAI) | Traditional |", "Use case Generative AI (GenAI) Traditional"),
        ("in the paper ***Attention Is All You Need*** by", "in the paper Attention Is All You Need by"),
        ("## **Note:**", "Note:"),
        ("It\u2019s   spaced", "It's spaced"),
    ],
)
def test_normalise(raw, clean):
    assert normalise(raw) == clean
