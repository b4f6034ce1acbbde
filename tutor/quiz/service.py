"""Loading what a quiz command needs (course, bank, store, BKT parameters), with one error type.

The CLI commands of the quiz and the learner model share these steps; each
failure becomes a `QuizError` with a one-line message that the command turns
into ``Error: ...``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutor.quiz.errors import QuizError

if TYPE_CHECKING:
    from tutor.content.model import Course
    from tutor.learner.params import ParamSet
    from tutor.quiz.model import QuestionBank
    from tutor.store import Store


def load_content(course: str | None = None, bank: str | None = None) -> tuple[Course, QuestionBank]:
    """The course (None: shipped or TUTOR_COURSE) and its question bank (None: the course's bank)."""
    from tutor.content import load_course
    from tutor.content.errors import ContentError
    from tutor.quiz.bank import load_bank

    try:
        loaded = load_course(course)
        return loaded, load_bank(loaded, bank)
    except ContentError as exc:
        raise QuizError(str(exc)) from exc


def open_store(db_url: str | None) -> Store:
    """The progress store at ``--db`` (or the default), migrated to the latest schema."""
    from tutor.store import Store, StoreError

    try:
        return Store.open(db_url)
    except StoreError as exc:
        raise QuizError(str(exc)) from exc


def load_learner_params(course_id: str) -> ParamSet:
    from tutor.learner.params import ParamsFileError, load_params

    try:
        return load_params(course_id)
    except ParamsFileError as exc:
        raise QuizError(str(exc)) from exc
