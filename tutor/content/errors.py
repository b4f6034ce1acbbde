"""The one error type course and question-bank problems are reported with.

Authors fix content in a text editor, so every problem names the file and the
line (or the field path inside a YAML file), and a loader collects *all*
problems before raising: ``tutor content validate`` shows everything at once.
"""

from __future__ import annotations

from collections.abc import Sequence


class ContentError(Exception):
    """Invalid course content. ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str] | str, *, where: str | None = None) -> None:
        self.problems: tuple[str, ...] = (problems,) if isinstance(problems, str) else tuple(problems)
        self.where = where
        super().__init__(self._message())

    def _message(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        head = f"{count} {noun}" + (f" in {self.where}" if self.where else "")
        return head + ":\n" + "\n".join(f"  {p}" for p in self.problems)
