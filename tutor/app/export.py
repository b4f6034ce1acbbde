"""A conversation as a Markdown file a student can keep or hand in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tutor.app.models import ChatMessage


def conversation_markdown(
    learner: str, messages: Sequence[ChatMessage], *, course: str = "", when: datetime | None = None
) -> str:
    """Each question and answer in turn, the quoted lesson passages and sources under each answer."""
    when = when or datetime.now()
    lines = [f"# Conversation with the tutor: {learner}", ""]
    meta = f"*Exported {when:%Y-%m-%d %H:%M}*"
    if course:
        meta = f"*{course} · exported {when:%Y-%m-%d %H:%M}*"
    lines += [meta, ""]
    for message in messages:
        if message.role == "user":
            lines += ["---", "", f"**You:** {message.text.strip()}", ""]
            continue
        text = message.text.strip() or "*(no answer)*"
        lines += ["**Tutor:**", "", text, ""]
        if message.cancelled:
            lines += ["*(stopped before the end)*", ""]
        for item in message.evidence:
            quote = "\n".join(f"> {line}" if line.strip() else ">" for line in item.text.strip().splitlines())
            lines += [quote, ">", f"> — *{item.title}*", ""]
        if message.sources:
            lines += ["Sources: " + "; ".join(f"{s.title} (`{s.section_id}`)" for s in message.sources), ""]
    return "\n".join(lines).rstrip() + "\n"

