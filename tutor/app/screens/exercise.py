"""Scenario exercises: pick the model that fits, explain why, get rubric feedback.

The flow is the quiz's (the engine serves scenarios through the same session),
so this page is the quiz page restricted to scenario items, with keys that do
not collide with typing in the explanation box.
"""

from __future__ import annotations

from textual.binding import Binding

from tutor.app.screens.quiz import QuizScreen
from tutor.app.widgets.quiz import ScenarioForm


class ExerciseScreen(QuizScreen):
    MODE = "exercise"
    KIND = "scenario"
    TITLE_TEXT = "Exercise"
    INTRO = "Read a scenario, pick the model that fits and explain why."
    LENGTHS = (1, 3, 5)
    DEFAULT_LENGTH = 3
    BINDINGS = [
        Binding("ctrl+s", "check", "Check answer"),
        Binding("ctrl+g", "hint", "Hint"),
        Binding("ctrl+e", "explain", "Explain my answer", show=False),
        Binding("ctrl+n", "next", "Next"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "check":
            return self.awaiting_answer
        return super().check_action(action, parameters)

    def action_check(self) -> None:
        if self.awaiting_answer and not self._busy:
            self.query_one("#scenario", ScenarioForm).submit()
