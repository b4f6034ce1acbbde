"""Small modal screens: help, confirm, errors with their fix, an answer's sources."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from tutor.app.models import EvidenceView, SourceView
from tutor.app.slash import help_markdown
from tutor.app.widgets.chat import evidence_markdown
from tutor.app.styles import STYLE_DIR

KEYS_MARKDOWN = """\
- **F2 … F6**: Chat, Lessons, Quiz, Exercise, Progress
- **Ctrl+P**: every action, by name (command palette)
- **Esc**: stop the answer being written; close a dialog
- **↑ / ↓** in the question box: earlier questions
- **Ctrl+Y**: copy the last answer (**c** copies a selected answer)
- **Ctrl+S**: save the conversation as a Markdown file; in an exercise, check the answer
- **1–4** or **A–D**, or arrows and Enter: choose a quiz option
- **h**, **e**, **n**: quiz hint, explain my answer, next question (**Ctrl+G** hint in an exercise)
- **F8**: change learner, level or style · **F9**: instructor view
- **Ctrl+T**: light or dark theme · **Ctrl+Q**: quit
"""


class HelpScreen(ModalScreen[None]):
    CSS_PATH = str(STYLE_DIR / "dialogs.tcss")
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog") as box:
            box.border_title = "Help"
            with VerticalScroll():
                yield Markdown(f"## Keys\n\n{KEYS_MARKDOWN}\n\n## Chat commands\n\n{help_markdown()}")
            yield Button("Close", id="close", compact=True)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss()


class ConfirmScreen(ModalScreen[bool]):
    CSS_PATH = str(STYLE_DIR / "dialogs.tcss")
    BINDINGS = [Binding("escape,n", "no", "No"), Binding("y", "yes", "Yes")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm-dialog"):
            yield Label(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes", id="yes", variant="error", compact=True)
                yield Button("No", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ErrorScreen(ModalScreen[str]):
    """A problem tutor cannot work around, said in one line, with the fix."""

    CSS_PATH = str(STYLE_DIR / "dialogs.tcss")
    BINDINGS = [Binding("escape", "close", "Close"), Binding("r", "retry", "Retry", show=False)]

    def __init__(self, title: str, message: str, fix: str = "", *, retry: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.fix = fix
        self.retry = retry

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error-dialog") as box:
            box.border_title = self.title_text
            yield Static(self.message, classes="error-message", markup=False)
            if self.fix:
                yield Static(f"How to fix it: {self.fix}", classes="error-fix", markup=False)
            with Horizontal(classes="buttons"):
                if self.retry:
                    yield Button("Retry", id="retry", variant="primary", compact=True)
                    yield Button("Quit", id="quit", compact=True)
                else:
                    yield Button("Close", id="close", compact=True)

    def action_close(self) -> None:
        self.dismiss("quit" if self.retry else "close")

    def action_retry(self) -> None:
        if self.retry:
            self.dismiss("retry")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "close")


class SourcesScreen(ModalScreen[str | None]):
    """The passages behind an answer; Enter opens the chosen section."""

    CSS_PATH = str(STYLE_DIR / "dialogs.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, sources: tuple[SourceView, ...], evidence: tuple[EvidenceView, ...]) -> None:
        super().__init__()
        self.sources = sources
        self.evidence = evidence

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog sources-dialog") as box:
            box.border_title = "Sources of the last answer"
            yield OptionList(
                *[
                    Option(f"§ {s.title}" + (f"  ({s.score:.2f})" if s.score is not None else ""), id=s.section_id)
                    for s in self.sources
                ],
                classes="source-options",
            )
            if self.evidence:
                with VerticalScroll(classes="sources-evidence"):
                    yield Markdown(evidence_markdown(self.evidence))
            yield Label("Enter opens the section in the lessons · Esc closes", classes="dialog-hint")

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
