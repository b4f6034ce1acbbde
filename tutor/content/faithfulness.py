"""Check that a course still carries every line of the lesson it was made from.

A tutor must be right, and the lesson sentences carry the facts: when content
is split into sections, merged or reformatted, nothing may be lost. This
compares the original lesson text with the course after normalising away what
formatting changes (whitespace, emphasis, bullets, emoji, table pipes) and
reports each substantive source line that no longer appears.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from tutor.content.model import Course

MIN_WORDS = 3  # shorter lines are slide labels ("VS", "Generative AI", "Note:")
_HEADING = re.compile(r"^\s*#{1,6}\s")
_BULLET = re.compile(r"^(?:[-*+•]|\d+[.)])\s+")
_COMMENT = re.compile(r"<!--.*?-->")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def normalise(line: str) -> str:
    """Reduce a line to its words and punctuation, without markdown decoration."""
    text = _COMMENT.sub(" ", line).translate(_QUOTES)
    text = "".join(
        " " if unicodedata.category(ch) in ("So", "Sk", "Cs") or 0xFE00 <= ord(ch) <= 0xFE0F or ch == "\u200d"
        else ch
        for ch in text
    )
    text = text.strip()
    text = re.sub(r"^#{1,6}\s+", "", text)
    text = _BULLET.sub("", text)
    text = re.sub(r"[*`|]", " ", text)
    return " ".join(text.split())


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Source lines with markdown hard breaks (two trailing spaces) joined to the next line."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if pending is not None:
            start, so_far = pending
            if raw.strip():
                so_far = f"{so_far} {raw.strip()}"
            pending = None
            if raw.endswith("  ") and raw.strip():
                pending = (start, so_far)
                continue
            out.append((start, so_far))
            continue
        if raw.endswith("  ") and raw.strip():
            pending = (number, raw.rstrip())
            continue
        out.append((number, raw))
    if pending is not None:
        out.append(pending)
    return out


def source_lines(text: str) -> list[tuple[int, str]]:
    """The substantive lines of a source lesson: no headings, labels or Quick Check blocks."""
    kept: list[tuple[int, str]] = []
    in_quick_check = False
    for number, line in _logical_lines(text):
        if _HEADING.match(line):
            in_quick_check = normalise(line).lower() == "quick check"
            continue
        if in_quick_check:
            continue
        clean = normalise(line)
        if len(clean.split()) >= MIN_WORDS:
            kept.append((number, clean))
    return kept


def course_text(course: Course) -> str:
    """Every title and section of the course, normalised into one searchable string."""
    parts = [normalise(course.title)]
    for lesson in course.lessons:
        parts.append(normalise(lesson.title))
        for section in lesson.sections:
            parts.append(normalise(section.title))
            parts.extend(normalise(line) for line in section.text.splitlines())
    return " " + " ".join(p for p in parts if p) + " "


def check_faithful(course: Course, source_text_path: Path | str) -> list[str]:
    """Source lines missing from the course, as ``line N: text`` (empty list: faithful)."""
    source = Path(source_text_path).read_text(encoding="utf-8")
    corpus = course_text(course)
    return [f"line {number}: {line}" for number, line in source_lines(source) if line not in corpus]
