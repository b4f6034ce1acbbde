"""Learner progress and the learner simulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from test_quiz_kit import fake_embed, make_bank, make_course

from tutor.learner.memory import MemoryStore
from tutor.learner.progress import learner_progress
from tutor.learner.simulate import (
    SimLearner,
    Trace,
    classified,
    items_to_classify,
    run_policy,
    sample_learners,
    simulated_answer,
    synthetic_bank,
)
from tutor.quiz.engine import QuizEngine
from tutor.quiz.selection import AdaptiveSelector, FixedOrderSelector

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_progress_per_concept_objective_reviews_and_next_step() -> None:
    store = MemoryStore()
    learner = store.get_or_create_learner("ann")
    course, bank = make_course(), make_bank()
    engine = QuizEngine(store, course, bank, embedder=fake_embed, clock=lambda: NOW)
    session = engine.start(learner.id, concepts=["basics"], length=5)
    for _ in range(3):
        item = session.next_item()
        session.submit(item.answer)
    session.end()
    p = learner_progress(store, course, bank, learner.id, now=NOW + timedelta(minutes=1))
    by = {c.concept_id: c for c in p.concepts}
    assert by["basics"].mastered and by["basics"].attempts == 3 and by["basics"].correct == 3
    assert not by["nets"].practised and by["nets"].p_known == pytest.approx(0.2)
    assert by["lonely"].items == 0
    obj_a = next(o for o in p.objectives if o.objective_id == "obj-a")
    assert obj_a.concepts == 1 and obj_a.mastered == 1  # "lonely" has no items: not counted
    assert [r.item_id for r in p.reviews] == ["b1", "b2", "b3"] and p.due_now == 0
    assert p.next_step == "Practise Networks: tutor quiz --concept nets"
    assert (p.answered, p.correct) == (3, 3)
    later = learner_progress(store, course, bank, learner.id, now=NOW + timedelta(days=60))
    assert later.due_now == 3 and later.next_step.startswith("3 item(s) due for review")
    assert later.to_dict()["reviews"][0]["overdue"] is True


def test_simulated_learners_respect_prerequisites_and_vary() -> None:
    course = make_course()
    learners = sample_learners(course, 300, seed=4)
    for learner in learners:
        for concept in course.concepts:
            if learner.knows[concept.id]:
                assert all(learner.knows[p] for p in concept.prerequisites)
    known = [sum(learner.knows.values()) for learner in learners]
    assert min(known) == 0 and max(known) == len(course.concepts)


def test_simulated_answers_follow_the_true_state() -> None:
    import random

    bank = make_bank()
    item = bank.item("b1")
    expert = SimLearner("e", {c: True for c in ("basics", "nets", "gan", "rnn", "lonely")}, slip=0.0, ability=1)
    novice = SimLearner("n", {c: False for c in ("basics", "nets", "gan", "rnn", "lonely")}, slip=0.0, ability=0)
    rng = random.Random(0)
    assert all(simulated_answer(expert, item, rng) == item.answer for _ in range(20))
    guesses = [simulated_answer(novice, item, rng) == item.answer for _ in range(400)]
    assert 0.15 < sum(guesses) / 400 < 0.35  # a random option among four


def test_items_to_classify() -> None:
    traces = [Trace("a", 5, 2), Trace("b", 5, 4), Trace("c", 5, None), Trace("d", 5, 0)]
    assert items_to_classify(traces, 0.5) == 2
    assert items_to_classify(traces, 0.75) == 4
    assert items_to_classify(traces, 0.95) is None


def test_adaptive_beats_fixed_order_on_a_synthetic_bank() -> None:
    course = make_course()
    bank = synthetic_bank(course, per_concept=6)
    learners = sample_learners(course, 40, seed=2)
    adaptive = run_policy(course, bank, learners, AdaptiveSelector)
    fixed = run_policy(course, bank, learners, FixedOrderSelector)
    assert sum(t.items for t in adaptive) < 0.7 * sum(t.items for t in fixed)
    assert items_to_classify(adaptive, 0.8) < items_to_classify(fixed, 0.8)
    first = adaptive[0]
    assert len(first.history) == first.items + 1  # the state before any item, then after each
    assert first.history[0] == classified({c.id: 0.2 for c in course.concepts}, learners[0],
                                          tuple(c.id for c in course.concepts))
