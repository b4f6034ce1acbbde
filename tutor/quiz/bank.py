"""Load a course's question bank (every ``*.yaml`` in its folder) and check it against the course.

File format: a mapping whose only key, ``items``, holds a list of items; each
item has ``kind: multiple_choice`` or ``kind: scenario`` and the fields of
`tutor.quiz.model`. Every problem names the file and line with the item's
field path, and all problems are raised together as one `BankError`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tutor import config
from tutor.content.errors import ContentError
from tutor.content.model import Course
from tutor.content.yamlfile import YamlDoc, load_yaml, pydantic_problems
from tutor.quiz.model import MODEL_TYPES, MultipleChoice, QuestionBank, Scenario

KINDS: dict[str, type[MultipleChoice] | type[Scenario]] = {
    "multiple_choice": MultipleChoice,
    "scenario": Scenario,
}


class BankError(ContentError):
    """The question bank is invalid (or missing)."""


@dataclass(frozen=True)
class _Located:
    item: MultipleChoice | Scenario
    doc: YamlDoc
    index: int

    def where(self, *path: str | int) -> str:
        return self.doc.where(("items", self.index, *path))


def bank_files(path: Path) -> list[Path]:
    """The YAML files of a bank: a folder's ``*.yaml`` (sorted) or a single file."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.glob("*.yaml") if p.is_file())


def load_bank(course: Course, path: Path | str | None = None) -> QuestionBank:
    """Read and validate the bank at ``path`` (None: the course's shipped bank)."""
    folder = Path(path).expanduser() if path is not None else config.quiz_dir(course.id)
    if not folder.exists():
        raise BankError(f"question bank not found: {folder}")
    files = bank_files(folder)
    if not files:
        raise BankError(f"no *.yaml question files in {folder}")
    base = folder if folder.is_dir() else folder.parent

    problems: list[str] = []
    located: list[_Located] = []
    digest = hashlib.sha256()
    for file in files:
        name = file.relative_to(base).as_posix()
        digest.update(name.encode())
        digest.update(file.read_bytes())
        doc, file_problems = load_yaml(file, name)
        problems += file_problems
        if doc is not None:
            items, item_problems = _parse_items(doc)
            located += items
            problems += item_problems

    problems += _check_references(course, located)
    if problems:
        raise BankError(problems, where=str(folder))
    return QuestionBank(
        course_id=course.id,
        version=digest.hexdigest()[:16],
        items=tuple(entry.item for entry in located),
    )


def _parse_items(doc: YamlDoc) -> tuple[list[_Located], list[str]]:
    data = doc.data
    if data is None:
        return [], []  # an empty file is allowed (e.g. a placeholder)
    if not isinstance(data, dict) or "items" not in data:
        return [], [f"{doc.where()}: expected a mapping with the key 'items' holding a list of questions"]
    problems = [f"{doc.where((key,))}: unknown top-level key (only 'items')" for key in data if key != "items"]
    raw_items = data["items"]
    if raw_items is None:
        return [], problems
    if not isinstance(raw_items, list):
        return [], problems + [f"{doc.where(('items',))}: expected a list of questions"]
    located: list[_Located] = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            problems.append(f"{doc.where(('items', index))}: expected a mapping (an item)")
            continue
        kind = raw.get("kind")
        model = KINDS.get(kind) if isinstance(kind, str) else None
        if model is None:
            problems.append(
                f"{doc.where(('items', index, 'kind'))}: "
                + (f"unknown kind {kind!r}" if kind is not None else "required field 'kind' is missing")
                + f" (expected {' or '.join(KINDS)})"
            )
            continue
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            problems += pydantic_problems(doc, exc, ("items", index), rewrite=_rewrite)
            continue
        located.append(_Located(item=item, doc=doc, index=index))
    return located, problems


def _rewrite(error: dict[str, Any]) -> str | None:
    """Domain wording for the schema errors authors make most."""
    loc = [p for p in error["loc"] if isinstance(p, (str, int))]
    kind = error.get("type")
    if loc and loc[0] == "options" and kind == "too_short" and len(loc) == 1:
        return "needs at least two options"
    if loc and loc[0] == "accepted" and kind == "literal_error":
        return f"unknown model type {error.get('input')!r} (expected one of: {', '.join(MODEL_TYPES)})"
    return None


def _check_references(course: Course, located: list[_Located]) -> list[str]:
    problems: list[str] = []
    concepts = {c.id for c in course.concepts}
    objectives = {o.id for o in course.objectives}
    sections = {s.id for s in course.sections()}
    first: dict[str, _Located] = {}
    for entry in located:
        item = entry.item
        if item.id in first:
            other = first[item.id]
            problems.append(
                f"{entry.where('id')}: duplicate item id '{item.id}' "
                f"(first at {other.doc.name}:{other.doc.line(('items', other.index, 'id'))})"
            )
        else:
            first[item.id] = entry
        for i, concept in enumerate(item.concepts):
            if concept not in concepts:
                problems.append(f"{entry.where('concepts', i)}: unknown concept '{concept}'")
        if item.objective not in objectives:
            problems.append(
                f"{entry.where('objective')}: unknown objective '{item.objective}' "
                f"(known: {', '.join(sorted(objectives))})"
            )
        for i, section in enumerate(item.sections):
            if section not in sections:
                problems.append(f"{entry.where('sections', i)}: unknown section '{section}'")
        if isinstance(item, MultipleChoice):
            problems += _check_options(entry, item)
    return problems


def _check_options(entry: _Located, item: MultipleChoice) -> list[str]:
    problems = []
    keys: dict[str, int] = {}
    for i, option in enumerate(item.options):
        if option.key in keys:
            problems.append(
                f"{entry.where('options', i, 'key')}: duplicate option key '{option.key}' "
                f"(first at options[{keys[option.key]}])"
            )
        keys.setdefault(option.key, i)
        if not option.text.strip():
            problems.append(f"{entry.where('options', i, 'text')}: option text is empty")
    if item.answer not in keys:
        problems.append(
            f"{entry.where('answer')}: answer '{item.answer}' is not among the option keys "
            f"({', '.join(keys)})"
        )
    return problems
