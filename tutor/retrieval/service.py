"""Opening a retriever for a command: course + embedder + index, with one error type for the CLI."""

from __future__ import annotations

from pathlib import Path

from tutor.retrieval.errors import RetrievalError


def open_course(course_path: str | Path | None):
    """The course from ``--course`` (or the shipped one); content errors become RetrievalError."""
    from tutor.content import ContentError, load_course

    try:
        return load_course(course_path)
    except ContentError as exc:
        raise RetrievalError(str(exc)) from exc


def open_retriever(course_path: str | Path | None = None, adapter: str | None = None):
    """Load the embedder and build (or reuse) the index of a course."""
    from tutor.retrieval.embedder import load_embedder
    from tutor.retrieval.retriever import Retriever

    course = open_course(course_path)
    embedder = load_embedder(adapter)
    return Retriever.build(course, embedder=embedder)
