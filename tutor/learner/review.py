"""Spaced review per item with FSRS (the `fsrs` package, version 6).

Each answered item gets an FSRS card; its JSON form goes to the store with its
due date (``store.set_review``), so the next quiz asks due items first. The
rating comes from the grade: wrong -> Again (back in ten minutes), partly right
or right only after hints -> Hard, right -> Good (days later). Fuzzing is off so
schedules are reproducible (and testable); one short learning step means a
wrong answer comes back at the next sitting rather than a minute later, in the
middle of the same quiz.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsrs import Rating, Scheduler

LEARNING_STEP = timedelta(minutes=10)


@dataclass(frozen=True)
class Scheduled:
    card: dict[str, Any]
    due: datetime
    rating: str  # "again" | "hard" | "good"


def rating_for(verdict: str, hints_used: int = 0) -> Rating:
    """The FSRS rating a graded answer earns."""
    from fsrs import Rating

    if verdict == "incorrect":
        return Rating.Again
    if verdict == "partial" or hints_used > 0:
        return Rating.Hard
    return Rating.Good


@lru_cache(maxsize=1)
def _scheduler() -> Scheduler:
    from fsrs import Scheduler

    return Scheduler(learning_steps=(LEARNING_STEP,), relearning_steps=(LEARNING_STEP,), enable_fuzzing=False)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def schedule(card: dict[str, Any] | None, verdict: str, hints_used: int, now: datetime) -> Scheduled:
    """Review the item's card (a new card when ``card`` is None) and say when it is due next."""
    from fsrs import Card

    now = _aware(now)
    # card_id is the creation time in ms, as fsrs does itself (without its 1 ms sleep)
    current = Card.from_dict(card) if card else Card(card_id=int(now.timestamp() * 1000), due=now)
    rating = rating_for(verdict, hints_used)
    updated, _log = _scheduler().review_card(current, rating, now)
    return Scheduled(card=updated.to_dict(), due=_aware(updated.due), rating=rating.name.lower())
