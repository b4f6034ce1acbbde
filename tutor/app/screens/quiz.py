"""Adaptive quiz: one item at a time, immediate feedback, hints, explanations, a summary."""

from __future__ import annotations

import threading
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, ContentSwitcher, Footer, Label, Markdown, OptionList, ProgressBar, Select, Static
from textual.widgets.markdown import MarkdownStream
from textual.widgets.option_list import Option

from tutor.app.messages import OpenSection
from tutor.app.models import Grade, QuizSummaryView
from tutor.app.screens.base import PageScreen
from tutor.app.services import QuizRun, ServiceError
from tutor.app.widgets.mastery import mastery_change
from tutor.app.widgets.nav import NavBar
from tutor.app.widgets.quiz import MAX_EXPLANATION_CHARS, ChoiceList, FeedbackPanel, ScenarioForm
from tutor.app.styles import STYLE_DIR



class QuizScreen(PageScreen):
    MODE = "quiz"
    CSS_PATH = str(STYLE_DIR / "quiz.tcss")
    AUTO_FOCUS = "#topics"
    KIND: str | None = "multiple_choice"
    TITLE_TEXT = "Quiz"
    INTRO = "Choose a topic; the questions adapt to what you know."
    LENGTHS: tuple[int, ...] = (5, 10, 15, 20)
    DEFAULT_LENGTH = 10
    BINDINGS = [
        Binding("1,a", "choose(0)", "Choose", key_display="1-4/A-D"),
        Binding("2,b", "choose(1)", "Choose", show=False),
        Binding("3,c", "choose(2)", "Choose", show=False),
        Binding("4,d", "choose(3)", "Choose", show=False),
        Binding("h", "hint", "Hint"),
        Binding("e", "explain", "Explain my answer"),
        Binding("n", "next", "Next"),
        Binding("s", "open_section", "Read section", show=False),
        Binding("escape", "stop", "Stop", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.run: QuizRun | None = None
        self.item: Any = None
        self.grade: Grade | None = None
        self.chosen = ""
        self.summary: QuizSummaryView | None = None
        self.hints_shown = 0
        self._busy = False
        self._cancel: threading.Event | None = None
        self._stream: MarkdownStream | None = None
        self.concepts: tuple[str, ...] = ()

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with ContentSwitcher(initial="setup", id="quiz-pages"):
            with VerticalScroll(id="setup"):
                yield Static(f"[b]{self.TITLE_TEXT}[/b]  {self.INTRO}", id="setup-title")
                yield OptionList(id="topics")
                with Horizontal(id="setup-row"):
                    yield Label("Questions", classes="field-label")
                    yield Select(
                        [(str(n), n) for n in self.LENGTHS], value=self.DEFAULT_LENGTH, allow_blank=False,
                        id="length", compact=True,
                    )
                    yield Button("Start", id="start", variant="primary", compact=True)
            with Vertical(id="question"):
                with Horizontal(id="quiz-head"):
                    yield Label("", id="counter")
                    yield ProgressBar(total=10, show_eta=False, id="quiz-progress")
                with VerticalScroll(id="item-scroll"):
                    yield Markdown("", id="stem")
                    yield ChoiceList(id="choices")
                    yield ScenarioForm(self._model_types(), id="scenario")
                    yield Static("", id="hint-box")
                    yield FeedbackPanel(id="feedback")
                    yield Markdown("", id="explain-body")
                with Horizontal(id="item-actions"):
                    yield Button("Hint", id="hint", compact=True)
                    yield Button("Explain my answer", id="explain", compact=True)
                    yield Button("Read the section", id="section", compact=True)
                    yield Button("Next ›", id="next", variant="primary", compact=True)
            with VerticalScroll(id="summary"):
                yield Markdown("", id="summary-text")
                yield Static("", id="summary-mastery")
                with Horizontal(id="summary-actions"):
                    yield Button("Another quiz", id="again", variant="primary", compact=True)
                    yield Button("See my progress", id="progress", compact=True)
        yield Footer()

    def _model_types(self) -> tuple[str, ...]:
        try:
            return self.services.model_types()
        except Exception:  # noqa: BLE001
            return ()

    def on_mount(self) -> None:
        self.query_one("#scenario").display = False
        self.query_one("#hint-box").display = False
        self.query_one("#explain-body").display = False
        self.watch(self.app, "opened", self._fill_topics, init=True)

    def _fill_topics(self, opened: bool) -> None:
        course = self.services.course
        topics = self.query_one("#topics", OptionList)
        if not opened or course is None or topics.option_count:
            return
        topics.add_option(Option(Content.from_markup("[b]Everything[/b] [dim]— the questions you most need[/dim]"), id="*"))
        for objective in course.objectives:
            topics.add_option(Option(Content.assemble(("Objective: ", "dim"), objective.text), id=f"objective:{objective.id}"))
        for concept in course.concepts:
            topics.add_option(Option(concept.name, id=f"concept:{concept.id}"))
        topics.highlighted = 0

    # ------------------------------------------------------------------ start
    @property
    def awaiting_answer(self) -> bool:
        return self.item is not None and self.grade is None

    def start(self, concepts: tuple[str, ...] = (), title: str = "") -> None:
        """Start right away (from chat or lessons) on the given concepts."""
        if self.awaiting_answer and self.run is not None:
            self.notify("Finish or skip the current question first (n skips).", severity="warning")
            return
        length = self.query_one("#length", Select).value
        self._begin(tuple(concepts), None, int(length) if isinstance(length, int) else self.DEFAULT_LENGTH, title)

    @on(OptionList.OptionSelected, "#topics")
    @on(Button.Pressed, "#start")
    def _start_from_setup(self) -> None:
        topics = self.query_one("#topics", OptionList)
        option = topics.get_option_at_index(topics.highlighted) if topics.highlighted is not None else None
        concepts: tuple[str, ...] = ()
        objective = None
        title = ""
        if option is not None and option.id and option.id.startswith("concept:"):
            concepts = (option.id.split(":", 1)[1],)
            title = str(option.prompt)
        elif option is not None and option.id and option.id.startswith("objective:"):
            objective = option.id.split(":", 1)[1]
        length = self.query_one("#length", Select).value
        self._begin(concepts, objective, int(length) if isinstance(length, int) else self.DEFAULT_LENGTH, title)

    def _begin(self, concepts: tuple[str, ...], objective: str | None, length: int, title: str) -> None:
        if self.learner is None:
            self.notify("Choose a learner first (F8).", severity="warning")
            return
        self.concepts = concepts
        self.summary = None
        self.item = None
        self.grade = None
        self.start_run(concepts, objective, length, title)

    @work(thread=True, exclusive=True, group="quiz", exit_on_error=False)
    def start_run(self, concepts: tuple[str, ...], objective: str | None, length: int, title: str) -> None:
        learner = self.learner
        assert learner is not None
        if not self.app.wait_opened():  # type: ignore[attr-defined]
            self.tell("The course is still loading; try again in a moment.", severity="warning")
            return
        try:
            run = self.services.start_quiz(
                learner.id, concepts=concepts or None, objective=objective, length=length, kind=self.KIND
            )
            item = run.next_item()
        except ServiceError as exc:
            self.tell(f"{exc.message}\n{exc.fix}".strip(), severity="error", title="Could not start")
            return
        except Exception as exc:  # noqa: BLE001
            self.tell(f"Could not start: {_msg(exc)}", severity="error")
            return
        if item is None:
            self.tell("There are no questions for this topic yet.", severity="warning")
            return
        self.ui(self._started, run, item, title)

    async def _started(self, run: QuizRun, item: Any, title: str) -> None:
        self.run = run
        if title:
            self.notify(f"{self.TITLE_TEXT} on {title}")
        await self._show_item(item)

    # ------------------------------------------------------------------ items
    async def _show_item(self, item: Any) -> None:
        self.item = item
        self.grade = None
        self.chosen = ""
        self.hints_shown = 0
        self.query_one("#quiz-pages", ContentSwitcher).current = "question"
        answered, length = self.run.progress if self.run else (0, 1)
        bar = self.query_one("#quiz-progress", ProgressBar)
        bar.update(total=max(1, length), progress=answered)
        self.query_one("#counter", Label).update(f"Question {answered + 1} of {length}")
        self.query_one("#hint-box", Static).display = False
        self.query_one("#feedback", FeedbackPanel).hide()
        explain = self.query_one("#explain-body", Markdown)
        explain.display = False
        await explain.update("")
        choices = self.query_one("#choices", ChoiceList)
        scenario = self.query_one("#scenario", ScenarioForm)
        if getattr(item, "kind", "") == "multiple_choice":
            await self.query_one("#stem", Markdown).update(item.stem)
            self.query_one("#stem").display = True
            choices.display = True
            choices.disabled = False
            choices.show_options(item.options)
            scenario.display = False
            choices.focus()
        else:
            self.query_one("#stem").display = False
            choices.display = False
            scenario.display = True
            await scenario.load(f"**Scenario.** {item.scenario}")
            scenario.query_one(".model-types").focus()
        self.query_one("#item-scroll", VerticalScroll).scroll_home(animate=False)
        self._show_actions(answered=False)
        self.refresh_bindings()

    def _show_actions(self, *, answered: bool) -> None:
        """Before an answer only Hint makes sense; after it, explain, read and next."""
        self.query_one("#hint", Button).display = not answered
        for button_id in ("#explain", "#next"):
            self.query_one(button_id, Button).display = answered
        self.query_one("#section", Button).display = answered and bool(getattr(self.item, "sections", ()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose":
            return self.awaiting_answer and getattr(self.item, "kind", "") == "multiple_choice"
        if action == "hint":
            return self.awaiting_answer
        if action in ("explain", "next"):
            return self.grade is not None
        if action == "open_section":
            return self.grade is not None and bool(getattr(self.item, "sections", ()))
        return True

    def action_choose(self, index: int) -> None:
        if not self.awaiting_answer or self._busy:
            return
        options = getattr(self.item, "options", ())
        if index >= len(options):
            return
        self.submit_answer(options[index].key)

    @on(OptionList.OptionSelected, "#choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.awaiting_answer and event.option.id and not self._busy:
            self.submit_answer(event.option.id)

    @on(ScenarioForm.Submitted)
    def _scenario_submitted(self, event: ScenarioForm.Submitted) -> None:
        event.stop()
        if not event.model_type:
            self.notify("Choose a model type first (the list on the left; Enter picks).", severity="warning")
            return
        explanation = event.explanation.strip()
        if not explanation:
            self.notify("Write a sentence or two on why that model fits.", severity="warning")
            return
        if len(explanation) > MAX_EXPLANATION_CHARS:
            explanation = explanation[:MAX_EXPLANATION_CHARS]
            self.notify(f"Your explanation was long; the first {MAX_EXPLANATION_CHARS} characters were graded.", severity="warning")
        self.submit_answer((event.model_type, explanation))

    def submit_answer(self, answer: str | tuple[str, str]) -> None:
        self._busy = True
        self.chosen = answer if isinstance(answer, str) else f"{answer[0]}: {answer[1]}"
        self.grade_answer(answer)

    @work(thread=True, exclusive=True, group="quiz", exit_on_error=False)
    def grade_answer(self, answer: str | tuple[str, str]) -> None:
        try:
            assert self.run is not None
            grade = self.run.submit(answer)
        except ServiceError as exc:
            self.tell(f"{exc.message}\n{exc.fix}".strip(), severity="error", title="Could not grade")
            self.ui(self._unbusy)
            return
        except Exception as exc:  # noqa: BLE001
            self.tell(f"Could not grade your answer: {_msg(exc)}", severity="error")
            self.ui(self._unbusy)
            return
        self.ui(self._graded, grade)

    def _unbusy(self) -> None:
        self._busy = False

    async def _graded(self, grade: Grade) -> None:
        self._busy = False
        self.grade = grade
        item = self.item
        if getattr(item, "kind", "") == "multiple_choice":
            correct_key = getattr(item, "answer", None)
            choices = self.query_one("#choices", ChoiceList)
            choices.mark(item.options, self.chosen, correct_key)
            model_answer = ""
        else:
            self.query_one("#scenario", ScenarioForm).freeze()
            model_answer = getattr(item, "model_answer", "")
            if grade.correct_answer:
                model_answer = f"*Best fit: {grade.correct_answer}.* {model_answer}"
        await self.query_one("#feedback", FeedbackPanel).show(grade, self.services.concept_name, model_answer)
        if self.run is not None:
            answered, length = self.run.progress
            self.query_one("#quiz-progress", ProgressBar).update(total=max(1, length), progress=answered)
        self._show_actions(answered=True)
        self.query_one("#next", Button).focus()
        self.refresh_bindings()
        self.call_after_refresh(self.query_one("#item-scroll", VerticalScroll).scroll_to_widget, self.query_one("#feedback"))

    # ------------------------------------------------------------------ hints
    @on(Button.Pressed, "#hint")
    def _hint_button(self) -> None:
        self.action_hint()

    def action_hint(self) -> None:
        if not self.awaiting_answer or self.run is None:
            self.notify("Hints are for the question you are answering.")
            return
        if self.hints_shown >= 3:
            self.notify("That was the last hint. Have a go, or read the section after answering.")
            return
        self.fetch_hint()

    @work(thread=True, exclusive=True, group="quiz-hint", exit_on_error=False)
    def fetch_hint(self) -> None:
        try:
            assert self.run is not None
            hint = self.run.hint()
        except Exception as exc:  # noqa: BLE001
            self.tell(f"No hint available: {_msg(exc)}", severity="warning")
            return
        self.ui(self._show_hint, hint.level, hint.text)

    def _show_hint(self, level: int, text: str) -> None:
        self.hints_shown = max(self.hints_shown + 1, level)
        box = self.query_one("#hint-box", Static)
        box.update(Content.assemble((f"Hint {level} of 3  ", "bold $warning"), text))
        box.display = True

    # ------------------------------------------------------------------ explain
    @on(Button.Pressed, "#explain")
    def _explain_button(self) -> None:
        self.action_explain()

    def action_explain(self) -> None:
        if self.grade is None or self.learner is None:
            self.notify("Answer first; then the tutor can explain your answer.")
            return
        if self._cancel is not None:
            return  # already explaining
        learner_answer = self.chosen
        options = {o.key: o.text for o in getattr(self.item, "options", ())}
        if self.chosen in options:
            learner_answer = f"{self.chosen}. {options[self.chosen]}"
        body = self.query_one("#explain-body", Markdown)
        body.display = True
        self.call_after_refresh(self.query_one("#item-scroll", VerticalScroll).scroll_end, animate=False)
        self._cancel = threading.Event()
        self._stream = None
        self.explain(learner_answer, self._cancel)

    @work(thread=True, exclusive=True, group="quiz-explain", exit_on_error=False)
    def explain(self, learner_answer: str, cancel: threading.Event) -> None:
        text = ""
        learner = self.learner
        try:
            assert self.grade is not None and learner is not None
            self.ui(self._explain_status, "*The tutor is thinking…*")
            events = self.services.explain(self.item, learner_answer, self.grade, learner, cancel)
            try:
                for event in events:
                    if cancel.is_set():
                        break
                    if event.kind == "delta":
                        text += event.text
                        self.ui(self._explain_delta, event.text)
                    elif event.kind == "done" and event.answer is not None and event.answer.answer:
                        text = event.answer.answer
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()
        except ServiceError as exc:
            text = f"*{exc.message}* {exc.fix}"
        except Exception as exc:  # noqa: BLE001
            text = f"*The tutor could not explain this: {_msg(exc)}*"
        self.ui(self._explain_done, text + ("\n\n*(stopped)*" if cancel.is_set() else ""))

    async def _explain_status(self, text: str) -> None:
        await self.query_one("#explain-body", Markdown).update(text)

    async def _explain_delta(self, delta: str) -> None:
        body = self.query_one("#explain-body", Markdown)
        if self._stream is None:
            await body.update("")
            self._stream = Markdown.get_stream(body)
        await self._stream.write(delta)
        self.query_one("#item-scroll", VerticalScroll).scroll_end(animate=False)

    async def _explain_done(self, text: str) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self.query_one("#explain-body", Markdown).update(f"**Tutor:** {text}" if text else "")
        self._cancel = None
        self.call_after_refresh(self.query_one("#item-scroll", VerticalScroll).scroll_end, animate=False)

    def action_stop(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def on_unmount(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    # ------------------------------------------------------------------ next/end
    @on(Button.Pressed, "#next")
    def _next_button(self) -> None:
        self.action_next()

    def action_next(self) -> None:
        if self.run is None:
            return
        if self.awaiting_answer:
            return
        if self._cancel is not None:
            self._cancel.set()
        self.advance()

    @work(thread=True, exclusive=True, group="quiz", exit_on_error=False)
    def advance(self) -> None:
        try:
            assert self.run is not None
            item = self.run.next_item()
            if item is not None:
                self.ui(self._show_item, item)
                return
            summary = self.run.end()
        except Exception as exc:  # noqa: BLE001
            self.tell(f"Could not continue: {_msg(exc)}", severity="error")
            return
        self.ui(self._finished, summary)

    async def _finished(self, summary: QuizSummaryView) -> None:
        self.summary = summary
        self.item = None
        self.grade = None
        self.run = None
        await self.query_one("#summary-text", Markdown).update(summary_markdown(summary, self.TITLE_TEXT))
        names = {cid: self.services.concept_name(cid) for cid in summary.mastery_after}
        width = max((len(n) for n in names.values()), default=0)
        lines = [
            mastery_change(names[cid], summary.mastery_before.get(cid), after, width=width)
            for cid, after in summary.mastery_after.items()
        ]
        mastery = self.query_one("#summary-mastery", Static)
        mastery.update(Content("\n").join([Content.from_markup("[b]Mastery[/b]"), *lines]) if lines else "")
        mastery.display = bool(lines)
        self.query_one("#quiz-pages", ContentSwitcher).current = "summary"
        self.query_one("#again", Button).focus()
        self.refresh_bindings()

    @on(Button.Pressed, "#again")
    def _again(self) -> None:
        self.summary = None
        self.query_one("#quiz-pages", ContentSwitcher).current = "setup"
        self.query_one("#topics", OptionList).focus()

    @on(Button.Pressed, "#progress")
    async def _to_progress(self) -> None:
        await self.app.goto("progress")  # type: ignore[attr-defined]

    @on(Button.Pressed, "#section")
    def action_open_section(self) -> None:
        sections = getattr(self.item, "sections", ())
        if sections:
            self.post_message(OpenSection(sections[0]))


STOPPED = {
    "mastered": "You know these concepts well, so the quiz stopped early.",
    "exhausted": "You have answered every question on this topic.",
    "blocked": "The next questions build on concepts you have not mastered yet: practise those first.",
}


def summary_markdown(summary: QuizSummaryView, what: str = "Quiz") -> str:
    lines = [f"## {what} finished", ""]
    if summary.answered:
        lines.append(f"**{summary.correct} of {summary.answered} correct** · score {summary.score:.0%}")
    else:
        lines.append("No questions answered.")
    if summary.stopped in STOPPED:
        lines += ["", STOPPED[summary.stopped]]
    if summary.review_next:
        lines += ["", "**Study next**", ""] + [f"- {line}" for line in summary.review_next]
    return "\n".join(lines)


def _msg(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())[:300]
