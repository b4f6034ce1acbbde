"""Load a course folder into `tutor.content.model.Course`, checking everything first.

The loader is the only gate between hand-written files and the rest of tutor:
once a `Course` exists, every id it mentions resolves. All problems are
collected and raised together as one `ContentError`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from pydantic import ValidationError

from tutor import config
from tutor.content.errors import ContentError
from tutor.content.markdown import ParsedLesson, parse_lesson
from tutor.content.model import Concept, Course, Lesson, Objective, Section
from tutor.content.schema import CourseSpec
from tutor.content.yamlfile import YamlDoc, load_yaml, pydantic_problems

COURSE_FILE = "course.yaml"


def resolve_course_dir(path: Path | str | None = None) -> Path:
    """The course folder for a flag value; a path to ``course.yaml`` itself also works."""
    root = config.course_dir(path)
    if root.is_file() and root.name == COURSE_FILE:
        root = root.parent
    return root


def load_course(path: Path | str | None = None) -> Course:
    """Read and validate a course folder (None: ``--course``/``TUTOR_COURSE``/shipped course)."""
    root = resolve_course_dir(path)
    if not root.is_dir():
        raise ContentError(f"course folder not found: {root}")
    doc, problems = load_yaml(root / COURSE_FILE, COURSE_FILE)
    if doc is None:
        raise ContentError(problems, where=str(root))
    if not isinstance(doc.data, dict):
        raise ContentError([f"{doc.where()}: expected a mapping with id, title, objectives, concepts, lessons"],
                           where=str(root))
    try:
        spec = CourseSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise ContentError(problems + pydantic_problems(doc, exc), where=str(root)) from None

    problems += _check_ids(doc, spec)
    problems += _check_prerequisites(doc, spec)
    lessons, files, lesson_problems = _load_lessons(root, doc, spec)
    problems += lesson_problems
    problems += _check_sections(doc, spec, lessons, complete=len(lessons) == len(spec.lessons))
    if problems:
        raise ContentError(problems, where=str(root))

    return Course(
        id=spec.id,
        title=spec.title,
        version=spec.version,
        root=root.resolve(),
        objectives=tuple(Objective(id=o.id, text=o.text) for o in spec.objectives),
        concepts=tuple(
            Concept(id=c.id, name=c.name, objective=c.objective, prerequisites=c.prerequisites,
                    description=c.description)
            for c in spec.concepts
        ),
        lessons=tuple(lessons),
        files=(COURSE_FILE, *files),
    )


def _duplicates(doc: YamlDoc, field: str, ids: list[str], what: str) -> list[str]:
    problems, first = [], {}
    for index, item_id in enumerate(ids):
        if item_id in first:
            problems.append(
                f"{doc.where((field, index, 'id'))}: duplicate {what} id '{item_id}' "
                f"(first at {field}[{first[item_id]}])"
            )
        else:
            first[item_id] = index
    return problems


def _check_ids(doc: YamlDoc, spec: CourseSpec) -> list[str]:
    problems = _duplicates(doc, "objectives", [o.id for o in spec.objectives], "objective")
    problems += _duplicates(doc, "concepts", [c.id for c in spec.concepts], "concept")
    problems += _duplicates(doc, "lessons", [lesson.id for lesson in spec.lessons], "lesson")
    objectives = {o.id for o in spec.objectives}
    for index, concept in enumerate(spec.concepts):
        if concept.objective not in objectives:
            problems.append(
                f"{doc.where(('concepts', index, 'objective'))}: unknown objective '{concept.objective}' "
                f"(known: {', '.join(sorted(objectives))})"
            )
    seen_files: dict[str, int] = {}
    for index, lesson in enumerate(spec.lessons):
        key = str(PurePosixPath(lesson.file))
        if key in seen_files:
            problems.append(f"{doc.where(('lessons', index, 'file'))}: file '{lesson.file}' already used by "
                            f"lessons[{seen_files[key]}]")
        seen_files.setdefault(key, index)
    return problems


def _check_prerequisites(doc: YamlDoc, spec: CourseSpec) -> list[str]:
    """Unknown prerequisites and cycles (each cycle reported once, as a path)."""
    problems = []
    known = {c.id for c in spec.concepts}
    graph: dict[str, tuple[str, ...]] = {}
    for index, concept in enumerate(spec.concepts):
        for p_index, prereq in enumerate(concept.prerequisites):
            where = doc.where(("concepts", index, "prerequisites", p_index))
            if prereq == concept.id:
                problems.append(f"{where}: concept '{concept.id}' lists itself as a prerequisite")
            elif prereq not in known:
                problems.append(f"{where}: unknown prerequisite '{prereq}' of concept '{concept.id}'")
        graph.setdefault(concept.id, tuple(p for p in concept.prerequisites if p in known and p != concept.id))

    index_of = {c.id: i for i, c in enumerate(spec.concepts)}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        trail.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt]
                members = frozenset(cycle)
                if members not in reported:
                    reported.add(members)
                    problems.append(
                        f"{doc.where(('concepts', index_of[nxt], 'prerequisites'))}: prerequisite cycle: "
                        + " -> ".join(cycle)
                    )
            elif nxt not in state:
                visit(nxt, trail)
        trail.pop()
        state[node] = 2

    for concept_id in graph:
        if concept_id not in state:
            visit(concept_id, [])
    return problems


def _load_lessons(root: Path, doc: YamlDoc, spec: CourseSpec) -> tuple[list[Lesson], list[str], list[str]]:
    problems: list[str] = []
    lessons: list[Lesson] = []
    files: list[str] = []
    root_resolved = root.resolve()
    for index, entry in enumerate(spec.lessons):
        where = doc.where(("lessons", index, "file"))
        rel = PurePosixPath(entry.file)
        path = (root / rel).resolve()
        if rel.is_absolute() or not path.is_relative_to(root_resolved):
            problems.append(f"{where}: lesson file '{entry.file}' must be inside the course folder")
            continue
        if not path.is_file():
            problems.append(f"{where}: lesson file '{entry.file}' not found")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{where}: cannot read lesson file '{entry.file}' ({exc})")
            continue
        parsed, parse_problems = parse_lesson(text, str(rel))
        problems += parse_problems
        files.append(str(rel))
        title = entry.title or parsed.title or entry.id
        if entry.title and parsed.title and entry.title != parsed.title:
            problems.append(
                f"{rel}:{parsed.title_line}: lesson title '{parsed.title}' differs from course.yaml "
                f"lessons[{index}].title '{entry.title}'"
            )
        lessons.append(_lesson(entry.id, title, str(rel), parsed))
    return lessons, files, problems


def _lesson(lesson_id: str, title: str, file: str, parsed: ParsedLesson) -> Lesson:
    sections = tuple(
        Section(
            id=s.id, title=s.title, text=s.text, concepts=s.concepts, supplementary=s.supplementary,
            lesson_id=lesson_id, source=file, line=s.line,
        )
        for s in parsed.sections
    )
    return Lesson(id=lesson_id, title=title, file=file, sections=sections)


def _check_sections(doc: YamlDoc, spec: CourseSpec, lessons: list[Lesson], *, complete: bool) -> list[str]:
    """Unique section ids, known concept tags, and every concept taught somewhere."""
    problems: list[str] = []
    known = {c.id for c in spec.concepts}
    first: dict[str, Section] = {}
    taught: set[str] = set()
    for lesson in lessons:
        for section in lesson.sections:
            where = f"{section.source}:{section.line}"
            if section.id in first:
                other = first[section.id]
                problems.append(
                    f"{where}: duplicate section id '{section.id}' (first at {other.source}:{other.line})"
                )
            else:
                first[section.id] = section
            for tag in section.concepts:
                if tag in known:
                    taught.add(tag)
                else:
                    problems.append(f"{where}: section '{section.id}': unknown concept '{tag}'")
            if not section.concepts:
                problems.append(f"{where}: section '{section.id}' is tagged with no concept")
    for index, concept in enumerate(spec.concepts):
        if concept.id not in taught and complete:
            problems.append(f"{doc.where(('concepts', index, 'id'))}: concept '{concept.id}' is taught by no section "
                            "(tag a section with it)")
    return problems
