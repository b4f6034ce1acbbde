"""The chat input: history on Up/Down, pasted text kept whole, slash-command suggestions."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.widgets import Input

#: Longer questions are cut to this many characters (with a notice): the small
#: model's context is short and retrieval works best on a focused question.
MAX_QUESTION_CHARS = 2000

SLASH_COMMANDS = (
    "/quiz", "/exercise", "/level", "/style", "/explain", "/hint", "/sources", "/clear", "/help",
)


class PromptInput(Input):
    """An Input that remembers what was sent and accepts multi-line pastes."""

    BINDINGS = [
        Binding("up", "history_back", "Earlier input", show=False),
        Binding("down", "history_forward", "Later input", show=False),
    ]

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(
            placeholder=placeholder,
            id=id,
            suggester=SuggestFromList(SLASH_COMMANDS, case_sensitive=False),
            select_on_focus=False,
        )
        self.history: list[str] = []
        self._index: int | None = None  # position in history while browsing; None = the draft
        self._draft = ""

    def remember(self, text: str) -> None:
        """Add a sent line to the history (no immediate duplicates)."""
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._index = None
        self._draft = ""

    def action_history_back(self) -> None:
        if not self.history:
            return
        if self._index is None:
            self._draft = self.value
            self._index = len(self.history) - 1
        elif self._index > 0:
            self._index -= 1
        self._show(self.history[self._index])

    def action_history_forward(self) -> None:
        if self._index is None:
            return
        if self._index < len(self.history) - 1:
            self._index += 1
            self._show(self.history[self._index])
        else:
            self._index = None
            self._show(self._draft)

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)

    def _on_paste(self, event: events.Paste) -> None:
        # Input keeps only the first line of a paste; a pasted paragraph is one question.
        text = " ".join(line.strip() for line in event.text.splitlines() if line.strip())
        if text:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()
        event.prevent_default()


def clip_question(text: str, limit: int = MAX_QUESTION_CHARS) -> tuple[str, bool]:
    """Strip and cut a question to ``limit`` characters; the flag says whether it was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…", True
