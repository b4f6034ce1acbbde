"""Mastery per concept and objective, recent attempts, due reviews and what to do next."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, DataTable, Footer, Label, Static

from tutor.app.messages import OpenSection, StartExercise, StartQuiz
from tutor.app.models import ProgressView
from tutor.app.screens.base import PageScreen
from tutor.app.widgets.mastery import MasteryBar
from tutor.app.widgets.nav import NavBar
from tutor.app.styles import STYLE_DIR


class ProgressScreen(PageScreen):
    MODE = "progress"
    CSS_PATH = str(STYLE_DIR / "progress.tcss")
    AUTO_FOCUS = "#next-action"
    BINDINGS = [
        Binding("r", "refresh", "Refresh"),
        Binding("g", "go", "Do the next step"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: ProgressView | None = None

    def compose(self) -> ComposeResult:
        yield NavBar("progress")
        with VerticalScroll(id="progress-scroll"):
            with Horizontal(id="next-step"):
                yield Static("Loading your progress…", id="next-text")
                yield Button("Go", id="next-action", variant="primary", compact=True)
            with Vertical(id="mastery-columns"):
                with Vertical(id="concepts", classes="panel") as concepts:
                    concepts.border_title = "Concepts"
                with Vertical(id="objectives", classes="panel") as objectives:
                    objectives.border_title = "Objectives"
            with Vertical(id="due", classes="panel") as due:
                due.border_title = "Due for review"
            with Vertical(id="recent-panel", classes="panel") as recent:
                recent.border_title = "Recent answers"
                yield DataTable(id="recent", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#recent", DataTable)
        table.add_columns("When", "Question", "Result")

    def on_screen_resume(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="progress", exit_on_error=False)
    def load(self) -> None:
        learner = self.learner
        if learner is None:
            return
        if not self.app.wait_opened():  # type: ignore[attr-defined]
            return
        try:
            view = self.services.progress(learner.id)
        except Exception as exc:  # noqa: BLE001
            message = getattr(exc, "message", None) or " ".join(str(exc).split())[:300]
            self.tell(f"Could not load your progress: {message}", severity="error")
            return
        self.ui(self._show, view)

    async def _show(self, view: ProgressView) -> None:
        self.view = view
        step = view.next_step
        self.query_one("#next-text", Static).update(
            Content.assemble(("Next: ", "bold $accent"), step.text if step else "Ask a question or take a quiz to get started.")
        )
        button = self.query_one("#next-action", Button)
        button.display = step is not None and step.action != "none"
        button.label = {"quiz": "Start quiz", "exercise": "Start exercise", "lesson": "Read it", "review": "Review now"}.get(
            step.action if step else "none", "Go"
        )

        concepts = self.query_one("#concepts", Vertical)
        await concepts.remove_children()
        if view.concepts:
            details = [f"{r.correct}/{r.attempts} right" if r.attempts else "" for r in view.concepts]
            width = max(len(d) for d in details)
            await concepts.mount_all(
                [
                    MasteryBar(r.name, r.p_known, detail, label_width=32, detail_width=width)
                    for r, detail in zip(view.concepts, details, strict=True)
                ]
            )
        else:
            await concepts.mount(Label("No answers yet.", classes="empty"))
        objectives = self.query_one("#objectives", Vertical)
        await objectives.remove_children()
        if view.objectives:
            await objectives.mount_all([MasteryBar(r.name, r.p_known, label_width=40) for r in view.objectives])
        else:
            await objectives.mount(Label("No answers yet.", classes="empty"))

        due = self.query_one("#due", Vertical)
        await due.remove_children()
        if view.due:
            now = datetime.now(UTC)
            await due.mount_all(
                [Static(Content.assemble((_due(r.due, now).ljust(10), "dim"), r.label or r.item_id)) for r in view.due[:8]]
            )
        else:
            await due.mount(Label("Nothing due. Well done.", classes="empty"))

        table = self.query_one("#recent", DataTable)
        table.clear()
        now = datetime.now(UTC)
        for attempt in view.recent[:20]:
            result = Text("✓ correct", "green") if attempt.correct else (
                Text(f"◐ {attempt.score:.0%}", "yellow") if attempt.score > 0 else Text("✗ wrong", "red")
            )
            table.add_row(_when(attempt.created, now), _short(attempt.label or attempt.item_id, 48), result)
        self.query_one("#recent-panel").display = bool(view.recent)

    @on(Button.Pressed, "#next-action")
    def action_go(self) -> None:
        step = self.view.next_step if self.view else None
        if step is None:
            return
        if step.action == "quiz" or step.action == "review":
            self.post_message(StartQuiz(step.concepts))
        elif step.action == "exercise":
            self.post_message(StartExercise(step.concepts))
        elif step.action == "lesson" and step.section_id:
            self.post_message(OpenSection(step.section_id))


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 90:
        text = "now"
    elif seconds < 3600:
        text = f"{seconds // 60:.0f} min"
    elif seconds < 86400:
        text = f"{seconds // 3600:.0f} h"
    else:
        text = f"{seconds // 86400:.0f} d"
    if text == "now":
        return text
    return f"in {text}" if future else f"{text} ago"


def _due(moment: datetime | None, now: datetime) -> str:
    """`due now` for a review whose time has come, `in 3 d` for a later one."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return "due now" if moment <= now else _when(moment, now)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
