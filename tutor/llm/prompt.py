"""The tutor's prompt format: the ONE place it is defined.

The LoRA training data (`tutor.llm.train_data`) renders its examples with
`build_prompt` too, so the model is fine-tuned on exactly what it sees at run
time. Change the wording here and the adapter must be retrained.

Layout (the model's chat template, ChatML for SmolLM2)::

    system:    role + rules + the learner's level and style (+ weak concepts, when known)
    user/assistant: recent conversation turns, oldest first (explanations only, no passages)
    user:      "Lesson text:", then 'From "Title":' + text for each passage, then "Question: ..."
               (+ "Key sentence: ..." when the evidence's key sentence is given)
    assistant: generation starts here (optionally after ``answer_start``)

Token budget: the prompt must leave ``reserve`` tokens (the answer's maximum
length) free in the context window. When it does not fit, the oldest
conversation turns go first, then passages are trimmed from the last (least
relevant) one backwards, sentence by sentence, the first passage last; a
question longer than everything else is cut as a last resort.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tutor.llm.errors import LLMError
from tutor.llm.text import join_sentences, split_sentences

LEVELS = ("beginner", "intermediate", "advanced")
STYLES = ("analogy", "example", "step-by-step", "concise")

SYSTEM_RULES = (
    "You are a patient tutor for the course \"{course}\". "
    "Answer the student's question using only the lesson text. "
    "Begin with the fact from the lesson that answers the question, then explain it. "
    "Do not add facts that are not in the lesson text. "
    "If the lesson text does not answer the question, say that the lesson does not cover it."
)

LEVEL_TEXT = {
    "beginner": "The student is a beginner: use plain everyday words and explain any technical term.",
    "intermediate": "The student knows the basics: use the lesson's terms and connect the ideas.",
    "advanced": "The student is advanced: be precise and technical, and relate it to other models in the lesson.",
}
STYLE_TEXT = {
    "analogy": "Explain it with a simple analogy.",
    "example": "Give one concrete example.",
    "step-by-step": "Explain it in short numbered steps.",
    "concise": "Keep it short: two or three sentences.",
}
WEAK_TEXT = "The student is still working on: {concepts}. Connect the answer to them if the lesson text allows."
PASSAGES_HEADER = "Lesson text:"
QUESTION_LABEL = "Question:"
KEY_SENTENCE_LABEL = "Key sentence:"
# Where a model that starts reciting the prompt's layout is stopped (it has finished its answer by then).
STOP_STRINGS = ("\nQuestion:", "\nFrom \"", "\nLesson text:", "\nKey sentence:", "<|im_")
DEFAULT_COURSE = "Advanced Generative AI: Models and Architecture"

# The answer starts with the evidence's key sentences, then one of these openers hands over to the
# model, so its first words already explain at the learner's style (instead of a "The answer is:" tic).
OPENERS = {
    "analogy": "Think of it like this:",
    "example": "For example,",
    "step-by-step": "Step by step:\n1.",
    "concise": "In short,",
}


# How an answer is seeded. The base model writes best after a style opener (measured, `tutor.llm.answer`);
# an adapter trained on key-sentence seeds continues on its own in the learner's level and style. The
# adapter's card names the seed it was trained with ("prompt": {"answer_seed": ...}).
SEED_WITH_OPENER = "key+opener"
SEED_KEY_ONLY = "key"
ANSWER_SEEDS = (SEED_WITH_OPENER, SEED_KEY_ONLY)


# A beginner's answer always hands over with a plain-words opener after the lesson sentences, whatever the
# model's seed: the quoted lesson text is written for advanced readers, and without the opener the model
# (base or adapter) mostly stops after the quote or repeats it, so beginner and advanced answers read
# nearly the same (first 20 dev questions, the adapter trained without it: Flesch-Kincaid grade 13.6 beginner
# vs 14.5 advanced without the opener, 12.1 vs 14.5 with it). Analogy and step-by-step keep their own
# openers, which are already plain. The adapter is trained on these seeds (`train_data.runtime_renderer`).
BEGINNER_OPENER = "In simple words,"
BEGINNER_KEEPS_STYLE_OPENER = ("analogy", "step-by-step")


def without_opener(text: str) -> str:
    """``text`` without the opener it starts with, if any ("In simple words, the discriminator ..." -> "the ...").

    The opener is the tutor's seeded text, like the key sentences before it: the grounding check judges the
    model's claim, not the seeded words, which are never in the evidence and so read as invented
    (`tutor eval grounding`).
    """
    head = text.lstrip()
    for words in sorted({*OPENERS.values(), BEGINNER_OPENER}, key=len, reverse=True):
        if head.startswith(words):
            return head[len(words) :].lstrip()
    return text


def opener_for(level: str, style: str, opener: bool = True) -> str:
    """The words that hand the answer over to the model after the key sentences ("" for none)."""
    if level == "beginner":
        return OPENERS[style] if style in BEGINNER_KEEPS_STYLE_OPENER else BEGINNER_OPENER
    return OPENERS[style] if opener else ""


def answer_opening(key_sentences: Sequence[str], style: str, opener: bool = True, level: str = "intermediate") -> str:
    """The seeded start of an answer: the key lesson sentences, then the level's and style's opener."""
    key = join_sentences(list(key_sentences))
    words = opener_for(level, style, opener)
    if key and not key.endswith((".", "!", "?", "\"", ")")):
        key += "."  # a list item or table row: close it before the opener or the model's words
    if not words:
        return key
    return f"{key} {words}" if key else words


def answer_stop_strings(style: str) -> tuple[str, ...]:
    """Where an answer ends: the prompt's layout echoed, or the end of its paragraph (a list for step-by-step)."""
    return STOP_STRINGS + (("\n\n",) if style == "step-by-step" else ("\n",))


def answer_request(
    question: str,
    passages: Sequence[PromptPassage],
    *,
    key_sentences: Sequence[str] = (),
    level: str = "intermediate",
    style: str = "example",
    history: Sequence[tuple[str, str]] = (),
    weak_concepts: Sequence[str] = (),
    course_title: str = DEFAULT_COURSE,
    opener: bool = True,
) -> PromptRequest:
    """The request the tutor builds at run time (evidence-first: key sentences restated and seeded).

    For fine-tuning data: render it with `build_prompt(...).text`; the training target is the
    text the model writes AFTER ``answer_start`` (key sentences + the style's opener), i.e. the
    explanation continuing "For example," / "In short," / "Think of it like this:" / "Step by step:\n1.".
    At run time the key sentences come from `tutor.llm.evidence.pick_evidence`.
    """
    return PromptRequest(
        question=question,
        passages=tuple(passages),
        level=level,
        style=style,
        weak_concepts=tuple(weak_concepts),
        history=tuple(history),
        key_sentence=join_sentences(list(key_sentences)),
        answer_start=answer_opening(key_sentences, style, opener, level),
        course_title=course_title,
    )


# Attempt feedback ("explain my answer" after a quiz item).
ATTEMPT_TEXT = (
    "The student answered a quiz question.\nQuiz question: {question}\nStudent's answer: {answer}\n"
    "Correct answer and feedback: {feedback}\n"
    "Explain why the correct answer is right, and where the student's answer went wrong if it did."
)


@dataclass(frozen=True)
class PromptPassage:
    """A lesson passage as the model sees it: its section title and its text."""

    section_id: str
    title: str
    text: str


@dataclass(frozen=True)
class PromptRequest:
    """Everything that goes into one prompt."""

    question: str
    passages: Sequence[PromptPassage] = ()
    level: str = "intermediate"
    style: str = "example"
    weak_concepts: Sequence[str] = ()  # concept names, weakest first
    history: Sequence[tuple[str, str]] = ()  # (role, text), oldest first; role "user" | "assistant"
    key_sentence: str = ""  # the evidence's key sentence, restated right before the answer slot
    answer_start: str = ""  # text the assistant turn is seeded with (generation continues after it)
    course_title: str = DEFAULT_COURSE


@dataclass(frozen=True)
class BuiltPrompt:
    """The rendered prompt and what had to be cut to fit the budget."""

    text: str
    input_ids: list[int]
    messages: list[dict[str, str]]
    dropped_turns: int = 0
    trimmed_sentences: int = 0
    dropped_passages: int = 0
    question_cut: bool = False
    passages: tuple[PromptPassage, ...] = field(default_factory=tuple)

    @property
    def tokens(self) -> int:
        return len(self.input_ids)


def check_profile(level: str, style: str) -> None:
    if level not in LEVELS:
        raise LLMError(f"level must be one of {', '.join(LEVELS)} (got {level!r})")
    if style not in STYLES:
        raise LLMError(f"style must be one of {', '.join(STYLES)} (got {style!r})")


def system_text(request: PromptRequest) -> str:
    parts = [SYSTEM_RULES.format(course=request.course_title), LEVEL_TEXT[request.level], STYLE_TEXT[request.style]]
    if request.weak_concepts:
        parts.append(WEAK_TEXT.format(concepts=", ".join(request.weak_concepts)))
    return " ".join(parts)


def passages_text(passages: Sequence[PromptPassage]) -> str:
    blocks = [f"From \"{p.title}\":\n{p.text.strip()}" for p in passages if p.text.strip()]
    return PASSAGES_HEADER + "\n\n" + "\n\n".join(blocks) if blocks else PASSAGES_HEADER + "\n(none)"


def user_text(request: PromptRequest) -> str:
    parts = [passages_text(request.passages), f"{QUESTION_LABEL} {request.question.strip()}"]
    if request.key_sentence:
        parts.append(f"{KEY_SENTENCE_LABEL} {request.key_sentence.strip()}")
    return "\n\n".join(parts)


def messages_for(request: PromptRequest) -> list[dict[str, str]]:
    """The chat messages, before the chat template is applied."""
    check_profile(request.level, request.style)
    messages = [{"role": "system", "content": system_text(request)}]
    for role, content in request.history:
        if role not in ("user", "assistant"):
            raise LLMError(f"history roles must be 'user' or 'assistant' (got {role!r})")
        if content.strip():
            messages.append({"role": role, "content": content.strip()})
    messages.append({"role": "user", "content": user_text(request)})
    return messages


def render(tokenizer: Any, request: PromptRequest) -> str:
    """The prompt text, ending where the model's answer starts (after ``answer_start``)."""
    text = tokenizer.apply_chat_template(messages_for(request), tokenize=False, add_generation_prompt=True)
    return text + request.answer_start


def _count(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _trim_passages(
    passages: list[PromptPassage], free: int, count: Any
) -> tuple[list[PromptPassage], int, int] | None:
    """Take about ``free`` tokens off the passages: sentences from the end of the last passage first.

    A passage after the first that loses its last sentence is dropped; the first keeps at least one
    (halved when it is one very long sentence). Returns (passages, sentences removed, passages dropped),
    or None when nothing is left to take.
    """
    passages = list(passages)
    removed = dropped = 0
    freed = 0
    index = len(passages) - 1
    while index >= 0 and freed < free:
        sentences = split_sentences(passages[index].text)
        if index > 0 and len(sentences) <= 1:
            freed += len(count(passages[index].text + passages[index].title)) + 6
            passages.pop(index)
            dropped += 1
            index -= 1
            continue
        if len(sentences) > 1:
            while len(sentences) > 1 and freed < free:
                freed += len(count(sentences.pop())) + 1
                removed += 1
            passages[index] = replace(passages[index], text=" ".join(sentences))
            if freed >= free:
                break
            if index > 0:
                continue  # down to one sentence: dropped on the next pass
        words = passages[index].text.split()
        if index == 0 and len(words) > 12:  # one very long sentence left: halve it
            passages[index] = replace(passages[index], text=" ".join(words[: len(words) // 2]) + " ...")
            freed += len(words) // 2
            removed += 1
            continue
        index -= 1
    if removed == 0 and dropped == 0:
        return None
    return passages, removed, dropped


def build_prompt(tokenizer: Any, request: PromptRequest, *, context_tokens: int = 2048, reserve: int = 160) -> BuiltPrompt:
    """Render ``request`` so that prompt + ``reserve`` answer tokens fit in ``context_tokens``.

    Raises `LLMError` when even the bare system text and a cut question do not fit.
    """
    budget = context_tokens - reserve
    if budget <= 0:
        raise LLMError(f"the answer reserve ({reserve}) leaves no room in a {context_tokens}-token window")
    history = list(request.history)
    passages = list(request.passages)
    dropped_turns = trimmed = dropped_passages = 0
    question_cut = False

    def build(req: PromptRequest) -> tuple[str, list[int]]:
        text = render(tokenizer, req)
        return text, _count(tokenizer, text)

    current = replace(request, history=tuple(history), passages=tuple(passages))
    text, ids = build(current)
    if len(ids) > budget and history:
        # estimate first (one tokenisation per turn), then verify: long histories cost one pass, not one per turn
        over = len(ids) - budget
        while history and over > 0:
            over -= len(_count(tokenizer, history[0][1])) + 4
            history.pop(0)
            dropped_turns += 1
        current = replace(current, history=tuple(history))
        text, ids = build(current)
        while len(ids) > budget and history:
            history.pop(0)
            dropped_turns += 1
            current = replace(current, history=tuple(history))
            text, ids = build(current)
    while len(ids) > budget:
        step = _trim_passages(passages, len(ids) - budget, lambda s: _count(tokenizer, s))
        if step is None:
            break
        passages, removed, dropped = step
        trimmed += removed
        dropped_passages += dropped
        current = replace(current, passages=tuple(passages))
        text, ids = build(current)
    if len(ids) > budget:
        # a question longer than the window: keep its start, as many tokens as still fit
        question_ids = _count(tokenizer, current.question)
        keep = len(question_ids) - (len(ids) - budget) - 8
        while keep > 0 and len(ids) > budget:
            question = tokenizer.decode(question_ids[:keep], skip_special_tokens=True)
            current = replace(current, question=question)
            text, ids = build(current)
            keep -= 8
            question_cut = True
    if len(ids) > budget:
        raise LLMError(
            f"the prompt needs {len(ids)} tokens but only {budget} fit (window {context_tokens}, answer {reserve})"
        )
    return BuiltPrompt(
        text=text,
        input_ids=ids,
        messages=messages_for(current),
        dropped_turns=dropped_turns,
        trimmed_sentences=trimmed,
        dropped_passages=dropped_passages,
        question_cut=question_cut,
        passages=tuple(current.passages),
    )


def attempt_question(question: str, learner_answer: str, feedback: str) -> str:
    """The user-turn text for "explain my answer": the learner's own attempt is part of the prompt."""
    return ATTEMPT_TEXT.format(question=question.strip(), answer=learner_answer.strip(), feedback=feedback.strip())
