"""The one error retrieval raises for bad input or a broken index."""

from __future__ import annotations


class RetrievalError(Exception):
    """A clear one-line reason retrieval cannot go on (missing model, bad adapter, bad dev set)."""
