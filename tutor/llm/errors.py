"""The one error the answer pipeline raises for bad input or a broken model folder."""

from __future__ import annotations


class LLMError(Exception):
    """A clear one-line reason the tutor cannot answer (missing model, bad adapter, bad flag)."""
