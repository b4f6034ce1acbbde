"""Shared fixtures: keep this small; put test-specific helpers in the test module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COURSE_DIR = REPO / "content" / "genai-models"
BANK_DIR = REPO / "quizzes" / "genai-models"


@pytest.fixture(autouse=True)
def _tutor_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real data folders or a course chosen by the environment."""
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path_factory.getbasetemp() / "tutor-home"))
    monkeypatch.delenv("TUTOR_COURSE", raising=False)
    monkeypatch.delenv("TUTOR_DB_URL", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def course():
    """The shipped course, loaded once."""
    from tutor.content import load_course

    return load_course(COURSE_DIR)


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped course folder, for tests that break it."""
    target = tmp_path / "course"
    shutil.copytree(COURSE_DIR, target)
    return target


def _replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


@pytest.fixture
def edit():
    """``edit(path, old, new)``: change a copied file; fails if ``old`` is absent (no vacuous passes)."""
    return _replace_in
