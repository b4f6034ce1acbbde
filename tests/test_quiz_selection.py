"""Item selection: prerequisites first, due reviews first, no repeats, difficulty, stopping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from test_quiz_kit import fake_embed, make_bank, make_course

from tutor.learner.memory import MemoryStore
from tutor.quiz.engine import QuizEngine, ScenarioAnswer
from tutor.quiz.model import MultipleChoice
from tutor.quiz.selection import (
    REVIEW_SHARE,
    AdaptiveSelector,
    SelectionState,
    effective_prerequisites,
    target_difficulty,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def engine(store=None, clock=None, **kw) -> tuple[QuizEngine, MemoryStore, int]:
    store = store or MemoryStore()
    learner = store.get_or_create_learner("ann")
    return QuizEngine(store, make_course(), make_bank(), embedder=fake_embed, clock=clock or Clock(), **kw), store, learner.id


def right(item) -> object:
    if isinstance(item, MultipleChoice):
        return item.answer
    return ScenarioAnswer(item.accepted[0], item.model_answer)


def wrong(item) -> object:
    if isinstance(item, MultipleChoice):
        return next(o.key for o in item.options if o.key != item.answer)
    return ScenarioAnswer("cnn", "no idea at all")


def test_prerequisites_come_first() -> None:
    eng, store, lid = engine()
    session = eng.start(lid, length=30, kind="multiple_choice")
    order = []
    while (item := session.next_item()) is not None:
        order.append(item.concepts)
        session.submit(right(item))
    first_nets = next(i for i, c in enumerate(order) if "nets" in c)
    first_gan = next(i for i, c in enumerate(order) if c == ("gan",) or "gan" in c)
    assert all("basics" in c for c in order[:first_nets]), order
    # basics is mastered (three right answers) before any nets item, nets before any gan item
    assert session.mastery["basics"] >= 0.95
    assert first_nets < first_gan
    assert session.stopped == "exhausted"  # rnn has one item: it cannot show mastery, so the bank runs out


def test_a_prerequisite_outside_the_quiz_does_not_block() -> None:
    eng, store, lid = engine()
    session = eng.start(lid, concepts=["gan"], length=3)
    item = session.next_item()
    assert "gan" in item.concepts  # nets and basics are unmastered but were not asked for


def test_due_reviews_come_first_and_no_item_repeats_within_a_quiz() -> None:
    clock = Clock()
    eng, store, lid = engine(clock=clock)
    first = eng.start(lid, length=2, kind="multiple_choice")
    missed = first.next_item()
    first.submit(wrong(missed))
    first.end()
    clock.now = NOW + timedelta(hours=1)  # the missed item is due again (10 minutes)
    assert [r.item_id for r in store.due_reviews(lid, clock.now)] == [missed.id]
    second = eng.start(lid, length=10, kind="multiple_choice")
    assert second.next_item().id == missed.id
    second.submit(right(missed))
    asked = [missed.id]
    while (item := second.next_item()) is not None:
        asked.append(item.id)
        second.submit(wrong(item))
    assert len(asked) == len(set(asked))


def test_difficulty_follows_mastery() -> None:
    assert target_difficulty(0.0) == 1.0 and target_difficulty(1.0) == 5.0
    bank = make_bank()
    state = SelectionState(pool=bank.items, targeted=("basics", "nets", "gan", "rnn"),
                           prerequisites=effective_prerequisites(
                               {c.id: c.prerequisites for c in make_course().concepts},
                               {"basics", "nets", "gan", "rnn"}),
                           mastery={"basics": 0.2}, asked=frozenset())
    assert AdaptiveSelector().choose(state).id == "b1"  # difficulty 1 for a novice
    state = SelectionState(pool=bank.items, targeted=state.targeted, prerequisites=state.prerequisites,
                           mastery={"basics": 0.9}, asked=frozenset())
    assert AdaptiveSelector().choose(state).id == "b3"  # difficulty 5 near mastery


def test_failing_a_concept_twice_sets_it_aside_and_blocks_its_dependants() -> None:
    eng, store, lid = engine()
    session = eng.start(lid, length=10, kind="multiple_choice")
    for _ in range(2):
        item = session.next_item()
        assert item.concepts == ("basics",)
        session.submit(wrong(item))
    # basics is set aside; nets depends on it, so only the unrelated rest (none here) could come,
    # and basics itself comes back because nothing else is eligible
    item = session.next_item()
    assert item.concepts == ("basics",)


def test_shared_items_wait_until_the_other_concept_is_known() -> None:
    eng, store, lid = engine()
    session = eng.start(lid, concepts=["nets", "gan"], length=20, kind="multiple_choice")
    seen = []
    while (item := session.next_item()) is not None:
        seen.append(item.id)
        session.submit(right(item))
    assert seen.index("g2") > seen.index("g1")  # g2 needs nets too: asked once nets is known
    assert seen.index("g2") > max(seen.index(i) for i in ("n1", "n2", "n3") if i in seen[: seen.index("g2")])


def test_effective_prerequisites_look_through_concepts_without_items() -> None:
    prereqs = {"a": (), "b": ("a",), "c": ("b",)}
    assert effective_prerequisites(prereqs, {"a", "c"}) == {"a": (), "c": ("a",)}
    assert effective_prerequisites(prereqs, {"c"}) == {"c": ()}


@pytest.mark.parametrize("length", [1, 3])
def test_length_cap(length: int) -> None:
    eng, store, lid = engine()
    session = eng.start(lid, length=length)
    n = 0
    while (item := session.next_item()) is not None:
        session.submit(wrong(item))
        n += 1
    assert n == length
    assert session.stopped == "length"
    assert session.progress == (length, length)


def test_information_gain_is_largest_where_the_model_is_unsure() -> None:
    from tutor.quiz.selection import information_gain

    gains = {p: information_gain(p) for p in (0.0, 0.01, 0.2, 0.5, 0.8, 0.99, 1.0)}
    assert gains[0.0] == 0.0 and gains[1.0] == 0.0
    assert gains[0.01] < 0.05 and gains[0.99] < 0.05
    assert gains[0.5] > gains[0.2] > gains[0.01]
    assert gains[0.5] > gains[0.8] > gains[0.99]


def _state(mastery: dict[str, float], **kw) -> SelectionState:
    targeted = ("basics", "nets", "gan", "rnn")
    prereqs = effective_prerequisites({c.id: c.prerequisites for c in make_course().concepts}, set(targeted))
    return SelectionState(pool=make_bank().items, targeted=targeted, prerequisites=prereqs, mastery=mastery,
                          asked=frozenset(), **kw)


def test_the_undecided_concept_comes_before_a_confidently_failed_weaker_one() -> None:
    # nets and gan/rnn: basics mastered; gan and rnn wait for nets. Make nets confidently failed (0.02):
    # weakest-first would drill it; the undecided one is asked first when both are eligible.
    state = _state({"basics": 0.97, "nets": 0.97, "gan": 0.02, "rnn": 0.4})
    assert AdaptiveSelector().choose(state).concepts == ("rnn",)
    state = _state({"basics": 0.97, "nets": 0.97, "gan": 0.4, "rnn": 0.02})
    assert "gan" in AdaptiveSelector().choose(state).concepts
    # a confidently failed concept is still practised once nothing undecided is left
    state = _state({"basics": 0.97, "nets": 0.97, "gan": 0.02, "rnn": 0.97})
    assert "gan" in AdaptiveSelector().choose(state).concepts


def test_due_reviews_still_come_first_the_most_informative_first() -> None:
    mastery = {"basics": 0.97, "nets": 0.97, "gan": 0.02, "rnn": 0.5}
    state = _state(mastery, due=("g1", "r1"))
    assert AdaptiveSelector().choose(state).id == "r1"  # due, and its concept is the undecided one
    state = _state(mastery, due=("g1",))
    assert AdaptiveSelector().choose(state).id == "g1"  # due comes before any fresh item


def test_fixed_order_goes_on_across_quizzes_and_starts_over() -> None:
    from tutor.quiz.selection import FixedOrderSelector

    bank = [i for i in make_bank().items if i.kind == "multiple_choice"]
    selector = FixedOrderSelector()
    asked: list[str] = []
    for _ in range(3):  # three quizzes of 4 with the same selector (one learner)
        quiz: set[str] = set()
        for _ in range(4):
            state = SelectionState(pool=bank, targeted=("basics",), prerequisites={}, mastery={},
                                   asked=frozenset(quiz))
            item = selector.choose(state)
            quiz.add(item.id)
            asked.append(item.id)
    ids = [i.id for i in bank]
    assert asked == (ids + ids)[:12]


def test_due_reviews_fill_at_most_half_a_quiz_and_wait_for_the_next_one() -> None:
    mastery = {"basics": 0.97, "nets": 0.97, "gan": 0.02, "rnn": 0.5}
    # a quiz of 4: two review slots; with both spent, the open concept's fresh item comes before the due one
    assert _state(mastery, due=("g1",), length=4, reviews_asked=1).review_slots(REVIEW_SHARE) == 1
    assert AdaptiveSelector().choose(_state(mastery, due=("g1",), length=4, reviews_asked=1)).id == "g1"
    spent = _state(mastery, due=("g1",), length=4, reviews_asked=2)
    assert AdaptiveSelector().choose(spent).concepts == ("rnn",)
    assert AdaptiveSelector(review_share=None).choose(spent).id == "g1"  # uncapped: due still first
    # nothing else left to ask: the waiting review is asked rather than ending the quiz early
    done = _state({"basics": 0.97, "nets": 0.97, "gan": 0.97, "rnn": 0.97}, due=("g1",), length=4, reviews_asked=2)
    assert AdaptiveSelector().choose(done).id == "g1"
    # a quiz of one item still has one review slot
    assert _state(mastery, due=("g1",), length=1).review_slots(REVIEW_SHARE) == 1


@pytest.mark.parametrize("share", [REVIEW_SHARE, None])
def test_a_quiz_with_many_due_reviews_is_half_reviews_then_fresh_items(share) -> None:
    clock = Clock()
    eng, store, lid = engine(clock=clock, selector=lambda: AdaptiveSelector(review_share=share))
    due = ["n1", "n2", "n3", "g1"]
    for k, item_id in enumerate(due):  # four misses from an earlier quiz, all due now
        store.set_review(lid, item_id, {}, NOW - timedelta(minutes=10 - k))
    session = eng.start(lid, length=4, kind="multiple_choice")
    asked = []
    while (item := session.next_item()) is not None:
        asked.append(item.id)
        session.submit(right(item))
    fresh_at = next((k for k, i in enumerate(asked) if i not in due), len(asked))
    # capped: two reviews (half of four), then a fresh item; uncapped: the whole quiz is reviews
    assert fresh_at == (2 if share else 4)

