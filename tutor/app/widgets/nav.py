"""The bar at the top of every screen: where you are, who you are, is the tutor ready."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from tutor.app.models import Readiness

#: (mode, label, key): the order of the tabs.
PAGES = (
    ("chat", "Chat", "F2"),
    ("lessons", "Lessons", "F3"),
    ("quiz", "Quiz", "F4"),
    ("exercise", "Exercise", "F5"),
    ("progress", "Progress", "F6"),
)


def readiness_text(readiness: Readiness, *, short: bool = False) -> Content:
    if readiness.state == "ready":
        return Content.from_markup("[$success]●[/] ready" if short else "[$success]●[/] tutor ready")
    if readiness.state == "failed":
        return Content.from_markup("[$error]●[/] tutor unavailable")
    if short:
        return Content.from_markup("[$warning]◌[/] getting ready…")
    return Content.from_markup("[$warning]◌[/] tutor is getting ready…")


class ReadyBadge(Static):
    """Follows ``app.readiness`` so every screen shows the same state."""

    def __init__(self, *, short: bool = False, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.short = short

    def on_mount(self) -> None:
        self.watch(self.app, "readiness", self._show, init=True)

    def _show(self, readiness: Readiness) -> None:
        self.update(readiness_text(readiness, short=self.short))
        self.set_class(readiness.state == "ready", "-ready")
        self.set_class(readiness.state == "failed", "-failed")
        self.tooltip = readiness.detail or None


class NavBar(Horizontal):
    """Clickable page names (F2–F6 do the same), the learner and the readiness badge."""

    def __init__(self, current: str) -> None:
        super().__init__(classes="nav-bar")
        self.current = current

    def compose(self) -> ComposeResult:
        yield Static(self._pages(with_keys=False), classes="nav-pages")
        yield Static("", classes="nav-learner")
        yield ReadyBadge(short=True, classes="nav-ready")

    def _pages(self, *, with_keys: bool) -> Content:
        """Page names, clickable; with their F-keys when there is room."""
        parts = []
        for mode, label, key in PAGES:
            text = f"{key} {label}" if with_keys else label
            if mode == self.current:
                parts.append(Content.from_markup(f"[reverse b] {text} [/]"))
            else:
                parts.append(Content.from_markup(f"[@click=app.goto('{mode}')] {text} [/]"))
        return Content("").join(parts)

    def on_resize(self) -> None:
        self.query_one(".nav-pages", Static).update(self._pages(with_keys=self.size.width >= 110))

    def on_mount(self) -> None:
        self.watch(self.app, "learner", self._show_learner, init=True)

    def _show_learner(self, learner: object) -> None:
        label = self.query_one(".nav-learner", Static)
        if learner is None:
            label.update("")
        else:
            label.update(
                Content.from_markup(
                    "[@click=app.switch_learner]$name[/][dim] · $level · $style[/dim]",
                    name=getattr(learner, "name", ""),
                    level=getattr(learner, "level", ""),
                    style=getattr(learner, "style", ""),
                )
            )
