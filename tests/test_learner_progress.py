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
    simulator_params,
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
    learners = sample_learners(course, 60, seed=2)
    adaptive = run_policy(course, bank, learners, AdaptiveSelector, max_items=3 * len(bank.items))
    fixed = run_policy(course, bank, learners, FixedOrderSelector, max_items=3 * len(bank.items))
    assert sum(t.items for t in adaptive) < 0.7 * sum(t.items for t in fixed)
    assert items_to_classify(adaptive, 0.95) < items_to_classify(fixed, 0.95)
    first = adaptive[0]
    assert len(first.history) == first.items + 1  # the state before any item, then after each


def test_undecided_is_not_classified() -> None:
    course = make_course()
    concepts = ("basics", "nets")
    novice = SimLearner("n", {"basics": False, "nets": False}, slip=0.1, ability=0)
    expert = SimLearner("e", {"basics": True, "nets": True}, slip=0.1, ability=1)
    prereqs = {"basics": (), "nets": ("basics",)}
    # at the prior nothing is decided: the novice is not "classified" just because nothing is mastered
    assert not classified({"basics": 0.2, "nets": 0.2}, novice, concepts, prereqs)
    assert classified({"basics": 0.02, "nets": 0.2}, novice, concepts, prereqs)  # nets: below a failed prerequisite
    assert not classified({"basics": 0.02, "nets": 0.2}, novice, concepts)  # without the graph, nets is undecided
    assert not classified({"basics": 0.97, "nets": 0.5}, expert, concepts, prereqs)
    assert classified({"basics": 0.97, "nets": 0.96}, expert, concepts, prereqs)
    assert course.concept("nets").prerequisites == ("basics",)


def test_simulator_params_describe_the_population() -> None:
    course = make_course()
    learners = sample_learners(course, 400, seed=3)
    params = simulator_params(learners, [c.id for c in course.concepts])
    basics, gan = params.for_concept("basics"), params.for_concept("gan")
    assert 0.09 < basics.p_slip < 0.11 and basics.p_guess == 0.25 and basics.p_learn < 0.001
    share = sum(learner.knows["basics"] for learner in learners) / len(learners)
    assert basics.p_init == pytest.approx(share)
    assert gan.p_init < basics.p_init  # deeper in the graph, known by fewer


def test_a_learner_goes_on_across_quizzes_and_items_come_back_only_in_a_later_quiz() -> None:
    course = make_course()
    bank = make_bank()
    mc_items = [i for i in bank.items if i.kind == "multiple_choice"]
    # knows basics only, never slips: nets is failed but a lucky guess can keep it undecided for a while
    learner = SimLearner("x", {"basics": True, "nets": False, "gan": False, "rnn": False, "lonely": False},
                         slip=0.01, ability=0.3)
    stores: list = []
    traces = run_policy(course, bank, [learner] * 30, AdaptiveSelector, kind="multiple_choice", quiz_length=4,
                        max_items=3 * len(mc_items), stores=stores, stop_when_classified=False)
    assert any(t.quizzes > 1 for t in traces)
    repeated = 0
    for store in stores:
        attempts = store.attempts(1)
        by_session: dict = {}
        for a in attempts:
            by_session.setdefault(a.session_id, []).append(a.item_id)
        assert all(len(ids) == len(set(ids)) for ids in by_session.values())  # never twice within a quiz
        repeated += len(attempts) - len({a.item_id for a in attempts})
    assert repeated > 0  # but items do come back in later quizzes
