"""A learner's profile from the progress store, for `tutor ask --learner NAME`.

The store is optional here: a missing database, an older build without the
store, or an unknown learner all fall back to the default profile with a note,
never an error (asking a question must not depend on progress tracking).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tutor.llm.types import Profile

WEAK_BELOW = 0.5  # p_known under this = a weak concept
WEAK_MAX = 3


@dataclass(frozen=True)
class LearnerProfile:
    profile: Profile
    found: bool
    note: str = ""


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :])
    return None


def profile_from_store(name: str, db_url: str | None = None, default: Profile | None = None) -> LearnerProfile:
    """Level, style and weakest concepts of learner ``name``; the default profile when unavailable."""
    default = default or Profile()
    try:
        from tutor.config import db_url as resolve_db_url
        from tutor.store import Store

        url = resolve_db_url(db_url)
        path = _sqlite_path(url)
        if path is not None and not path.exists():
            return LearnerProfile(default, False, f"no progress database at {path}; using the default profile")
        store = Store.open(url)
    except Exception as exc:  # the store is optional for asking questions
        return LearnerProfile(default, False, f"progress store unavailable ({exc}); using the default profile")
    try:
        learner = store.get_learner(name)
        if learner is None:
            return LearnerProfile(default, False, f"no learner named {name!r}; using the default profile")
        weak: tuple[str, ...] = ()
        try:
            mastery = store.mastery(learner.id)
            ordered = sorted(mastery.items(), key=lambda kv: kv[1].p_known)
            weak = tuple(cid for cid, m in ordered if m.p_known < WEAK_BELOW)[:WEAK_MAX]
        except Exception:
            weak = ()
        return LearnerProfile(Profile(level=learner.level, style=learner.style, weak_concepts=weak), True)
    finally:
        try:
            store.close()
        except Exception:
            pass
