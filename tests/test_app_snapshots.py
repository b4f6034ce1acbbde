"""SVG snapshots of every page at 80x24 and 120x40 (pytest-textual-snapshot).

Regenerate with `pytest tests/test_app_snapshots.py --snapshot-update` and look
at the new SVGs before accepting them. The services are scripted (fixed
answers, fixed relative times), the cursor does not blink and notifications are
cleared, so the pictures only change when the app's look does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from test_app_fakes import FakeServices, wait_until
from textual.pilot import Pilot

from tutor.app.app import TutorApp
from tutor.app.widgets.chat import AnswerBlock

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def _steady(pilot: Pilot) -> None:
    """Freeze what moves: cursor blink, toasts, scroll animation."""
    app = pilot.app
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause(0.1)
    app.clear_notifications()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.05)


async def _enter(pilot: Pilot, name: str = "Bob") -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.readiness.ready, what="ready")
    await pilot.click("#name")
    await pilot.press(*name, "enter")
    await wait_until(pilot, lambda: app.current_mode == "chat" and app.screen.restored.is_set(), what="chat")


async def _answered_quiz_item(pilot: Pilot) -> None:
    app = pilot.app
    await _enter(pilot)
    await pilot.press("f4")
    await wait_until(pilot, lambda: app.current_mode == "quiz", what="quiz")
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen.item is not None, what="item")
    await pilot.press("h")
    await wait_until(pilot, lambda: app.screen.hints_shown == 1, what="hint")
    await pilot.press("a")
    await wait_until(pilot, lambda: app.screen.grade is not None, what="grade")


def _run(steps: Callable[[Pilot], Awaitable[None]]) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await steps(pilot)
        await _steady(pilot)

    return run_before


def _app() -> TutorApp:
    return TutorApp(FakeServices(learners=["Ada"], token_delay=0.0))


@pytest.mark.parametrize("size", SIZES)
def test_welcome(snap_compare, size) -> None:
    async def steps(pilot: Pilot) -> None:
        app = pilot.app
        await wait_until(pilot, lambda: app.readiness.ready and app.screen.query_one("#learners").option_count, what="ready")

    assert snap_compare(_app(), terminal_size=size, run_before=_run(steps))


@pytest.mark.parametrize("size", SIZES)
def test_chat(snap_compare, size) -> None:
    async def steps(pilot: Pilot) -> None:
        app = pilot.app
        await _enter(pilot)
        for question in ("What is a GAN?", "Will it rain tomorrow? The weather app is down."):
            count = len(app.screen.query(AnswerBlock))
            await pilot.press(*question, "enter")
            await wait_until(pilot, lambda: len(app.screen.query(AnswerBlock)) == count + 1
                             and app.screen.query(AnswerBlock).last().finished and not app.screen.busy, what="answer")

    assert snap_compare(_app(), terminal_size=size, run_before=_run(steps))


def test_chat_light_theme(snap_compare) -> None:
    async def steps(pilot: Pilot) -> None:
        app = pilot.app
        await _enter(pilot)
        await pilot.press(*"What is a GAN?", "enter")
        await wait_until(pilot, lambda: app.screen.query(AnswerBlock) and app.screen.query(AnswerBlock).last().finished,
                         what="answer")
        await pilot.press("ctrl+t")

    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_run(steps))


@pytest.mark.parametrize("size", SIZES)
def test_lessons(snap_compare, size) -> None:
    async def steps(pilot: Pilot) -> None:
        app = pilot.app
        await _enter(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.current_mode == "lessons" and app.screen.current is not None, what="lessons")
        app.screen.show_section("gan")

    assert snap_compare(_app(), terminal_size=size, run_before=_run(steps))


@pytest.mark.parametrize("size", SIZES)
def test_quiz_feedback(snap_compare, size) -> None:
    assert snap_compare(_app(), terminal_size=size, run_before=_run(_answered_quiz_item))


@pytest.mark.parametrize("size", SIZES)
def test_quiz_summary(snap_compare, size) -> None:
    async def steps(pilot: Pilot) -> None:
        app = pilot.app
        await _answered_quiz_item(pilot)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen.item is not None and app.screen.grade is None, what="item 2")
        await pilot.press("c")
        await wait_until(pilot, lambda: app.screen.grade is not None, what="grade 2")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen.summary is not None, what="summary")

    assert snap_compare(_app(), terminal_size=size, run_before=_run(steps))


@pytest.mark.parametrize("size", SIZES)
def test_exercise_feedback(snap_compare, size) -> None:
    async def steps(pilot: Pilot) -> None:
        app = pilot.app
        await _enter(pilot)
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.current_mode == "exercise", what="exercise")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.item is not None, what="scenario")
        await pilot.press("down", "down", "down", "enter")
        await pilot.press(*"The generator creates new faces.")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen.grade is not None, what="grade")

    assert snap_compare(_app(), terminal_size=size, run_before=_run(steps))


@pytest.mark.parametrize("size", SIZES)
def test_progress(snap_compare, size) -> None:
    async def steps(pilot: Pilot) -> None:
        app = pilot.app
        await _answered_quiz_item(pilot)
        await pilot.press("f6")
        await wait_until(pilot, lambda: app.current_mode == "progress" and app.screen.view is not None, what="progress")

    assert snap_compare(_app(), terminal_size=size, run_before=_run(steps))


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, size) -> None:
    async def steps(pilot: Pilot) -> None:
        app = pilot.app
        await _enter(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="help")

    assert snap_compare(_app(), terminal_size=size, run_before=_run(steps))
