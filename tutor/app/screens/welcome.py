"""Pick or create a learner and set level and style, while the tutor gets ready."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from tutor.app.messages import LearnerChosen
from tutor.app.services import LEVELS, STYLES
from tutor.app.widgets.nav import ReadyBadge
from tutor.app.styles import STYLE_DIR

if TYPE_CHECKING:
    from tutor.store.records import LearnerRecord

MAX_NAME_CHARS = 60
STYLE_HELP = {
    "analogy": "comparisons with everyday things",
    "example": "a concrete example first",
    "step-by-step": "one step at a time",
    "concise": "short and to the point",
}


class WelcomeScreen(Screen[None]):
    CSS_PATH = str(STYLE_DIR / "welcome.tcss")
    AUTO_FOCUS = "#name"
    BINDINGS = [
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._learners: list[LearnerRecord] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="welcome-scroll"):
            with Center():
                with Vertical(id="welcome-box") as box:
                    box.border_title = "tutor"
                    yield Static("Welcome! Who is studying today?", id="greeting")
                    yield Static("", id="course-title")
                    yield Label("Your name", classes="field-label")
                    yield Input(placeholder="Type your name and press Enter", id="name", max_length=MAX_NAME_CHARS)
                    yield Label("Or continue as", classes="field-label", id="learners-label")
                    yield OptionList(id="learners")
                    with Horizontal(id="profile"):
                        with Vertical():
                            yield Label("Level", classes="field-label")
                            yield Select([(lv.capitalize(), lv) for lv in LEVELS], value="beginner", allow_blank=False, id="level", compact=True)
                        with Vertical():
                            yield Label("Explanations", classes="field-label")
                            yield Select(
                                [(f"{st} ({STYLE_HELP[st]})" if st in STYLE_HELP else st, st) for st in STYLES],
                                value="example", allow_blank=False, id="style", compact=True,
                            )
                    with Horizontal(id="welcome-buttons"):
                        yield Button("Start", id="start", variant="primary", compact=True)
                        yield Button("Instructor view (F9)", id="instructor", compact=True)
                    yield ReadyBadge(id="welcome-ready")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#learners-label").display = False
        self.query_one("#learners").display = False
        self.watch(self.app, "opened", self._on_opened, init=True)

    def on_screen_resume(self) -> None:
        learner = getattr(self.app, "learner", None)
        if learner is not None:
            self.query_one("#name", Input).value = learner.name
            self._show_profile(learner)
        if getattr(self.app, "opened", False):
            self.load_learners()

    def _on_opened(self, opened: bool) -> None:
        if opened:
            course = self.app.services.course  # type: ignore[attr-defined]
            if course is not None:
                self.query_one("#course-title", Static).update(course.title)
            self.load_learners()

    @work(thread=True, exclusive=True, group="welcome", exit_on_error=False)
    def load_learners(self) -> None:
        try:
            learners = self.app.services.learners()  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001
            self.app.from_thread(self.notify, f"Could not list learners: {exc}", severity="error")  # type: ignore[attr-defined]
            return
        self.app.from_thread(self._show_learners, learners)  # type: ignore[attr-defined]

    def _show_learners(self, learners: list[LearnerRecord]) -> None:
        self._learners = list(learners)
        options = self.query_one("#learners", OptionList)
        options.clear_options()
        options.add_options(
            [Option(f"{r.name}  ·  {r.level}, {r.style}", id=str(r.id)) for r in self._learners]
        )
        options.highlighted = None
        shown = bool(self._learners)
        options.display = shown
        self.query_one("#learners-label").display = shown
        self.query_one("#name", Input).suggester = SuggestFromList([r.name for r in self._learners], case_sensitive=False)

    def _show_profile(self, learner: LearnerRecord) -> None:
        if learner.level in LEVELS:
            self.query_one("#level", Select).value = learner.level
        if learner.style in STYLES:
            self.query_one("#style", Select).value = learner.style

    def _record(self, name: str) -> LearnerRecord | None:
        wanted = name.strip().casefold()
        return next((r for r in self._learners if r.name.casefold() == wanted), None)

    @on(Input.Changed, "#name")
    def _name_changed(self, event: Input.Changed) -> None:
        record = self._record(event.value)
        if record is not None:
            self._show_profile(record)

    @on(OptionList.OptionHighlighted, "#learners")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        record = next((r for r in self._learners if str(r.id) == event.option.id), None)
        if record is not None:
            self.query_one("#name", Input).value = record.name
            self._show_profile(record)

    @on(OptionList.OptionSelected, "#learners")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        record = next((r for r in self._learners if str(r.id) == event.option.id), None)
        if record is not None:
            self.query_one("#name", Input).value = record.name
            self.start()

    @on(Input.Submitted, "#name")
    @on(Button.Pressed, "#start")
    def start(self) -> None:
        name = " ".join(self.query_one("#name", Input).value.split())
        if not name:
            self.notify("Type your name, or pick it from the list.", severity="warning")
            self.query_one("#name", Input).focus()
            return
        level = self.query_one("#level", Select).value
        style = self.query_one("#style", Select).value
        self.post_message(LearnerChosen(name, level=str(level), style=str(style)))

    @on(Button.Pressed, "#instructor")
    def _instructor(self) -> None:
        self.app.action_instructor()  # type: ignore[attr-defined]

    async def action_back(self) -> None:
        if getattr(self.app, "learner", None) is not None:
            await self.app.switch_mode("chat")
