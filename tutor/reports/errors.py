"""Errors the instructor reports raise: one clear line each, never a traceback."""

from __future__ import annotations


class ReportError(Exception):
    """A report cannot be made (unknown learner, unreadable data...)."""


class AccessDenied(ReportError):
    """The caller may not see this report: no passphrase set, wrong passphrase, or another learner's data."""


class UnreadableHash(ReportError):
    """The stored instructor passphrase hash is not one tutor wrote (damaged or edited by hand)."""
