"""Typed course objects: what every other part of tutor reads.

A course is a folder an instructor can author (see README, "Course format");
`tutor.content.loader.load_course` turns it into these objects. They are plain
pydantic models so that later parts (retrieval, quizzes, the app) can rely on
ids being valid: the loader has already checked every cross-reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Objective(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    text: str


class Concept(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    objective: str
    prerequisites: tuple[str, ...] = ()
    description: str = ""


class Section(BaseModel):
    """One titled piece of a lesson: the unit retrieval cites and quizzes point at."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    text: str  # markdown body without the heading line
    concepts: tuple[str, ...] = ()
    supplementary: bool = False  # written for tutor, not part of the original lesson
    lesson_id: str
    source: str  # lesson file, relative to the course folder
    line: int = 0  # line of the section heading in `source` (0: unknown)


class Lesson(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    file: str
    sections: tuple[Section, ...]


class Course(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    title: str
    version: str = "1"
    root: Path
    objectives: tuple[Objective, ...]
    concepts: tuple[Concept, ...]
    lessons: tuple[Lesson, ...]
    files: tuple[str, ...] = Field(default=(), description="every file the course was read from, relative")

    def sections(self) -> Iterator[Section]:
        for lesson in self.lessons:
            yield from lesson.sections

    def section(self, section_id: str) -> Section:
        for section in self.sections():
            if section.id == section_id:
                return section
        raise KeyError(section_id)

    def lesson(self, lesson_id: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        raise KeyError(lesson_id)

    def objective(self, objective_id: str) -> Objective:
        for objective in self.objectives:
            if objective.id == objective_id:
                return objective
        raise KeyError(objective_id)

    def sections_for(self, concept_id: str) -> list[Section]:
        """The sections tagged with a concept, in course order (where hints and reviews point)."""
        return [s for s in self.sections() if concept_id in s.concepts]

    def concept(self, concept_id: str) -> Concept:
        for concept in self.concepts:
            if concept.id == concept_id:
                return concept
        raise KeyError(concept_id)

    def content_hash(self) -> str:
        """A hash of every course file's bytes: the cache key for indexes built from it."""
        digest = hashlib.sha256()
        for rel in sorted(self.files):
            digest.update(rel.encode())
            digest.update((self.root / rel).read_bytes())
        return digest.hexdigest()[:16]
