"""Hints: graduated, recorded, and never the key (checked on every item of the shipped bank too)."""

from __future__ import annotations

import re

import pytest
from test_quiz_kit import GAN_SCENARIO, fake_embed, make_bank, make_course, mc

from tutor.learner.memory import MemoryStore
from tutor.quiz.engine import QuizEngine, QuizError
from tutor.quiz.hints import leaks_key, make_hint
from tutor.quiz.model import MultipleChoice
from tutor.quiz.model_types import NAMES


def gives_away(text: str, item) -> str | None:
    """An independent, blunt check of a hint: what of the key it contains, if anything."""
    low = " ".join(re.findall(r"[a-z0-9'-]+", text.lower()))
    if isinstance(item, MultipleChoice):
        correct = next(o for o in item.options if o.key == item.answer)
        if " ".join(re.findall(r"[a-z0-9'-]+", correct.text.lower())) in low:
            return "correct option text"
        k = item.answer
        for pattern in (rf"\boption {k}\b", rf"\banswer (?:is )?{k}\b", rf"\({k}\)", rf"\b{k}[.)](?:\s|$)",
                        rf"\bchoice {k}\b"):
            if re.search(pattern, text):
                return f"letter {k}"
        return None
    for model_type in item.accepted:
        for name in (model_type, *NAMES[model_type]):
            if re.search(rf"\b{re.escape(name)}\b", low):
                return f"model type name {name!r}"
    return None


def test_three_graduated_levels_for_a_quick_check() -> None:
    course, item = make_course(), make_bank().item("n2")
    hints = [make_hint(item, level, course) for level in (1, 2, 3)]
    assert [h.level for h in hints] == [1, 2, 3]
    assert "Networks" in hints[0].text and "layers of connected nodes" in hints[0].text
    assert hints[1].text == 'Reread the section "Networks of Nodes" in the lesson "Lesson one": the answer rests on it.'
    assert hints[2].text.startswith("One step of the reasoning: option B")  # a wrong option ruled out
    assert all(gives_away(h.text, item) is None for h in hints)


def test_scenario_hints_never_name_an_accepted_type() -> None:
    course = make_course()
    hints = [make_hint(GAN_SCENARIO, level, course) for level in (1, 2, 3)]
    # the scenario's own section is titled "Generative Adversarial Networks": level 2 points elsewhere
    assert "Applications of Model Types" in hints[1].text
    assert "generator" in hints[2].text
    assert all(gives_away(h.text, GAN_SCENARIO) is None for h in hints)


def test_a_hint_that_would_quote_the_key_falls_back() -> None:
    course = make_course()
    # the correct option's text is the concept description the nudge would quote
    item = mc("x", ("nets",), answer="A", correct_text="layers of connected nodes that learn patterns")
    hint = make_hint(item, 1, course)
    assert "layers of connected nodes" not in hint.text.lower()
    assert leaks_key("The answer is A.", item) and leaks_key("Pick (A)", item) and leaks_key("A) yes", item)
    assert not leaks_key("A network has layers.", item)  # the article is not the letter


def test_hints_through_the_session_are_recorded_and_capped() -> None:
    store = MemoryStore()
    learner = store.get_or_create_learner("ann")
    session = QuizEngine(store, make_course(), make_bank(), embedder=fake_embed).start(learner.id, length=2)
    with pytest.raises(QuizError):
        session.hint()
    item = session.next_item()
    levels = [session.hint().level for _ in range(4)]
    assert levels == [1, 2, 3, 3]
    assert [(h.item_id, h.level) for h in store.hints(learner.id)] == [(item.id, 1), (item.id, 2), (item.id, 3)]
    result = session.submit(item.answer)
    assert result.hints_used == 3
    assert result.mastery_after[item.concepts[0]] < 0.55  # right after hints is weaker evidence
    with pytest.raises(QuizError):
        session.hint()  # nothing pending


def test_no_hint_of_the_shipped_bank_gives_the_key_away(course) -> None:
    from tutor.quiz.bank import load_bank

    bank = load_bank(course)
    leaks = []
    for item in bank.items:
        for level in (1, 2, 3):
            text = make_hint(item, level, course).text
            problem = gives_away(text, item)
            if problem or leaks_key(text, item):
                leaks.append((item.id, level, problem, text))
    assert not leaks, leaks[:5]
    assert len(bank.items) > 50
