"""Slash commands typed in the chat: parsing and help text (no UI here)."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS: dict[str, str] = {
    "quiz": "Start a quiz, optionally on a topic: /quiz transformers",
    "exercise": "Pick the right model for a scenario and explain why: /exercise gan",
    "level": "Show or set your level: /level beginner|intermediate|advanced",
    "style": "Show or set how the tutor explains: /style analogy|example|step-by-step|concise",
    "explain": "Ask for an explanation of a topic: /explain self-attention",
    "hint": "A hint for the quiz item or exercise you are working on",
    "sources": "The lesson passages behind the last answer",
    "clear": "Delete this conversation",
    "help": "Keys and commands",
}


@dataclass(frozen=True)
class Slash:
    name: str
    arg: str


def parse(text: str) -> Slash | None:
    """``/quiz gans`` -> Slash("quiz", "gans"); None when the text is not a command.

    A line starting with two slashes or a slash and a space is an ordinary question.
    """
    text = text.strip()
    if not text.startswith("/") or text.startswith("//") or len(text) < 2 or text[1].isspace():
        return None
    name, _, arg = text[1:].partition(" ")
    return Slash(name.lower(), arg.strip())


def closest(name: str) -> str | None:
    """The command a typo most likely meant (`/quizz` -> quiz)."""
    import difflib

    match = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.6)
    return match[0] if match else None


def help_markdown() -> str:
    return "\n".join(f"- **/{name}**: {text[0].lower()}{text[1:]}" for name, text in COMMANDS.items())


def match_concepts(topic: str, concepts: list[tuple[str, str]]) -> tuple[str, ...]:
    """Concept ids a free-text topic names: `/quiz transformers` -> ("transformer", ...).

    ``concepts`` is (id, name) pairs. Matching is forgiving about case, plurals
    and hyphens, and prefers an exact id or name over a partial match.
    """
    wanted = _norm(topic)
    if not wanted:
        return ()
    exact = [cid for cid, name in concepts if wanted in (_norm(cid), _norm(name))]
    if exact:
        return tuple(exact)
    partial = [
        cid for cid, name in concepts
        if wanted in _norm(cid) or wanted in _norm(name) or _norm(cid) in wanted.split()
    ]
    return tuple(partial)


def _norm(text: str) -> str:
    words = []
    for word in text.lower().replace("-", " ").replace("_", " ").split():
        word = "".join(ch for ch in word if ch.isalnum())
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if word:
            words.append(word)
    return " ".join(words)
