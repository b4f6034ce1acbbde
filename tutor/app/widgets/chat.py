"""The pieces of a conversation: the student's line and the tutor's answer block.

An answer block shows, in the order they arrive: the lesson sentences the
answer stands on (retrieval is done before the model speaks), the model's
explanation, and the sections it cites; a cited section is a button that opens
the lesson view there. The explanation streams into a Markdown widget through
``Markdown.get_stream`` (which batches fragments when they come faster than the
screen can draw), then gets one full update at the end so lists and code
fences render properly.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from tutor.app.messages import CopyText, OpenSection
from tutor.app.models import AnswerView, ChatMessage, EvidenceView, SourceView


class UserLine(Static):
    """What the student asked (shown verbatim: no markup is interpreted)."""

    def __init__(self, text: str) -> None:
        super().__init__(text, markup=False, classes="user-line")
        self.text = text
        self.border_title = "You"


class SourceLink(Button):
    """A cited section; Enter or a click opens it in the lesson view."""

    def __init__(self, source: SourceView) -> None:
        label = f"§ {source.title}"
        super().__init__(label, compact=True, classes="source-link", tooltip=f"Open “{source.title}” in the lessons")
        self.source = source

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(OpenSection(self.source.section_id))


def evidence_markdown(evidence: tuple[EvidenceView, ...]) -> str:
    """Quoted lesson text, one block per passage, each naming its section."""
    blocks = []
    for item in evidence:
        quote = "\n".join(f"> {line}" if line.strip() else ">" for line in item.text.strip().splitlines())
        blocks.append(f"{quote}\n>\n> — *{item.title}*")
    return "\n\n".join(blocks)


class AnswerBlock(Vertical, can_focus=True):
    """One tutor answer: status line, streamed Markdown, evidence and sources."""

    BINDINGS = [
        Binding("c", "copy", "Copy answer"),
    ]

    def __init__(self, question: str = "", *, restored: ChatMessage | None = None, waiting: str = "") -> None:
        super().__init__(classes="answer-block")
        self.question = question
        self.text = restored.text if restored else ""
        self.answer: AnswerView | None = None
        self.sources: tuple[SourceView, ...] = restored.sources if restored else ()
        self.evidence: tuple[EvidenceView, ...] = ()
        self._restored = restored
        self._waiting = waiting
        self._stream: MarkdownStream | None = None
        self.finished = restored is not None
        self.border_title = "Tutor"
        if restored is not None and restored.in_scope is False:
            self.add_class("-out-of-scope")
            self.border_title = "Tutor · outside this course"

    def compose(self) -> ComposeResult:
        # Chronological and bottom-anchored: the lesson's words arrive first, the
        # explanation streams in under them (so it stays in view), sources last.
        yield Collapsible(Markdown("", classes="evidence-body"), title="From the lesson", classes="evidence", collapsed=False)
        yield Static(self._waiting, classes="answer-status", markup=False)
        yield Markdown(self.text, classes="answer-body")
        yield Static("", classes="answer-notice", markup=False)
        yield Vertical(classes="source-list")

    def on_mount(self) -> None:
        self.query_one(".evidence", Collapsible).display = False
        self.query_one(".answer-status").display = bool(self._waiting)
        self.query_one(".answer-notice").display = False
        if self.sources:
            self._mount_sources(self.sources)
        if self._restored is not None and self._restored.cancelled:
            self.add_class("-cancelled")  # stopped (Esc, or the app quit) before it finished
            self.set_status("Stopped." if self.text else "Stopped before the tutor answered.")

    # ---------------------------------------------------------------- updates
    def set_status(self, text: str) -> None:
        status = self.query_one(".answer-status", Static)
        status.update(text)
        status.display = bool(text)

    async def show_evidence(self, answer: AnswerView) -> None:
        """Retrieval is done: show the quoted lesson text and sources before the model speaks."""
        self.answer = answer
        self.evidence = answer.evidence
        if not answer.in_scope:
            self.add_class("-out-of-scope")
            self.border_title = "Tutor · outside this course"
        self.set_status("Thinking…")
        await self._set_evidence(answer.evidence)
        self._mount_sources(answer.sources)

    async def write(self, delta: str) -> None:
        if not delta:
            return
        if self._stream is None:
            self.set_status("")
            self._stream = Markdown.get_stream(self.query_one(".answer-body", Markdown))
        self.text += delta
        await self._stream.write(delta)

    async def finish(self, answer: AnswerView | None) -> None:
        """The last event: stop the stream and render the whole answer once."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if answer is not None:
            if answer.answer and not answer.cancelled:
                self.text = answer.answer
            if answer.evidence and not self.evidence:
                await self._set_evidence(answer.evidence)
            if answer.sources and not self.sources:
                self._mount_sources(answer.sources)
            if not answer.in_scope:
                self.add_class("-out-of-scope")
                self.border_title = "Tutor · outside this course"
            if answer.notice and not answer.cancelled:
                notice = self.query_one(".answer-notice", Static)
                notice.update(f"⚠ {answer.notice}")
                notice.display = True
                self.add_class("-unsupported")
            self.answer = answer
        cancelled = answer is not None and answer.cancelled
        await self.query_one(".answer-body", Markdown).update(self.text)
        if cancelled:
            self.add_class("-cancelled")
            self.set_status("Stopped." if self.text else "Stopped before the tutor answered.")
        else:
            self.set_status("")
        self.finished = True

    async def fail(self, message: str, fix: str = "") -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.add_class("-error")
        self.set_status(f"{message}\n{fix}".strip())
        self.finished = True

    async def _set_evidence(self, evidence: tuple[EvidenceView, ...]) -> None:
        self.evidence = evidence
        box = self.query_one(".evidence", Collapsible)
        if evidence:
            await box.query_one(".evidence-body", Markdown).update(evidence_markdown(evidence))
            box.title = "From the lesson" if len(evidence) == 1 else f"From the lesson ({len(evidence)} passages)"
        box.display = bool(evidence)

    def _mount_sources(self, sources: tuple[SourceView, ...]) -> None:
        self.sources = sources
        holder = self.query_one(".source-list", Vertical)
        holder.remove_children()
        holder.mount_all([SourceLink(source) for source in sources])

    # ---------------------------------------------------------------- actions
    def copy_text(self) -> str:
        """The answer as Markdown with its sources: what Copy puts on the clipboard."""
        text = self.text.strip()
        if self.sources:
            text += "\n\nSources: " + "; ".join(s.title for s in self.sources)
        return text

    def action_copy(self) -> None:
        self.post_message(CopyText(self.copy_text()))

    def as_message(self) -> ChatMessage:
        return ChatMessage(
            role="assistant",
            text=self.text,
            sources=self.sources,
            evidence=self.evidence,
            in_scope=None if self.answer is None else self.answer.in_scope,
            cancelled=bool(self.answer.cancelled) if self.answer is not None else bool(
                self._restored is not None and self._restored.cancelled
            ),
        )

    @on(Collapsible.Toggled)
    def _keep_in_view(self, event: Collapsible.Toggled) -> None:
        event.stop()
