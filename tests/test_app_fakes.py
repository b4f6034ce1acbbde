"""Scripted stand-ins for the app's services, and the polling helper the app tests share.

Nothing here is a test. `FakeServices` answers every method of
`tutor.app.services.Services` from memory: a fake token stream with small
delays (so cancelling has something to cancel), a two-item quiz, one
scenario, progress computed from the answers given. `FakeTutor` is the same
token script shaped like the real answer pipeline, for tests that run the
real `TutorServices` over a real store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
from tutor.app.services import ServiceError
from tutor.content.model import Concept, Course, Lesson, Objective, Section
from tutor.quiz.model import MODEL_TYPES, MultipleChoice, Option, Scenario
from tutor.store.records import LearnerRecord

FIXED_TIME = datetime(2025, 1, 6, 9, 30, tzinfo=UTC)

GAN_TEXT = (
    "A generative adversarial network (GAN) has two networks: a generator that makes fake samples "
    "and a discriminator that tells real from fake. They are trained against each other."
)
TRANSFORMER_TEXT = (
    "Transformers use self-attention to weigh every word of the input against every other word, "
    "which lets them model long-range context in parallel."
)
ANSWER_TOKENS = (
    "A **GAN** pits two networks ", "against each other: ", "the *generator* makes samples ",
    "and the *discriminator* judges them.\n\n", "- generator: creates\n", "- discriminator: checks\n",
)
OUT_OF_SCOPE = "That question is outside this course. I can help with generative AI models and how they work."
UNSUPPORTED = "Parts of this explanation go beyond the lesson text: where they differ, trust the quoted lesson."


def small_course() -> Course:
    """Two lessons, four sections, three concepts: enough for every screen."""
    sections_a = (
        Section(id="what-is-genai", title="What Is Generative AI?", text="Generative AI **creates** new content.",
                concepts=("generative-ai",), lesson_id="what-is-genai", source="lessons/01.md"),
        Section(id="gan", title="Generative Adversarial Networks", text=GAN_TEXT, concepts=("gan",),
                lesson_id="what-is-genai", source="lessons/01.md"),
    )
    sections_b = (
        Section(id="transformers", title="Transformers", text=TRANSFORMER_TEXT, concepts=("transformer",),
                lesson_id="models", source="lessons/02.md"),
        Section(id="sampling-temperature", title="Sampling Temperature", text="Lower temperature, safer words.",
                concepts=("transformer",), supplementary=True, lesson_id="models", source="lessons/02.md"),
    )
    return Course(
        id="genai-models",
        title="Advanced Generative AI: Models and Architecture",
        root=Path("."),
        objectives=(
            Objective(id="define-genai", text="Define the key principles of Generative AI"),
            Objective(id="explain-models", text="Explain VAEs, GANs and transformers"),
        ),
        concepts=(
            Concept(id="generative-ai", name="Generative AI", objective="define-genai"),
            Concept(id="gan", name="GANs", objective="explain-models"),
            Concept(id="transformer", name="Transformers", objective="explain-models"),
        ),
        lessons=(
            Lesson(id="what-is-genai", title="What Is Generative AI", file="lessons/01.md", sections=sections_a),
            Lesson(id="models", title="Model Types", file="lessons/02.md", sections=sections_b),
        ),
    )


def quiz_items() -> list[MultipleChoice]:
    return [
        MultipleChoice(
            id="mc-gan-1", concepts=("gan",), objective="explain-models", difficulty=2,
            stem="What does the discriminator in a GAN do?",
            options=(
                Option(key="A", text="It generates new images", feedback="That is the generator."),
                Option(key="B", text="It tells real samples from generated ones", feedback="Right: it judges."),
                Option(key="C", text="It compresses the input", feedback="That is an autoencoder."),
                Option(key="D", text="It attends to every token", feedback="That is self-attention."),
            ),
            answer="B", sections=("gan",),
        ),
        MultipleChoice(
            id="mc-tr-1", concepts=("transformer",), objective="explain-models", difficulty=2,
            stem="Which mechanism lets a transformer weigh every word against every other word?",
            options=(
                Option(key="A", text="Convolution", feedback="Convolutions look at neighbours only."),
                Option(key="B", text="Recurrence", feedback="RNNs read one step at a time."),
                Option(key="C", text="Self-attention", feedback="Yes: self-attention."),
                Option(key="D", text="Pooling", feedback="Pooling summarises, it does not weigh."),
            ),
            answer="C", sections=("transformers",),
        ),
    ]


def scenario_items() -> list[Scenario]:
    return [
        Scenario(
            id="sc-deepfake", concepts=("gan",), objective="explain-models",
            scenario="A studio wants photo-realistic faces of people who do not exist for a game.",
            accepted=("gan",),
            key_points=("a generator creates faces", "a discriminator pushes them to look real"),
            model_answer="A GAN: its generator makes faces and its discriminator forces them to look real.",
            sections=("gan",),
        )
    ]


@dataclass
class FakeQuizRun:
    items: list[Any]
    mastery: dict[str, float]
    on_grade: Callable[[Any, Grade], None]
    answered: int = 0
    correct: int = 0
    hints: int = 0
    _index: int = -1
    _before: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._before = dict(self.mastery)

    @property
    def progress(self) -> tuple[int, int]:
        return self.answered, len(self.items)

    def next_item(self) -> Any:
        self._index += 1
        self.hints = 0
        return self.items[self._index] if self._index < len(self.items) else None

    def submit(self, answer: str | tuple[str, str]) -> Grade:
        item = self.items[self._index]
        concept = item.concepts[0]
        before = self.mastery.get(concept, 0.3)
        if isinstance(item, MultipleChoice):
            assert isinstance(answer, str)
            right = answer == item.answer
            chosen = next(o for o in item.options if o.key == answer)
            verdict, score, met, missed = ("correct" if right else "incorrect"), float(right), (), ()
            feedback = chosen.feedback
            explanation = f"The answer is {item.answer}."
        else:
            model_type, text = answer
            met = tuple(p for p in item.key_points if p.split()[1] in text.lower())
            missed = tuple(p for p in item.key_points if p not in met)
            right = model_type in item.accepted and not missed
            score = (0.5 if model_type in item.accepted else 0.0) + 0.5 * len(met) / len(item.key_points)
            verdict = "correct" if right else ("partial" if score > 0 else "incorrect")
            feedback = "GAN is the right family." if model_type in item.accepted else "Not the best model here."
            explanation = ""
        after = min(0.99, before + 0.2) if right else max(0.01, before - 0.1)
        self.mastery[concept] = after
        self.answered += 1
        self.correct += int(right)
        grade = Grade(
            item_id=item.id, correct=right, score=score, verdict=verdict, feedback=feedback, explanation=explanation,
            key_points_met=met, key_points_missed=missed,
            mastery_before={concept: before}, mastery_after={concept: after},
        )
        self.on_grade(item, grade)
        return grade

    def hint(self) -> HintView:
        self.hints += 1
        texts = ("Think about what each network is for.", "Read the section on this topic.", "One network judges.")
        level = min(self.hints, 3)
        return HintView(level=level, text=texts[level - 1])

    def end(self) -> QuizSummaryView:
        return QuizSummaryView(
            answered=self.answered, correct=self.correct, score=self.correct / max(1, self.answered),
            mastery_before=self._before, mastery_after=dict(self.mastery),
            review_next=("GANs (0 of 1 right in this quiz)",),
        )


class FakeServices:
    """Every service the screens use, scripted and in memory."""

    def __init__(
        self,
        *,
        token_delay: float = 0.01,
        warm_delay: float = 0.0,
        warm_gate: threading.Event | None = None,
        open_error: ServiceError | None = None,
        warm_error: ServiceError | None = None,
        learners: Sequence[str] = (),
        export_dir: Path | None = None,
    ) -> None:
        self.token_delay = token_delay
        self.warm_delay = warm_delay
        self.warm_gate = warm_gate  # when given, warm-up waits until the test sets it
        self.open_error = open_error
        self.warm_error = warm_error
        self.export_dir = export_dir or Path(".")
        self._course: Course | None = None
        self._learners: dict[str, LearnerRecord] = {}
        self._messages: dict[int, list[ChatMessage]] = {}
        self._mastery: dict[int, dict[str, float]] = {}
        self._attempts: dict[int, list[AttemptRow]] = {}
        self._ready = threading.Event()
        self.asked: list[tuple[str, list[tuple[str, str]]]] = []
        self.started_quizzes: list[dict[str, Any]] = []
        self.cancelled = threading.Event()
        self.closed = False
        for name in learners:
            self._add_learner(name)

    # lifecycle
    def open(self) -> None:
        if self.open_error is not None:
            raise self.open_error
        self._course = small_course()

    def warm_up(self) -> None:
        time.sleep(self.warm_delay)
        if self.warm_gate is not None:
            self.warm_gate.wait(30)
        self._ready.set()
        if self.warm_error is not None:
            raise self.warm_error

    def wait_ready(self, cancel: threading.Event | None = None, timeout: float = 30.0) -> bool:
        end = time.monotonic() + timeout
        while not self._ready.wait(0.01):
            if (cancel is not None and cancel.is_set()) or time.monotonic() > end:
                return False
        if self.warm_error is not None:
            raise self.warm_error
        return True

    def close(self) -> None:
        self.closed = True

    # course
    @property
    def course(self) -> Course | None:
        return self._course

    def section(self, section_id: str) -> Section | None:
        try:
            return self._course.section(section_id) if self._course else None
        except KeyError:
            return None

    def section_title(self, section_id: str) -> str:
        section = self.section(section_id)
        return section.title if section else section_id

    def concept_name(self, concept_id: str) -> str:
        try:
            return self._course.concept(concept_id).name if self._course else concept_id
        except KeyError:
            return concept_id

    def model_types(self) -> tuple[str, ...]:
        return tuple(MODEL_TYPES)

    # learners
    def _add_learner(self, name: str, level: str = "beginner", style: str = "example") -> LearnerRecord:
        record = LearnerRecord(id=len(self._learners) + 1, name=name, level=level, style=style, created=FIXED_TIME)
        self._learners[name] = record
        return record

    def learners(self) -> list[LearnerRecord]:
        return list(self._learners.values())

    def learner(self, name: str, *, level: str | None = None, style: str | None = None) -> LearnerRecord:
        if name not in self._learners:
            return self._add_learner(name, level or "beginner", style or "example")
        return self.update_learner(name, level=level, style=style)

    def update_learner(self, name: str, *, level: str | None = None, style: str | None = None) -> LearnerRecord:
        old = self._learners[name]
        record = LearnerRecord(old.id, old.name, level or old.level, style or old.style, old.created)
        self._learners[name] = record
        return record

    # chat
    def history(self, learner_id: int, limit: int | None = 200) -> list[ChatMessage]:
        return list(self._messages.get(learner_id, []))[-(limit or 10**6):]

    def save_message(self, learner_id: int, message: ChatMessage, answer: AnswerView | None = None) -> None:
        if self.closed:  # like the real store once `tutor app` has closed it on the way out
            raise ServiceError("The progress database is closed.")
        self._messages.setdefault(learner_id, []).append(message)

    def clear_history(self, learner_id: int) -> None:
        self._messages.pop(learner_id, None)

    def ask(
        self, question: str, learner: LearnerRecord, history: Sequence[tuple[str, str]], cancel: threading.Event
    ) -> Iterator[AnswerEvent]:
        self.asked.append((question, list(history)))
        if not self.wait_ready(cancel):
            yield AnswerEvent("done", answer=AnswerView(question=question, cancelled=True))
            return
        yield from scripted_answer(question, cancel, self.token_delay, self.cancelled)

    def explain(self, item: Any, learner_answer: str, grade: Grade, learner: LearnerRecord,
                cancel: threading.Event) -> Iterator[AnswerEvent]:
        text = f"You chose {learner_answer}. The discriminator judges real from fake."
        for word in text.split(" "):
            if cancel.is_set():
                break
            time.sleep(self.token_delay)
            yield AnswerEvent("delta", text=word + " ")
        yield AnswerEvent("done", answer=AnswerView(question="", answer=text, cancelled=cancel.is_set()))

    def export_path(self, learner_name: str) -> Path:
        return self.export_dir / f"{learner_name}-conversation.md"

    # quiz
    def start_quiz(self, learner_id: int, *, concepts: Sequence[str] | None = None, objective: str | None = None,
                   length: int = 10, kind: str | None = None) -> FakeQuizRun:
        self.started_quizzes.append({"concepts": tuple(concepts or ()), "kind": kind, "length": length})
        items: list[Any] = scenario_items() if kind == "scenario" else quiz_items()
        if concepts:
            items = [i for i in items if set(i.concepts) & set(concepts)] or items
        mastery = self._mastery.setdefault(learner_id, {"generative-ai": 0.5, "gan": 0.3, "transformer": 0.3})

        def record(item: Any, grade: Grade) -> None:
            label = getattr(item, "stem", None) or getattr(item, "scenario", "")
            self._attempts.setdefault(learner_id, []).insert(
                0, AttemptRow(item.id, grade.correct, grade.score, datetime.now(UTC) - timedelta(minutes=5),
                              tuple(item.concepts), label)
            )

        return FakeQuizRun(items=items[:length], mastery=mastery, on_grade=record)

    def progress(self, learner_id: int) -> ProgressView:
        mastery = self._mastery.get(learner_id, {})
        concepts = tuple(
            MasteryRow(c.id, c.name, mastery.get(c.id, 0.0),
                       attempts=sum(1 for a in self._attempts.get(learner_id, []) if c.id in a.concepts),
                       correct=sum(1 for a in self._attempts.get(learner_id, []) if c.id in a.concepts and a.correct))
            for c in self._course.concepts
        ) if self._course else ()
        objectives = (
            MasteryRow("define-genai", "Define the key principles", mastery.get("generative-ai", 0.0)),
            MasteryRow("explain-models", "Explain the models", (mastery.get("gan", 0.0) + mastery.get("transformer", 0.0)) / 2),
        )
        weakest = min(concepts, key=lambda r: r.p_known) if concepts else None
        step = NextStep(f"Practise {weakest.name}: it is your weakest concept.", "quiz", (weakest.id,)) if weakest else None
        due = (DueRow("mc-gan-1", datetime.now(UTC) - timedelta(hours=2), "What does the discriminator in a GAN do?"),)
        return ProgressView(concepts, objectives, tuple(self._attempts.get(learner_id, [])), due if mastery else (), step)


def scripted_answer(
    question: str, cancel: threading.Event, delay: float, cancelled_flag: threading.Event | None = None
) -> Iterator[AnswerEvent]:
    """The fake model: evidence first, then tokens with small delays, then the final answer."""
    if any(word in question.lower() for word in ("weather", "football", "recipe")):
        view = AnswerView(question=question, answer=OUT_OF_SCOPE, in_scope=False)
        yield AnswerEvent("evidence", answer=AnswerView(question=question, in_scope=False))
        for piece in OUT_OF_SCOPE.split(" "):
            yield AnswerEvent("delta", text=piece + " ")
        yield AnswerEvent("done", answer=view)
        return
    evidence = (EvidenceView("gan", "Generative Adversarial Networks", GAN_TEXT),)
    sources = (SourceView("gan", "Generative Adversarial Networks", 0.82), SourceView("transformers", "Transformers", 0.41))
    yield AnswerEvent("evidence", answer=AnswerView(question=question, evidence=evidence, sources=sources))
    text = ""
    for token in ANSWER_TOKENS:
        if cancel.is_set():
            if cancelled_flag is not None:
                cancelled_flag.set()
            yield AnswerEvent("done", answer=AnswerView(question, text, evidence, sources, cancelled=True))
            return
        time.sleep(delay)
        text += token
        yield AnswerEvent("delta", text=token)
    shaky = "invent" in question.lower()  # a question the fake model answers without support
    yield AnswerEvent("done", answer=AnswerView(
        question, text, evidence, sources, timings={"total_ms": 10.0},
        supported=not shaky, notice=UNSUPPORTED if shaky else "",
    ))


class FakeTutor:
    """The token script shaped like `tutor.llm.answer.Tutor` (stream / explain_stream)."""

    def __init__(self, delay: float = 0.005) -> None:
        self.delay = delay

    def stream(self, question: str, profile: Any, history: Sequence[tuple[str, str]] = (),
               cancel: threading.Event | None = None) -> Iterator[Any]:
        for event in scripted_answer(question, cancel or threading.Event(), self.delay):
            yield _EngineEvent(event.kind, event.text, _engine_result(event.answer))

    def explain_stream(self, question: str, sections: Sequence[str], learner_answer: str, feedback: str,
                       profile: Any, cancel: threading.Event | None = None) -> Iterator[Any]:
        yield _EngineEvent("delta", "Because ", None)
        yield _EngineEvent("done", "", _engine_result(AnswerView(question=question, answer="Because.")))


@dataclass
class _EngineEvent:
    kind: str
    text: str
    result: Any


def _engine_result(view: AnswerView | None) -> Any:
    if view is None:
        return None
    from types import SimpleNamespace

    return SimpleNamespace(
        question=view.question, answer=view.answer, in_scope=view.in_scope, grounded=view.grounded,
        cancelled=view.cancelled, timings=view.timings, model_id="fake", adapter_id=None,
        evidence=[SimpleNamespace(section_id=e.section_id, title=e.title, text=e.text) for e in view.evidence],
        sources=[SimpleNamespace(section_id=s.section_id, title=s.title, score=s.score) for s in view.sources],
    )


async def wait_until(pilot: Any, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "") -> Any:
    """Poll ``predicate`` between UI pauses until it is truthy; fail with ``what`` after ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - the widget may not exist yet
            value = None
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)
