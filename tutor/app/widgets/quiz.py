"""Widgets the quiz and exercise screens share: options, feedback, the scenario form."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Label, Markdown, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tutor.app.models import Grade
from tutor.app.widgets.mastery import mastery_change

#: Longest exercise explanation kept (with a notice): longer ones are cut.
MAX_EXPLANATION_CHARS = 4000

VERDICTS = {
    "correct": ("✓ Correct", "-correct"),
    "partial": ("◐ Partly right", "-partial"),
    "incorrect": ("✗ Not quite", "-incorrect"),
}


class ChoiceList(OptionList):
    """The options of a multiple-choice item: arrows and Enter, or 1–4 / A–D on the screen."""

    def show_options(self, options: Sequence[Any]) -> None:
        self.clear_options()
        self.add_options([Option(Content.assemble((f"{o.key}) ", "bold"), o.text), id=o.key) for o in options])
        self.highlighted = 0 if options else None

    def mark(self, options: Sequence[Any], chosen: str, correct_key: str | None) -> None:
        """After an answer: tick the right option, cross a wrong choice."""
        self.clear_options()
        for o in options:
            if o.key == correct_key:
                prompt = Content.assemble(("✓ ", "$success bold"), (f"{o.key}) ", "bold"), o.text)
            elif o.key == chosen:
                prompt = Content.assemble(("✗ ", "$error bold"), (f"{o.key}) ", "bold"), o.text)
            else:
                prompt = Content.assemble("  ", (f"{o.key}) ", "bold"), (o.text, "dim"))
            self.add_option(Option(prompt, id=o.key, disabled=o.key not in (chosen, correct_key)))


class FeedbackPanel(Vertical):
    """Verdict, feedback, key points and what the answer did to mastery."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="verdict")
        yield Markdown("", classes="feedback-body")
        yield Static("", classes="mastery-change")

    def on_mount(self) -> None:
        self.display = False

    async def show(self, grade: Grade, concept_name: Callable[[str], str], model_answer: str = "") -> None:
        label, cls = VERDICTS.get(grade.verdict, VERDICTS["correct" if grade.correct else "incorrect"])
        verdict = self.query_one(".verdict", Static)
        verdict.remove_class("-correct", "-partial", "-incorrect")
        verdict.add_class(cls)
        score = f"  ({grade.score:.0%})" if grade.verdict == "partial" or grade.key_points_met or grade.key_points_missed else ""
        verdict.update(label + score)
        await self.query_one(".feedback-body", Markdown).update(feedback_markdown(grade, model_answer))
        names = {cid: concept_name(cid) for cid in grade.mastery_after}
        width = max((len(n) for n in names.values()), default=0)
        changes = [
            mastery_change(names[cid], grade.mastery_before.get(cid), after, width=width)
            for cid, after in grade.mastery_after.items()
        ]
        block = self.query_one(".mastery-change", Static)
        block.update(Content("\n").join([Content.from_markup("[b]Mastery[/b]"), *changes]) if changes else "")
        block.display = bool(changes)
        self.display = True

    def hide(self) -> None:
        self.display = False


def feedback_markdown(grade: Grade, model_answer: str = "") -> str:
    parts: list[str] = []
    if grade.feedback:
        parts.append(grade.feedback)
    if grade.key_points_met:
        parts.append("**Key points you made**\n\n" + "\n".join(f"- ✓ {p}" for p in grade.key_points_met))
    if grade.key_points_missed:
        parts.append("**Key points missing**\n\n" + "\n".join(f"- ✗ {p}" for p in grade.key_points_missed))
    if grade.explanation and grade.explanation != grade.feedback:
        parts.append(grade.explanation)
    if model_answer:
        parts.append(f"**A model answer**\n\n{model_answer}")
    return "\n\n".join(parts)


class ScenarioForm(Vertical):
    """A scenario, the model types to pick from and the student's explanation."""

    class Submitted(Message):
        def __init__(self, form: ScenarioForm, model_type: str, explanation: str) -> None:
            super().__init__()
            self.form = form
            self.model_type = model_type
            self.explanation = explanation

    def __init__(self, model_types: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id, classes="scenario-form")
        self.model_types = tuple(model_types)
        self.chosen: str | None = None

    def compose(self) -> ComposeResult:
        yield Markdown("", classes="scenario-text")
        with Horizontal(classes="scenario-answer"):
            with Vertical(classes="model-pick"):
                yield Label("Which model fits?", classes="pick-label")
                yield OptionList(*self._prompts(), classes="model-types")
            with Vertical(classes="explain-box"):
                yield Label("Why? Explain in your own words", classes="pick-label")
                yield TextArea(
                    "", soft_wrap=True, tab_behavior="focus", classes="explanation",
                    placeholder="Which features of the task make this model the right choice?",
                )
        with Horizontal(classes="scenario-buttons"):
            yield Button("Check my answer", id="check", variant="primary", compact=True)

    def _prompts(self) -> list[Option]:
        return [
            Option(("● " if t == self.chosen else "○ ") + display_model_type(t), id=t) for t in self.model_types
        ]

    async def load(self, scenario_text: str) -> None:
        """A fresh scenario: clear the choice and the text, keep the widget."""
        self.chosen = None
        await self.query_one(".scenario-text", Markdown).update(scenario_text)
        picker = self.query_one(".model-types", OptionList)
        picker.clear_options()
        picker.add_options(self._prompts())
        picker.highlighted = None
        area = self.query_one(".explanation", TextArea)
        area.text = ""
        area.read_only = False
        picker.disabled = False
        self.query_one("#check", Button).display = True

    def freeze(self) -> None:
        """After grading: the answer stays readable but can't be changed."""
        self.query_one(".explanation", TextArea).read_only = True
        self.query_one(".model-types", OptionList).disabled = True
        self.query_one("#check", Button).display = False

    @property
    def explanation(self) -> str:
        return self.query_one(".explanation", TextArea).text

    @on(OptionList.OptionSelected, ".model-types")
    def _choose(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.chosen = event.option.id
        picker = self.query_one(".model-types", OptionList)
        index = picker.highlighted
        picker.clear_options()
        picker.add_options(self._prompts())
        picker.highlighted = index
        self.query_one(".explanation", TextArea).focus()

    @on(Button.Pressed, "#check")
    def _check(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        self.post_message(self.Submitted(self, self.chosen or "", self.explanation))


def display_model_type(model_type: str) -> str:
    names = {
        "vae": "VAE", "gan": "GAN", "rnn": "RNN", "lstm": "LSTM", "gru": "GRU", "cnn": "CNN",
        "autoencoder": "Autoencoder", "transformer": "Transformer", "diffusion": "Diffusion model",
        "feedforward": "Feedforward network",
    }
    return names.get(model_type, model_type)
