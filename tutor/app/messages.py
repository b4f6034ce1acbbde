"""Messages widgets post upward, so a widget never reaches into another screen.

A source link in the chat says "open this section"; the app decides how (it
switches to the lesson view). Same for "ask about this" and "quiz me on this".
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class OpenSection(Message):
    """Show a lesson section in the lesson view."""

    section_id: str


@dataclass
class AskAbout(Message):
    """Put a question in the chat (asked at once unless ``send`` is False)."""

    question: str
    send: bool = True


@dataclass
class StartQuiz(Message):
    """Open the quiz screen and start a quiz, optionally narrowed to concepts."""

    concepts: tuple[str, ...] = ()
    title: str = ""


@dataclass
class StartExercise(Message):
    """Open the exercise screen and start a scenario exercise."""

    concepts: tuple[str, ...] = ()


@dataclass
class LearnerChosen(Message):
    """The welcome screen settled on a learner (name, level, style)."""

    name: str
    level: str | None = None
    style: str | None = None


@dataclass
class CopyText(Message):
    """Copy text to the clipboard (and say so)."""

    text: str
    what: str = "Answer"
