"""Split a lesson markdown file into sections.

Format (see README, "Course format"):

    # Lesson title                      <- exactly one, before the sections
    ## Section title                    <- starts a section
    <!-- id: gan | concepts: gan, applications -->   <- the very next line
    body ...                            <- ### and deeper headings stay in the body

Add ``| supplementary`` to the comment for sections written for tutor rather
than taken from the original lesson. Whole-line HTML comments elsewhere are
author notes and are dropped. Problems are reported as ``file:line: message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ID_PATTERN = r"[a-z0-9][a-z0-9-]*"
_ID = re.compile(rf"^{ID_PATTERN}$")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")  # optional closing #s
_EMPTY_HEADING = re.compile(r"^(#{1,6})[ \t]*$")
_COMMENT = re.compile(r"^<!--(.*?)-->$")
_FENCE = re.compile(r"^(```|~~~)")
_METADATA_HINT = "expected '<!-- id: my-section | concepts: a, b -->'"


@dataclass
class ParsedSection:
    """A section as written in the file, before cross-references are checked."""

    id: str
    title: str
    line: int  # line of the `## ` heading
    concepts: tuple[str, ...] = ()
    supplementary: bool = False
    body: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.body).strip("\n").strip()


@dataclass
class ParsedLesson:
    title: str | None
    title_line: int | None
    sections: list[ParsedSection]


@dataclass
class _Metadata:
    id: str | None = None
    concepts: tuple[str, ...] = ()
    supplementary: bool = False


def parse_metadata(comment: str, where: str) -> tuple[_Metadata, list[str]]:
    """Parse the inside of ``<!-- ... -->``: ``key: value`` parts separated by ``|``."""
    meta = _Metadata()
    problems: list[str] = []
    seen: set[str] = set()
    for raw in comment.split("|"):
        part = raw.strip()
        if not part:
            problems.append(f"{where}: malformed metadata comment: empty field ({_METADATA_HINT})")
            continue
        key, sep, value = part.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key in seen:
            problems.append(f"{where}: malformed metadata comment: '{key}' given twice")
            continue
        seen.add(key)
        if not sep:
            if key == "supplementary":
                meta.supplementary = True
            else:
                problems.append(f"{where}: malformed metadata comment: unknown flag '{part}' ({_METADATA_HINT})")
        elif key == "id":
            if _ID.match(value):
                meta.id = value
            else:
                problems.append(
                    f"{where}: malformed metadata comment: bad section id '{value}' "
                    "(lowercase letters, digits and '-')"
                )
        elif key == "concepts":
            tags = [t.strip() for t in value.split(",") if t.strip()]
            bad = [t for t in tags if not _ID.match(t)]
            if bad:
                problems.append(f"{where}: malformed metadata comment: bad concept id(s) {', '.join(bad)}")
            dupes = sorted({t for t in tags if tags.count(t) > 1})
            if dupes:
                problems.append(f"{where}: concept tagged twice: {', '.join(dupes)}")
            meta.concepts = tuple(dict.fromkeys(t for t in tags if _ID.match(t)))
        else:
            problems.append(f"{where}: malformed metadata comment: unknown field '{key}' ({_METADATA_HINT})")
    return meta, problems


def parse_lesson(text: str, name: str) -> tuple[ParsedLesson, list[str]]:
    """Parse one lesson file; ``name`` is how the file is called in messages."""
    lines = text.splitlines()
    problems: list[str] = []
    sections: list[ParsedSection] = []
    title: str | None = None
    title_line: int | None = None
    current: ParsedSection | None = None
    in_section = False  # False before the first `##`, and after a `##` with no usable id
    outside_run = False  # report a run of stray lines once
    fence: str | None = None
    skip_next = False
    broken = False  # inside the body of a `##` section that has no usable id

    for index, line in enumerate(lines):
        number = index + 1
        if skip_next:
            skip_next = False
            continue
        stripped = line.strip()
        if fence is not None or _FENCE.match(stripped):
            if fence is None:
                fence = stripped[:3]
            elif stripped.startswith(fence):
                fence = None
            if in_section and current is not None:
                current.body.append(line)
            elif not outside_run and not broken:
                problems.append(f"{name}:{number}: text outside any section (start a section with '## Title')")
                outside_run = True
            continue
        if _EMPTY_HEADING.match(line):
            problems.append(f"{name}:{number}: empty heading")
            continue
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) == 1:
            outside_run, broken = False, False
            if title is not None:
                problems.append(
                    f"{name}:{number}: second '# ' heading '{heading.group(2)}': a lesson has one title "
                    f"(line {title_line}); use '## ' for sections"
                )
            elif sections or in_section:
                problems.append(f"{name}:{number}: the '# ' lesson title must come before the sections")
            else:
                title, title_line = heading.group(2), number
            continue
        if heading and len(heading.group(1)) == 2:
            outside_run = False
            section_title = heading.group(2)
            following = lines[index + 1].strip() if index + 1 < len(lines) else ""
            comment = _COMMENT.match(following)
            in_section, current, broken = False, None, True
            if following.startswith("<!--") and not comment:
                problems.append(f"{name}:{number + 1}: malformed metadata comment ({_METADATA_HINT}, on one line)")
                skip_next = True
                continue
            if not comment:
                problems.append(
                    f"{name}:{number}: section '{section_title}' has no id "
                    f"(put {_METADATA_HINT} on the line right after the heading)"
                )
                continue
            skip_next = True
            meta, meta_problems = parse_metadata(comment.group(1), f"{name}:{number + 1}")
            problems += meta_problems
            if meta.id is None:
                if not any("bad section id" in p for p in meta_problems):
                    problems.append(f"{name}:{number + 1}: section '{section_title}' has no id ({_METADATA_HINT})")
                continue
            current = ParsedSection(
                id=meta.id, title=section_title, line=number,
                concepts=meta.concepts, supplementary=meta.supplementary,
            )
            sections.append(current)
            in_section, broken = True, False
            continue
        if _COMMENT.match(stripped):
            continue  # author note
        if stripped.startswith("<!--"):
            problems.append(f"{name}:{number}: unclosed or multi-line HTML comment (keep comments on one line)")
            continue
        if in_section and current is not None:
            current.body.append(line)
        elif broken:
            continue  # body of a section whose heading was already reported
        elif stripped:
            if not outside_run:
                problems.append(f"{name}:{number}: text outside any section (start a section with '## Title')")
            outside_run = True
        else:
            outside_run = False

    if fence is not None:
        problems.append(f"{name}: unclosed code fence")
    if title is None:
        problems.append(f"{name}:1: lesson has no '# ' title")
    for section in sections:
        if not section.text:
            problems.append(f"{name}:{section.line}: section '{section.id}' has no text")
    return ParsedLesson(title=title, title_line=title_line, sections=sections), problems
