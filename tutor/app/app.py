"""The Textual app: pages as modes, global keys, and the background start-up.

Pages (chat, lessons, quiz, exercise, progress) are Textual *modes*, so each
keeps its own state while the student moves between them: a quiz half done
is still there after a look at the lesson. The welcome page picks the learner;
choosing another learner rebuilds the pages.

The app paints first and loads later: right after the first frame, the
database and course open in a worker while the models load next to it in a
daemon thread (a model load cannot be interrupted, and a daemon thread does
not hold up quitting); the models need neither the database nor the learner,
so they do not wait for either. ``readiness`` tells every page how far it got.
"""

from __future__ import annotations

import importlib
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from tutor.app.messages import AskAbout, CopyText, LearnerChosen, OpenSection, StartExercise, StartQuiz
from tutor.app.models import Readiness
from tutor.app.screens.welcome import WelcomeScreen
from tutor.app.services import ServiceError, Services
from tutor.app.styles import STYLE_DIR

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.screen import Screen

    from tutor.app.screens.chat import ChatScreen
    from tutor.store.records import LearnerRecord


def _lazy(module: str, name: str) -> Any:
    """A MODES factory that imports its page on first visit: the welcome page paints sooner."""

    def make() -> Screen:
        return getattr(importlib.import_module(f"tutor.app.screens.{module}"), name)()

    make.__name__ = name
    return make


def _commands() -> type[Provider]:
    from tutor.app.commands import TutorCommands

    return TutorCommands


WORK_MODES: dict[str, Any] = {
    "chat": _lazy("chat", "ChatScreen"),
    "lessons": _lazy("lessons", "LessonsScreen"),
    "quiz": _lazy("quiz", "QuizScreen"),
    "exercise": _lazy("exercise", "ExerciseScreen"),
    "progress": _lazy("progress", "ProgressScreen"),
}
DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"
#: Where the instructor view lives when it is installed (another part of tutor adds it).
INSTRUCTOR_SCREEN = "tutor.app.screens.instructor:InstructorScreen"


class TutorApp(App[None]):
    """`tutor` with no arguments."""

    TITLE = "tutor"
    CSS_PATH = str(STYLE_DIR / "app.tcss")
    COMMANDS = App.COMMANDS | {_commands}
    MODES = {"welcome": WelcomeScreen, **WORK_MODES}
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    # Priority: the F-keys work even where a widget has its own use for them (TextArea binds F6).
    BINDINGS = [
        Binding("f1", "help", "Help", priority=True),
        Binding("f2", "goto('chat')", "Pages", key_display="F2-F6", priority=True),
        Binding("f3", "goto('lessons')", "Lessons", show=False, priority=True),
        Binding("f4", "goto('quiz')", "Quiz", show=False, priority=True),
        Binding("f5", "goto('exercise')", "Exercise", show=False, priority=True),
        Binding("f6", "goto('progress')", "Progress", show=False, priority=True),
        Binding("f8", "switch_learner", "Learner", show=False, priority=True),
        Binding("f9", "instructor", "Instructor", show=False, priority=True),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
    ]

    readiness: reactive[Readiness] = reactive(Readiness("starting", "Opening your progress and the course…"))
    learner: reactive[LearnerRecord | None] = reactive(None)
    opened: reactive[bool] = reactive(False)

    def __init__(
        self,
        services: Services,
        *,
        learner: str | None = None,
        settings_path: Path | None = None,
        warm_up: bool = True,
    ) -> None:
        super().__init__()
        self.services = services
        self.initial_learner = learner
        self.settings_path = settings_path  # None: don't remember the theme (tests)
        self._warm_up_enabled = warm_up
        self._opened_event = threading.Event()
        self._warm_up_started = False
        self.pages: dict[str, Any] = {}  # mode -> its page, filled as pages mount
        self.errors: list[BaseException] = []  # bugs caught on the way (tests assert it stays empty)
        settings = self._read_settings()
        self.theme = settings.get("theme", DARK_THEME) if settings.get("theme") in (DARK_THEME, LIGHT_THEME) else DARK_THEME

    # ------------------------------------------------------------------ start-up
    def on_mount(self) -> None:
        self.switch_mode("welcome")
        # Paint first: the start-up threads import SQLAlchemy and torch, and would hold
        # the GIL while the first frame is being laid out.
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        self.start_services()
        if self._warm_up_enabled and not self._warm_up_started:
            self._warm_up_started = True
            self.readiness = Readiness("loading", "Loading the language model and the search index…")
            threading.Thread(target=self._warm_up, name="tutor-warm-up", daemon=True).start()

    @work(thread=True, exclusive=True, group="startup", exit_on_error=False)
    def start_services(self) -> None:
        """Open the store and the course (the models load meanwhile: `_start`)."""
        try:
            self.services.open()
        except ServiceError as exc:
            self.from_thread(self._fatal, "tutor could not start", exc.message, exc.fix)
            return
        except Exception as exc:  # noqa: BLE001 - never a traceback on screen
            self.from_thread(self._fatal, "tutor could not start", _one_line(exc), "Please report this problem.")
            return
        self._opened_event.set()
        self.from_thread(setattr, self, "opened", True)

    def _warm_up(self) -> None:
        try:
            self.services.warm_up()
        except ServiceError as exc:
            self._set_readiness(Readiness("failed", exc.message, exc.fix))
            self._notify_from_thread(f"{exc.message}\n{exc.fix}".strip(), title="The tutor is unavailable")
        except Exception as exc:  # noqa: BLE001
            self._set_readiness(Readiness("failed", _one_line(exc)))
            self._notify_from_thread(_one_line(exc), title="The tutor is unavailable")
        else:
            self._set_readiness(Readiness("ready"))
            extras = getattr(self.services, "warm_extras", None)
            if extras is not None:
                extras()

    def _set_readiness(self, readiness: Readiness) -> None:
        self.from_thread(setattr, self, "readiness", readiness)

    def _notify_from_thread(self, message: str, *, title: str) -> None:
        self.from_thread(self.notify, message, title=title, severity="error", timeout=12)

    def from_thread(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the UI thread from a worker.

        Quietly nothing once the app has closed; a bug in ``fn`` is reported
        (notification, ``errors``) instead of dying silently with the worker.
        """
        try:
            return self.call_from_thread(fn, *args, **kwargs)
        except RuntimeError as exc:
            if str(exc) in ("App is not running", "Event loop is closed"):
                return None
            self.internal_error(exc)
        except Exception as exc:  # noqa: BLE001
            self.internal_error(exc)
        return None

    def internal_error(self, exc: BaseException) -> None:
        """A bug, not a user problem: keep it (tests check ``errors``), log it, say so briefly."""
        self.errors.append(exc)
        self.log.error(f"internal error: {exc!r}")
        message = f"Something went wrong: {_one_line(exc)}"
        try:
            if threading.get_ident() == getattr(self, "_thread_id", None):
                self.notify(message, severity="error")
            else:
                self.call_from_thread(self.notify, message, severity="error")
        except Exception:  # noqa: BLE001
            pass

    def wait_opened(self, timeout: float = 60.0) -> bool:
        """For workers: block until the store and course are open."""
        return self._opened_event.wait(timeout)

    def _fatal(self, title: str, message: str, fix: str) -> None:
        from tutor.app.screens.dialogs import ErrorScreen

        def after(choice: str | None) -> None:
            if choice == "retry":
                self.start_services()
            else:
                self.exit(return_code=1, message=f"{message}\n{fix}".strip())

        self.push_screen(ErrorScreen(title, message, fix, retry=True), after)

    def watch_opened(self, opened: bool) -> None:
        if opened and self.initial_learner:
            name, self.initial_learner = self.initial_learner, None
            self.post_message(LearnerChosen(name))

    # ------------------------------------------------------------------ learners
    @on(LearnerChosen)
    def _learner_chosen(self, message: LearnerChosen) -> None:
        self.enter_as(message.name, message.level, message.style)

    @work(thread=True, exclusive=True, group="learner", exit_on_error=False)
    def enter_as(self, name: str, level: str | None = None, style: str | None = None) -> None:
        if not self.wait_opened():
            self.from_thread(self.notify, "The database is still opening; try again.", severity="warning")
            return
        try:
            record = self.services.learner(name, level=level, style=style)
        except ServiceError as exc:
            self.from_thread(self.notify, f"{exc.message}\n{exc.fix}".strip(), severity="error")
            return
        except Exception as exc:  # noqa: BLE001
            self.from_thread(self.notify, _one_line(exc), title="Could not open the learner", severity="error")
            return
        self.from_thread(self._enter, record)

    async def _enter(self, record: LearnerRecord) -> None:
        changed = self.learner is None or self.learner.id != record.id
        if changed and self.current_mode != "welcome":
            await self.switch_mode("welcome")
        self.learner = record
        if changed:
            self.pages.clear()
            for mode, screen in WORK_MODES.items():
                await self.remove_mode(mode)
                self.add_mode(mode, screen)
        await self.switch_mode("chat")

    def set_learner(self, record: LearnerRecord) -> None:
        """A changed level or style: same learner, new record."""
        self.learner = record

    # ------------------------------------------------------------------ navigation
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Page keys act on tutor's own pages and dialogs only.

        A screen another part of tutor pushes (the instructor view) or Textual's
        command palette keeps its own use of F-keys, and navigating away under
        it would strand it.
        """
        if action in NAV_ACTIONS and not _own_screen(self.screen):
            return False
        return True

    async def action_goto(self, mode: str) -> None:
        await self.goto(mode)

    async def goto(self, mode: str) -> bool:
        if mode != "welcome" and self.learner is None:
            self.notify("Choose or create a learner first.", severity="warning")
            return False
        if self.screen.is_modal:
            self.pop_screen()
        await self.switch_mode(mode)
        return True

    async def action_switch_learner(self) -> None:
        await self.switch_mode("welcome")

    def action_help(self) -> None:
        from tutor.app.screens.dialogs import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME
        self._write_settings({"theme": self.theme})

    def action_instructor(self) -> None:
        module_name, attr = INSTRUCTOR_SCREEN.split(":")
        try:
            module = importlib.import_module(module_name)
            screen_cls = getattr(module, attr)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                self.notify("The instructor view is not available in this build.", severity="warning")
            else:
                self.notify(f"The instructor view could not open: {exc}", severity="error")
            return
        except AttributeError:
            self.notify("The instructor view is not available in this build.", severity="warning")
            return
        except Exception as exc:  # noqa: BLE001
            self.notify(f"The instructor view could not open: {_one_line(exc)}", severity="error")
            return
        self.push_screen(screen_cls())

    # ------------------------------------------------------------ cross-page requests
    @on(OpenSection)
    async def _open_section(self, message: OpenSection) -> None:
        if await self.goto("lessons"):
            self.screen.show_section(message.section_id)  # type: ignore[attr-defined]

    @on(AskAbout)
    async def _ask_about(self, message: AskAbout) -> None:
        if await self.goto("chat"):
            self.screen.ask_or_fill(message.question, send=message.send)  # type: ignore[attr-defined]

    @on(StartQuiz)
    async def _start_quiz(self, message: StartQuiz) -> None:
        if await self.goto("quiz"):
            self.screen.start(message.concepts, message.title)  # type: ignore[attr-defined]

    @on(StartExercise)
    async def _start_exercise(self, message: StartExercise) -> None:
        if await self.goto("exercise"):
            self.screen.start(message.concepts)  # type: ignore[attr-defined]

    @on(CopyText)
    def _copy(self, message: CopyText) -> None:
        if not message.text.strip():
            self.notify("Nothing to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(message.text)
        self.notify(f"{message.what} copied to the clipboard.")

    # ------------------------------------------------- actions the palette offers
    async def _chat_screen(self) -> ChatScreen | None:
        from tutor.app.screens.chat import ChatScreen

        if not await self.goto("chat"):
            return None
        screen = self.screen
        return screen if isinstance(screen, ChatScreen) else None

    async def action_copy_answer(self) -> None:
        if chat := await self._chat_screen():
            chat.action_copy_answer()

    async def action_export_chat(self) -> None:
        if chat := await self._chat_screen():
            chat.action_export()

    async def action_clear_chat(self) -> None:
        if chat := await self._chat_screen():
            chat.request_clear()

    async def action_show_sources(self) -> None:
        if chat := await self._chat_screen():
            chat.show_sources()

    async def action_new_quiz(self) -> None:
        self.post_message(StartQuiz())

    async def action_new_exercise(self) -> None:
        self.post_message(StartExercise())

    async def action_set_level(self, level: str) -> None:
        if chat := await self._chat_screen():
            chat.run_slash("level", level)

    async def action_set_style(self, style: str) -> None:
        if chat := await self._chat_screen():
            chat.run_slash("style", style)

    def confirm(self, question: str, on_yes: Any) -> None:
        from tutor.app.screens.dialogs import ConfirmScreen

        self.push_screen(ConfirmScreen(question), lambda yes: on_yes() if yes else None)

    # ------------------------------------------------------------------ settings
    def _read_settings(self) -> dict[str, Any]:
        if self.settings_path is None:
            return {}
        try:
            return dict(json.loads(self.settings_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return {}

    def _write_settings(self, changes: dict[str, Any]) -> None:
        if self.settings_path is None:
            return
        settings = self._read_settings() | changes
        try:
            self.settings_path.parent.mkdir(parents=True, exist_ok=True)
            self.settings_path.write_text(json.dumps(settings, indent=2), encoding="utf-8")
        except OSError:
            pass  # a read-only home must not break the app


NAV_ACTIONS = frozenset({"goto", "switch_learner", "instructor", "help"})


def _own_screen(screen: object) -> bool:
    from tutor.app.screens.base import PageScreen

    return isinstance(screen, (PageScreen, WelcomeScreen)) or type(screen).__module__ == "tutor.app.screens.dialogs"


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())[:300]
