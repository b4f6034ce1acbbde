"""Command-palette entries (Ctrl+P) for every action in the app."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

LEVELS = ("beginner", "intermediate", "advanced")
STYLES = ("analogy", "example", "step-by-step", "concise")

#: (title, help, app action). Every action a key or button can do is here too.
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Go to Chat", "Ask the tutor about the course (F2)", "goto('chat')"),
    ("Go to Lessons", "Read the course, lesson by lesson (F3)", "goto('lessons')"),
    ("Go to Quiz", "Adaptive multiple-choice quiz (F4)", "goto('quiz')"),
    ("Go to Exercise", "Pick the right model for a scenario (F5)", "goto('exercise')"),
    ("Go to Progress", "Mastery, reviews and the next step (F6)", "goto('progress')"),
    ("New quiz", "Start a quiz on everything, adapted to you", "new_quiz"),
    ("New exercise", "Start a scenario exercise", "new_exercise"),
    ("Copy last answer", "Copy the tutor's last answer to the clipboard (Ctrl+Y)", "copy_answer"),
    ("Export conversation", "Save the conversation as a Markdown file (Ctrl+S)", "export_chat"),
    ("Show sources of the last answer", "The lesson passages behind it (Ctrl+O)", "show_sources"),
    ("Clear conversation", "Delete this learner's conversation", "clear_chat"),
    ("Switch learner", "Pick another learner, or change level and style (F8)", "switch_learner"),
    ("Instructor view", "Class reports (needs the instructor passphrase) (F9)", "instructor"),
    ("Toggle light/dark theme", "Switch between the light and the dark theme (Ctrl+T)", "toggle_theme"),
    ("Help", "Keys and chat commands (F1)", "help"),
    ("Quit", "Leave tutor (Ctrl+Q)", "quit"),
    *((f"Level: {lv}", f"Explain things at {lv} level", f"set_level('{lv}')") for lv in LEVELS),
    *((f"Style: {st}", f"Explanations in the {st} style", f"set_style('{st}')") for st in STYLES),
)


class TutorCommands(Provider):
    """Finds tutor's actions by name."""

    async def discover(self) -> Hits:
        for title, help_text, action in ACTIONS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in ACTIONS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), text=title, help=help_text)
