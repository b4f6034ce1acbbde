"""`tutor content validate` and `tutor content show` as an instructor uses them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from tutor.cli.main import cli

REPO = Path(__file__).resolve().parents[1]
QUICK_CHECKS = REPO / "quizzes/genai-models/quick-checks.yaml"


def _run(*args: str):
    return CliRunner().invoke(cli, ["content", *args])


def _bank(tmp_path: Path) -> Path:
    folder = tmp_path / "bank"
    folder.mkdir()
    shutil.copy(QUICK_CHECKS, folder)
    return folder


def test_validate_passes_and_summarises(course_copy, tmp_path):
    result = _run("validate", "--course", str(course_copy), "--bank", str(_bank(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "lessons: 9  sections: 49 (6 supplementary)  concepts: 21" in result.output
    assert re.search(r"6 items \(multiple_choice 6\)", result.output)
    assert result.output.rstrip().endswith("OK")


def test_validate_shipped_course_and_bank():
    result = _run("validate")
    assert result.exit_code == 0, result.output
    count = int(re.search(r"Question bank \(version [0-9a-f]+\): (\d+) items", result.output).group(1))
    assert count >= 6


def test_validate_lists_every_problem_without_traceback(course_copy, tmp_path, edit):
    edit(course_copy / "lessons/04-ai-components.md", "concepts: gru, rnn", "concepts: gru, rnnx")
    edit(course_copy / "course.yaml", "objective: differentiate", "objective: compare")
    result = _run("validate", "--course", str(course_copy), "--bank", str(_bank(tmp_path)))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert result.output.startswith("Error: course: 2 problems")
    assert "unknown concept 'rnnx'" in result.output and "unknown objective 'compare'" in result.output


def test_validate_reports_bank_problems_after_the_course_summary(course_copy, tmp_path, edit):
    bank = _bank(tmp_path)
    edit(bank / "quick-checks.yaml", "sections: [evaluation-criteria]", "sections: [nowhere]")
    result = _run("validate", "--course", str(course_copy), "--bank", str(bank))
    assert result.exit_code == 1
    assert "lessons: 9" in result.output
    assert re.search(r"Error: question bank: 1 problem in .*\n  quick-checks\.yaml:\d+: items\[5\]\.sections\[0\]: "
                     r"unknown section 'nowhere'", result.output)


def test_show_outline(course_copy):
    result = _run("show", "--course", str(course_copy))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Advanced Generative AI: Models and Architecture")
    assert sum(1 for line in lines if re.match(r"^[├└]─ ", line)) == 9
    assert any(re.search(r"[├└]─ gan: Generative Adversarial Networks \(GANs\)\s+\[gan, applications\]$", line)
               for line in lines)
    assert sum("(supplementary)" in line for line in lines) == 6


def test_show_section_and_unknown_section(course_copy):
    result = _run("show", "--course", str(course_copy), "--section", "lstm")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("## Components of RNN: Long Short-Term Memory\n")
    assert "It solves the vanishing gradient problem" in result.output
    missing = _run("show", "--course", str(course_copy), "--section", "lstmm")
    assert missing.exit_code == 1 and "unknown section 'lstmm' (did you mean: lstm" in missing.output
