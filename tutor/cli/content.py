"""`tutor content`: check a course folder and its question bank, or look inside it.

`validate` is what an instructor runs after editing: it lists every problem at
once (file and line), or prints what was loaded. `show` prints the outline
with the ids that quizzes and citations use, or one section's text.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tutor.content.model import Course

_PATH = click.Path(path_type=Path)


@click.group()
def content() -> None:
    """Validate or show a course folder."""


@content.command()
@click.option("--course", "course_path", type=_PATH, default=None,
              help="Course folder (default: TUTOR_COURSE or the shipped course).")
@click.option("--bank", "bank_path", type=_PATH, default=None,
              help="Question-bank folder or file (default: the course's shipped bank).")
@click.option("--source", "source_path", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="Original lesson text: also check that every line of it is in the course.")
def validate(course_path: Path | None, bank_path: Path | None, source_path: Path | None) -> None:
    """Check the course and its question bank; list every problem found."""
    from tutor.content import ContentError, load_course
    from tutor.quiz.bank import load_bank

    try:
        course = load_course(course_path)
    except ContentError as exc:
        raise click.ClickException(f"course: {exc}") from None
    sections = list(course.sections())
    supplementary = sum(s.supplementary for s in sections)
    click.echo(f"Course {course.id} (version {course.version}): {course.title}")
    click.echo(f"  lessons: {len(course.lessons)}  sections: {len(sections)} ({supplementary} supplementary)"
               f"  concepts: {len(course.concepts)}  objectives: {len(course.objectives)}")

    failures: list[str] = []
    if source_path is not None:
        from tutor.content.faithfulness import check_faithful

        missing = check_faithful(course, source_path)
        if missing:
            failures.append(f"{len(missing)} line(s) of {source_path} missing from the course:\n"
                            + "\n".join(f"  {m}" for m in missing))
        else:
            click.echo(f"  every line of {source_path} is in the course")
    try:
        bank = load_bank(course, bank_path)
    except ContentError as exc:
        failures.append(f"question bank: {exc}")
    else:
        kinds = Counter(item.kind for item in bank.items)
        by_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        click.echo(f"Question bank (version {bank.version}): {len(bank.items)} items ({by_kind})")
    if failures:
        raise click.ClickException("\n".join(failures))
    click.echo("OK")


@content.command()
@click.option("--course", "course_path", type=_PATH, default=None,
              help="Course folder (default: TUTOR_COURSE or the shipped course).")
@click.option("--section", "section_id", default=None, help="Print this section's text instead of the outline.")
def show(course_path: Path | None, section_id: str | None) -> None:
    """Print the course outline (lessons, sections, concepts), or one section."""
    from tutor.content import ContentError, load_course

    try:
        course = load_course(course_path)
    except ContentError as exc:
        raise click.ClickException(f"course: {exc}") from None
    if section_id is not None:
        click.echo(_section_text(course, section_id))
        return
    click.echo(f"{course.title}  [{course.id}, version {course.version}]")
    for l_index, lesson in enumerate(course.lessons):
        last_lesson = l_index == len(course.lessons) - 1
        click.echo(f"{'└─' if last_lesson else '├─'} {lesson.id}: {lesson.title}  ({lesson.file})")
        stem = "   " if last_lesson else "│  "
        for s_index, section in enumerate(lesson.sections):
            branch = "└─" if s_index == len(lesson.sections) - 1 else "├─"
            mark = "  (supplementary)" if section.supplementary else ""
            click.echo(f"{stem}{branch} {section.id}: {section.title}  [{', '.join(section.concepts)}]{mark}")


def _section_text(course: Course, section_id: str) -> str:
    try:
        section = course.section(section_id)
    except KeyError:
        import difflib

        close = difflib.get_close_matches(section_id, [s.id for s in course.sections()], n=3)
        hint = f" (did you mean: {', '.join(close)}?)" if close else " (see `tutor content show`)"
        raise click.ClickException(f"unknown section '{section_id}'{hint}") from None
    facts = [section.id, f"{section.source}:{section.line}", "concepts: " + ", ".join(section.concepts)]
    if section.supplementary:
        facts.append("supplementary")
    return f"## {section.title}\n[{' | '.join(facts)}]\n\n{section.text}"
