"""The schema of ``course.yaml`` (strict: unknown keys are errors, so typos surface)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from tutor.content.markdown import ID_PATTERN

Id = Annotated[str, StringConstraints(pattern=rf"^{ID_PATTERN}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _as_text(value: object) -> object:
    """Let ``version: 1`` or ``version: 1.2`` mean the string."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ObjectiveSpec(_Strict):
    id: Id
    text: Text


class ConceptSpec(_Strict):
    id: Id
    name: Text
    objective: Id
    prerequisites: tuple[Id, ...] = ()
    description: str = ""


class LessonSpec(_Strict):
    id: Id
    title: Text | None = None  # None: taken from the lesson's `# ` heading
    file: Text


class CourseSpec(_Strict):
    id: Id
    title: Text
    version: Annotated[Text, BeforeValidator(_as_text)] = "1"
    description: str = ""
    objectives: tuple[ObjectiveSpec, ...] = Field(min_length=1)
    concepts: tuple[ConceptSpec, ...] = Field(min_length=1)
    lessons: tuple[LessonSpec, ...] = Field(min_length=1)
