"""Chat with the tutor: streamed answers with their evidence and sources."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, Markdown

from tutor.app.messages import OpenSection, StartExercise, StartQuiz
from tutor.app.models import AnswerView, ChatMessage
from tutor.app.screens.base import PageScreen
from tutor.app.services import LEVELS, STYLES, ServiceError
from tutor.app.slash import COMMANDS, closest, match_concepts, parse
from tutor.app.widgets.chat import AnswerBlock, UserLine
from tutor.app.widgets.nav import NavBar
from tutor.app.widgets.prompt import MAX_QUESTION_CHARS, PromptInput, clip_question
from tutor.app.styles import STYLE_DIR

if TYPE_CHECKING:
    from tutor.store.records import LearnerRecord

#: How many stored messages come back when the chat opens.
RESTORE_LIMIT = 100
#: After Esc, how long the engine may take to stop before the chat stops listening.
CANCEL_GRACE_S = 2.0


class _Turn:
    """One question and its answer as far as it got, saved once whatever ends it.

    The answer worker fills it as the stream arrives; the worker saves it when the
    answer ends, and the page saves it itself when it closes mid-answer (the app
    quits), because by then the worker may outlive the database. A lock makes the
    first save the only one.
    """

    def __init__(self, question: str, learner_id: int) -> None:
        self.question = question
        self.learner_id = learner_id  # whose turn it is, even if the page closes because the learner changed
        self.text = ""
        self.answer: AnswerView | None = None  # the evidence event, then the final answer
        self.question_saved = False
        self.answer_saved = False
        self.lock = threading.Lock()

    def add(self, delta: str) -> None:
        with self.lock:
            self.text += delta

    def message(self, final: AnswerView | None, *, interrupted: bool) -> tuple[ChatMessage, AnswerView | None]:
        """The tutor's message to store: the whole answer, or what had streamed when it was stopped."""
        answer = final or self.answer
        text = answer.answer if answer is not None and answer.answer and not interrupted else self.text
        message = ChatMessage(
            "assistant",
            text,
            sources=answer.sources if answer is not None else (),
            in_scope=answer.in_scope if answer is not None else None,
            cancelled=interrupted,
        )
        return message, answer


class ChatScreen(PageScreen):
    MODE = "chat"
    CSS_PATH = str(STYLE_DIR / "chat.tcss")
    AUTO_FOCUS = "#prompt"
    BINDINGS = [
        Binding("escape", "cancel", "Stop answer"),
        Binding("ctrl+y", "copy_answer", "Copy answer"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+o", "sources", "Sources", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.log_messages: list[ChatMessage] = []  # finished messages, oldest first: history and export
        self.busy = False
        self._cancel: threading.Event | None = None
        self._current: AnswerBlock | None = None
        self._turn: _Turn | None = None
        self.restored = threading.Event()  # set once stored history is on screen

    def compose(self) -> ComposeResult:
        yield NavBar("chat")
        yield VerticalScroll(id="conversation")
        with Horizontal(id="composer"):
            yield PromptInput(placeholder="Ask about the course…  (/ for commands, F1 for help)", id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conversation", VerticalScroll).anchor()
        self.restore()

    # ------------------------------------------------------------------ history
    @work(thread=True, exclusive=True, group="chat-restore", exit_on_error=False)
    def restore(self) -> None:
        learner = self.learner
        messages: list[ChatMessage] = []
        if learner is not None:
            try:
                messages = self.services.history(learner.id, limit=RESTORE_LIMIT)
            except Exception as exc:  # noqa: BLE001
                self.tell(f"Your earlier conversation could not be loaded: {_msg(exc)}", severity="error")
        self.ui(self._show_restored, messages)

    async def _show_restored(self, messages: list[ChatMessage]) -> None:
        conversation = self.query_one("#conversation", VerticalScroll)
        widgets = []
        for message in messages:
            if message.role == "user":
                widgets.append(UserLine(message.text))
            else:
                widgets.append(AnswerBlock(restored=message))
        self.log_messages = list(messages) + self.log_messages
        if widgets:
            await conversation.mount_all(widgets, before=0 if conversation.children else None)
        if not self.log_messages:
            await conversation.mount(self._intro())
        conversation.anchor()
        self.restored.set()

    def _intro(self) -> Markdown:
        course = self.services.course
        title = course.title if course is not None else "this course"
        return Markdown(
            f"Ask anything about **{title}**. Every answer quotes the lesson it comes from; "
            "choose a source under an answer to read the whole section.\n\n"
            "Try *What is a GAN?* or */quiz transformers*. Type **/help** for commands, **F1** for keys.",
            id="intro",
        )

    # ------------------------------------------------------------------- asking
    @on(Input.Submitted, "#prompt")
    async def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        raw = event.value
        if not raw.strip():
            self.notify("Type a question first.", timeout=3)
            return
        command = parse(raw)
        if command is not None:
            prompt = self.query_one("#prompt", PromptInput)
            if command.name not in COMMANDS:
                guess = closest(command.name)
                hint = f" Did you mean /{guess}?" if guess else ""
                self.notify(f"Unknown command /{command.name}.{hint} Type /help for the list.", severity="warning")
                return  # the text stays in the box to be fixed
            prompt.remember(raw.strip())
            prompt.value = ""
            self.run_slash(command.name, command.arg)
            return
        await self.ask(raw)

    async def ask(self, raw: str) -> bool:
        """Send a question; False (and the text left in the box) when the tutor is busy."""
        prompt = self.query_one("#prompt", PromptInput)
        if self.busy:
            self.notify("The tutor is still answering. Press Esc to stop it, or wait.", severity="warning")
            return False
        if self.learner is None:
            self.notify("Choose a learner first (F8).", severity="warning")
            return False
        question, cut = clip_question(raw)
        if not question:
            self.notify("Type a question first.", timeout=3)
            return False
        if cut:
            self.notify(
                f"Your question was long, so only its first {MAX_QUESTION_CHARS} characters were sent.",
                severity="warning",
            )
        prompt.remember(question)
        if prompt.value.strip() == raw.strip():
            prompt.value = ""
        conversation = self.query_one("#conversation", VerticalScroll)
        for intro in conversation.query("#intro"):
            await intro.remove()
        ready = getattr(self.app, "readiness", None)
        waiting = "Looking in the lessons…" if ready is None or ready.ready else "Waiting for the tutor to get ready…"
        block = AnswerBlock(question, waiting=waiting)
        await conversation.mount_all([UserLine(question), block])
        conversation.anchor()
        history = [(m.role, m.text) for m in self.log_messages if m.text and not m.cancelled]
        self.log_messages.append(ChatMessage("user", question))
        self.busy = True
        self._cancel = threading.Event()
        self._current = block
        self._turn = _Turn(question, self.learner.id)
        self.refresh_bindings()
        self.answer(self._turn, block, history, self._cancel)
        return True

    def _save_question(self, turn: _Turn) -> None:
        with turn.lock:
            if turn.question_saved:
                return
            turn.question_saved = True
            self.services.save_message(turn.learner_id, ChatMessage("user", turn.question))

    def _save_answer(self, turn: _Turn, final: AnswerView | None, *, interrupted: bool) -> None:
        """Store the tutor's side of the turn once; an interrupted answer is stored as far as it got."""
        with turn.lock:
            if turn.answer_saved:
                return
            message, answer = turn.message(final, interrupted=interrupted)
            if not interrupted and not message.text:
                return  # nothing was said (an error ended it): nothing to restore
            turn.answer_saved = True
            self.services.save_message(turn.learner_id, message, answer)

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def answer(self, turn: _Turn, block: AnswerBlock, history: list[tuple[str, str]], cancel: threading.Event) -> None:
        learner = self.learner
        assert learner is not None
        question = turn.question
        final: AnswerView | None = None
        cancelled_at: float | None = None
        try:
            try:
                self._save_question(turn)
            except Exception as exc:  # noqa: BLE001 - the answer matters more than the record
                self.tell(f"Your question could not be saved: {_msg(exc)}", severity="warning")
            events = self.services.ask(question, learner, history, cancel)
            try:
                for event in events:
                    if cancel.is_set():
                        # Let the engine wind down and say so ("done", cancelled), but not forever.
                        cancelled_at = cancelled_at or time.monotonic()
                        if event.kind == "done":
                            final = event.answer
                            break
                        if time.monotonic() - cancelled_at > CANCEL_GRACE_S:
                            break
                        continue
                    if event.kind == "evidence" and event.answer is not None:
                        turn.answer = event.answer
                        self.ui(block.show_evidence, event.answer)
                    elif event.kind == "delta":
                        turn.add(event.text)
                        self.ui(block.write, event.text)
                    elif event.kind == "done":
                        final = event.answer
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()
            if cancel.is_set():
                final = replace(final or turn.answer or AnswerView(question=question), cancelled=True)
            self.ui(block.finish, final)
            try:
                self._save_answer(turn, final, interrupted=bool(final and final.cancelled))
            except Exception as exc:  # noqa: BLE001
                self.tell(f"The answer could not be saved: {_msg(exc)}", severity="warning")
        except ServiceError as exc:
            self.ui(block.fail, exc.message, exc.fix)
        except Exception as exc:  # noqa: BLE001 - shown in the chat, never as a traceback
            self.ui(block.fail, f"Something went wrong while answering: {_msg(exc)}", "Try again; restart tutor if it keeps happening.")
        finally:
            self.ui(self._answered, block)

    def _answered(self, block: AnswerBlock) -> None:
        if block.text or block.answer is not None:
            self.log_messages.append(block.as_message())
        self.busy = False
        self._cancel = None
        self._current = None
        self._turn = None
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.busy
        return True

    def action_cancel(self) -> None:
        if self._cancel is not None and not self._cancel.is_set():
            self._cancel.set()
            if self._current is not None:
                self._current.set_status("Stopping…")

    def on_unmount(self) -> None:
        """Closing mid-answer (quitting, switching learner): stop it and keep the question and the answer so far.

        Saved here, not left to the answer worker: once the app is gone `tutor app` closes
        the database, and a worker still winding down would find it closed.
        """
        if self._cancel is not None:
            self._cancel.set()
        turn = self._turn
        if turn is None:
            return
        try:
            self._save_question(turn)
            self._save_answer(turn, None, interrupted=True)
        except Exception as exc:  # noqa: BLE001 - the app is closing: log it, never a traceback
            self.log.error(f"the interrupted answer could not be saved: {exc!r}")

    def ask_or_fill(self, question: str, *, send: bool = True) -> None:
        """From another page: ask now, or put the question in the box to edit."""
        prompt = self.query_one("#prompt", PromptInput)
        if send and not self.busy:
            self.run_worker(self.ask(question), exclusive=False)
            return
        prompt.value = question
        prompt.cursor_position = len(question)
        prompt.focus()

    # ------------------------------------------------------------------ answers
    def _answers(self) -> list[AnswerBlock]:
        return list(self.query(AnswerBlock))

    def _selected_answer(self) -> AnswerBlock | None:
        node = self.focused
        while node is not None and not isinstance(node, AnswerBlock):
            node = node.parent  # type: ignore[assignment]
        if isinstance(node, AnswerBlock):
            return node
        answers = [a for a in self._answers() if a.text.strip()]
        return answers[-1] if answers else None

    def action_copy_answer(self) -> None:
        block = self._selected_answer()
        if block is None:
            self.notify("There is no answer to copy yet.", severity="warning")
            return
        block.action_copy()

    def action_export(self) -> None:
        if not any(m.text for m in self.log_messages):
            self.notify("There is nothing to export yet.", severity="warning")
            return
        self.export(list(self.log_messages))

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export(self, messages: list[ChatMessage]) -> None:
        from tutor.app.export import conversation_markdown

        learner = self.learner
        name = learner.name if learner is not None else "learner"
        course = self.services.course
        try:
            path = self.services.export_path(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                conversation_markdown(name, messages, course=course.title if course is not None else ""),
                encoding="utf-8",
            )
        except OSError as exc:
            self.tell(f"Could not save the conversation: {exc}", severity="error")
            return
        self.tell(f"Saved to {path}", title="Conversation exported")

    def action_sources(self) -> None:
        self.show_sources()

    def show_sources(self) -> None:
        from tutor.app.screens.dialogs import SourcesScreen

        answers = [a for a in self._answers() if a.sources]
        if not answers:
            self.notify("No answer with sources yet: ask a question about the course first.", severity="warning")
            return
        last = answers[-1]

        def opened(section_id: str | None) -> None:
            if section_id:
                self.post_message(OpenSection(section_id))

        self.app.push_screen(SourcesScreen(last.sources, last.evidence), opened)

    def request_clear(self) -> None:
        self.app.confirm("Delete this whole conversation?", self._clear)  # type: ignore[attr-defined]

    def _clear(self) -> None:
        self.clear_history()

    @work(thread=True, exclusive=True, group="chat-clear", exit_on_error=False)
    def clear_history(self) -> None:
        learner = self.learner
        if learner is None:
            return
        try:
            self.services.clear_history(learner.id)
        except Exception as exc:  # noqa: BLE001
            self.tell(f"Could not delete the conversation: {_msg(exc)}", severity="error")
            return
        self.ui(self._cleared)

    async def _cleared(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
        self.log_messages.clear()
        conversation = self.query_one("#conversation", VerticalScroll)
        await conversation.remove_children()
        await conversation.mount(self._intro())
        self.notify("Conversation deleted.")

    # ------------------------------------------------------------ slash commands
    def run_slash(self, name: str, arg: str) -> None:
        handler = getattr(self, f"_slash_{name}", None)
        if handler is None:
            self.notify(f"Unknown command /{name}. Type /help for the list.", severity="warning")
            return
        handler(arg)

    def _concepts(self, topic: str) -> tuple[str, ...]:
        course = self.services.course
        if not topic or course is None:
            return ()
        found = match_concepts(topic, [(c.id, c.name) for c in course.concepts])
        if not found:
            self.notify(f"No course topic matches “{topic}”, so the quiz covers everything.", severity="warning")
        return found

    def _slash_quiz(self, arg: str) -> None:
        self.post_message(StartQuiz(self._concepts(arg), title=arg))

    def _slash_exercise(self, arg: str) -> None:
        self.post_message(StartExercise(self._concepts(arg)))

    def _slash_level(self, arg: str) -> None:
        self._set_profile("level", arg, LEVELS)

    def _slash_style(self, arg: str) -> None:
        self._set_profile("style", arg, STYLES)

    def _set_profile(self, field: str, arg: str, choices: tuple[str, ...]) -> None:
        learner = self.learner
        if learner is None:
            return
        current = getattr(learner, field)
        if not arg:
            self.notify(f"Your {field} is {current}. Choose one with /{field} {'|'.join(choices)}.")
            return
        wanted = arg.strip().lower()
        matches = [c for c in choices if c.startswith(wanted)]
        if len(matches) != 1:
            self.notify(f"Unknown {field} “{arg}”. Choose one of: {', '.join(choices)}.", severity="warning")
            return
        self.update_profile(field, matches[0])

    @work(thread=True, exclusive=True, group="profile", exit_on_error=False)
    def update_profile(self, field: str, value: str) -> None:
        learner = self.learner
        if learner is None:
            return
        try:
            record = self.services.update_learner(learner.name, **{field: value})
        except ServiceError as exc:
            self.tell(f"{exc.message} {exc.fix}".strip(), severity="error")
            return
        except Exception as exc:  # noqa: BLE001
            self.tell(f"Could not change your {field}: {_msg(exc)}", severity="error")
            return
        self.ui(self._profile_changed, record, field, value)

    def _profile_changed(self, record: LearnerRecord, field: str, value: str) -> None:
        self.app.set_learner(record)  # type: ignore[attr-defined]
        self.notify(f"{field.capitalize()} set to {value}. The next answers will follow it.")

    def _slash_explain(self, arg: str) -> None:
        if arg:
            self.run_worker(self.ask(f"Explain {arg}."), exclusive=False)
        elif any(m.role == "assistant" for m in self.log_messages):
            self.run_worker(self.ask("Explain that again in a different way."), exclusive=False)
        else:
            self.notify("Say what to explain: /explain self-attention", severity="warning")

    def _slash_hint(self, arg: str) -> None:
        pages = getattr(self.app, "pages", {})
        for mode in ("quiz", "exercise"):
            page = pages.get(mode)
            if page is not None and getattr(page, "awaiting_answer", False):
                self.app.run_worker(self._hint_on(mode), exclusive=False)
                return
        self.notify("Hints are for quiz questions and exercises. Start one with /quiz or /exercise.")

    async def _hint_on(self, mode: str) -> None:
        if await self.app.goto(mode):  # type: ignore[attr-defined]
            self.app.screen.action_hint()  # type: ignore[attr-defined]

    def _slash_sources(self, arg: str) -> None:
        self.show_sources()

    def _slash_clear(self, arg: str) -> None:
        self.request_clear()

    def _slash_help(self, arg: str) -> None:
        self.app.action_help()  # type: ignore[attr-defined]


def _msg(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())[:300]
