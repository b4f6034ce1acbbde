"""Spaced review with FSRS: ratings from grades, wrong soon and right later, cards as plain JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from fsrs import Card, Rating

from tutor.learner.review import LEARNING_STEP, rating_for, schedule

NOW = datetime(2025, 5, 1, 9, 0, tzinfo=timezone.utc)


def test_ratings_follow_the_grade_and_the_hints() -> None:
    assert rating_for("incorrect") == Rating.Again
    assert rating_for("partial") == Rating.Hard
    assert rating_for("correct", hints_used=2) == Rating.Hard
    assert rating_for("correct") == Rating.Good


def test_a_wrong_answer_comes_back_soon_and_a_right_one_later() -> None:
    wrong = schedule(None, "incorrect", 0, NOW)
    hard = schedule(None, "correct", 1, NOW)
    right = schedule(None, "correct", 0, NOW)
    assert wrong.due == NOW + LEARNING_STEP
    assert wrong.due < hard.due < right.due
    assert right.due - NOW >= timedelta(days=1)
    assert (wrong.rating, hard.rating, right.rating) == ("again", "hard", "good")


def test_cards_are_json_and_reviews_build_on_the_stored_card() -> None:
    first = schedule(None, "correct", 0, NOW)
    stored = json.loads(json.dumps(first.card))  # what the store keeps
    second = schedule(stored, "correct", 0, first.due)
    assert Card.from_dict(second.card).stability > Card.from_dict(first.card).stability
    assert second.due - first.due > first.due - NOW  # intervals grow
    lapse = schedule(second.card, "incorrect", 0, second.due)
    assert lapse.due == second.due + LEARNING_STEP


def test_naive_times_are_taken_as_utc() -> None:
    assert schedule(None, "incorrect", 0, NOW.replace(tzinfo=None)).due == NOW + LEARNING_STEP
