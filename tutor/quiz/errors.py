"""The one error the quiz engine raises for bad input or misuse: a clear one-line message."""

from __future__ import annotations


class QuizError(ValueError):
    """A quiz request that cannot be served (unknown concept, no items, answer to nothing, ...)."""
