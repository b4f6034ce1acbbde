"""The quiz engine: grading, saving as it happens (also across a crash), summaries, explain context."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fsrs import Card, State
from test_quiz_kit import GAN_SCENARIO, fake_embed, make_bank, make_course

from tutor.learner.memory import MemoryStore
from tutor.quiz.engine import QuizEngine, QuizError, ScenarioAnswer
from tutor.quiz.model import MultipleChoice

REPO = Path(__file__).resolve().parents[1]


def make_engine(store) -> tuple[QuizEngine, int]:
    learner = store.get_or_create_learner("ann")
    return QuizEngine(store, make_course(), make_bank(), embedder=fake_embed), learner.id


def test_multiple_choice_right_and_wrong_with_feedback() -> None:
    store = MemoryStore()
    eng, lid = make_engine(store)
    session = eng.start(lid, concepts=["basics"], length=5)
    item = session.next_item()
    assert item.id == "b1" and session.next_item() is item  # the same item until answered
    result = session.submit("b")  # case and punctuation do not matter; B is wrong for b1 (key A)
    assert (result.correct, result.verdict, result.score) == (False, "incorrect", 0.0)
    assert result.feedback == "Wrong: because of b."
    assert result.explanation.startswith("A. the first basic fact")
    assert result.correct_answer == "A. the first basic fact"
    assert result.mastery_after["basics"] < result.mastery_before["basics"]
    item = session.next_item()
    result = session.submit(item.answer + ")")
    assert result.correct and result.verdict == "correct" and result.score == 1.0
    assert result.feedback.startswith("Right:")


def test_every_answer_is_saved_when_it_is_graded() -> None:
    store = MemoryStore()
    eng, lid = make_engine(store)
    session = eng.start(lid, concepts=["basics"], length=5)
    item = session.next_item()
    session.hint()
    result = session.submit(item.answer)
    [attempt] = store.attempts(lid)
    assert (attempt.item_id, attempt.correct, attempt.hints_used, attempt.concepts) == (item.id, True, 1, ("basics",))
    assert attempt.session_id == session.session_id
    assert store.mastery(lid)["basics"].p_known == pytest.approx(result.mastery_after["basics"])
    assert store.review(lid, item.id).due == result.next_review
    assert [(h.item_id, h.level) for h in store.hints(lid)] == [(item.id, 1)]


def test_bad_answers_are_refused_without_recording_anything() -> None:
    store = MemoryStore()
    eng, lid = make_engine(store)
    session = eng.start(lid, concepts=["basics"], length=5)
    with pytest.raises(QuizError, match="no question waiting"):
        session.submit("A")
    session.next_item()
    with pytest.raises(QuizError, match="not an option; choose one of A, B, C, D"):
        session.submit("E")
    with pytest.raises(QuizError, match="multiple-choice"):
        session.submit(ScenarioAnswer("gan", "x"))
    assert store.attempts(lid) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(concepts=["nope"]), "unknown concept"),
        (dict(objective="nope"), "unknown objective"),
        (dict(length=0), "at least 1"),
        (dict(kind="essay"), "unknown item kind"),
        (dict(concepts=["lonely"]), "no items for these concepts"),
        (dict(concepts=["basics"], kind="scenario"), "no scenario"),
    ],
)
def test_start_refuses_impossible_quizzes(kwargs, message) -> None:
    eng, lid = make_engine(MemoryStore())
    with pytest.raises(QuizError, match=message):
        eng.start(lid, **kwargs)


def test_objective_limits_the_concepts() -> None:
    eng, lid = make_engine(MemoryStore())
    assert eng.start(lid, objective="obj-a").targeted == ("basics",)
    assert eng.start(lid, objective="obj-b").targeted == ("nets", "gan", "rnn")


def test_quiz_stops_when_every_targeted_concept_is_mastered_and_summarises() -> None:
    store = MemoryStore()
    eng, lid = make_engine(store)
    session = eng.start(lid, concepts=["basics"], length=10)
    answered = 0
    while (item := session.next_item()) is not None:
        session.submit(item.answer)
        answered += 1
    assert answered == 3 and session.stopped == "mastered"
    summary = session.end()
    assert (summary.answered, summary.correct, summary.score) == (3, 3, 1.0)
    assert summary.mastery_before == {"basics": pytest.approx(0.2)}
    assert summary.mastery_after["basics"] >= 0.95
    assert summary.review_next == []
    assert session.end() == summary  # idempotent


def test_review_next_points_at_the_sections_of_missed_items() -> None:
    eng, lid = make_engine(MemoryStore())
    session = eng.start(lid, concepts=["nets"], length=1)
    item = session.next_item()
    session.submit(next(o.key for o in item.options if o.key != item.answer))
    [suggestion] = session.end().review_next
    assert suggestion.concept_id == "nets"
    assert suggestion.sections == ("s-nets",)
    assert suggestion.reason == "0 of 1 right in this quiz"


def test_explain_context_only_after_the_answer() -> None:
    eng, lid = make_engine(MemoryStore())
    session = eng.start(lid, concepts=["basics"], length=3)
    with pytest.raises(QuizError):
        session.explain_context()
    item = session.next_item()
    with pytest.raises(QuizError, match="only after it is answered"):
        session.explain_context(item.id)
    wrong = next(o for o in item.options if o.key != item.answer)
    session.submit(wrong.key)
    ctx = session.explain_context()
    assert ctx.item is item
    assert ctx.learner_answer == f"{wrong.key}. {wrong.text}"
    assert ctx.sections == item.sections
    assert ctx.question == item.stem
    pending = session.next_item()
    assert session.explain_context().item is item  # the pending item is never explained
    with pytest.raises(QuizError):
        session.explain_context(pending.id)


def test_scenario_answers_are_graded_and_saved() -> None:
    store = MemoryStore()
    eng, lid = make_engine(store)
    session = eng.start(lid, concepts=["gan"], kind="scenario", length=2)
    assert session.next_item() is GAN_SCENARIO
    with pytest.raises(QuizError, match="not a model type"):
        session.submit(ScenarioAnswer("banana", "because"))
    result = session.submit(ScenarioAnswer("GAN", GAN_SCENARIO.model_answer))
    assert result.verdict == "correct" and result.score == 1.0
    assert result.key_points_met == GAN_SCENARIO.key_points
    assert result.correct_answer == "Generative adversarial network (GAN)"
    [attempt] = store.attempts(lid)
    assert attempt.answer.startswith("gan: A GAN fits")
    assert attempt.rubric_met == GAN_SCENARIO.key_points


def test_fsrs_card_round_trips_through_the_real_store(tmp_path) -> None:
    from tutor.store import Store

    with Store.open(f"sqlite:///{tmp_path / 'p.db'}") as store:
        eng, lid = make_engine(store)
        session = eng.start(lid, concepts=["basics"], length=2)
        item = session.next_item()
        session.submit(item.answer)
        stored = store.review(lid, item.id)
        card = Card.from_dict(stored.card)
        assert card.due == stored.due
        assert card.state == State.Review  # a right answer graduates after the one learning step
        wrong_item = session.next_item()
        result = session.submit(next(o.key for o in wrong_item.options if o.key != wrong_item.answer))
        again = store.review(lid, wrong_item.id)
        assert Card.from_dict(again.card).state == State.Learning
        # wrong comes back in minutes, right in days
        assert (again.due - result.next_review).total_seconds() == 0
        assert (stored.due - datetime.now(timezone.utc)).days >= 1
        assert (again.due - datetime.now(timezone.utc)).total_seconds() < 3600


def test_a_crash_between_two_answers_loses_neither(tmp_path) -> None:
    db = tmp_path / "crash.db"
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO / 'tests')!r})
        from test_quiz_kit import make_bank, make_course, fake_embed
        from tutor.quiz.engine import QuizEngine
        from tutor.store import Store
        store = Store.open({f'sqlite:///{db}'!r})
        learner = store.get_or_create_learner("crashy")
        session = QuizEngine(store, make_course(), make_bank(), embedder=fake_embed).start(
            learner.id, concepts=["basics"], length=5)
        for _ in range(2):
            item = session.next_item()
            session.hint()
            session.submit(item.answer)
        print("answered", flush=True)
        os._exit(9)  # no end(), no close(): the process dies between answers
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 9, done.stderr
    assert "answered" in done.stdout
    from tutor.store import Store

    with Store.open(f"sqlite:///{db}") as store:
        learner = store.get_learner("crashy")
        attempts = store.attempts(learner.id)
        assert [a.item_id for a in attempts] == ["b1", "b2"]
        assert all(a.correct and a.hints_used == 1 for a in attempts)
        assert store.mastery(learner.id)["basics"].attempts == 2
        assert store.review(learner.id, "b2") is not None
        assert len(store.hints(learner.id)) == 2


def test_multiple_choice_items_never_load_the_embedder() -> None:
    store = MemoryStore()
    learner = store.get_or_create_learner("ann")

    def explode(texts):
        raise AssertionError("the embedder must not be used for quick checks")

    eng = QuizEngine(store, make_course(), make_bank(), embedder=explode)
    session = eng.start(learner.id, kind="multiple_choice", length=3)
    while (item := session.next_item()) is not None:
        assert isinstance(item, MultipleChoice)
        session.submit(item.answer)
