"""The answer pipeline: retrieve, show the lesson's evidence, let the model explain around it.

Why "evidence first": in a pilot the top-3 retrieved passages held the answer
for 30/32 questions, yet SmolLM2-135M stated the key fact in only 16/32 (it
pads with invented detail or copies a sentence from the wrong passage). So
every answer carries the lesson text that answers the question, quoted with
its section; the model only reads that evidence, the evidence's key sentence
is restated right before the answer slot, and the explanation's share of
evidence-supported sentences is scored (`tutor.llm.grounding`). An
explanation under the support threshold is flagged, not presented as fact.
Out-of-scope questions never reach the model: the tutor says the course does
not cover them and names the closest sections.

Contract (see /work/contract.md, "Answer pipeline")::

    tutor = Tutor.load(TutorConfig(course=None, model=None, adapter=None, temperature=0.0, max_new_tokens=160))
    for ev in tutor.stream(question, profile, history=[...], cancel=threading.Event()): ...
    result = tutor.ask(question, profile, history=())
    tutor.explain_stream(question_text, passages_section_ids, learner_answer, correct_answer_feedback, profile, cancel)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from tutor.llm.errors import LLMError
from tutor.llm.evidence import EvidenceConfig, EvidencePick, pick_evidence, sources_of
from tutor.llm.generate import GenerationStats, SamplingConfig, stop_token_ids, stream_text
from tutor.llm.grounding import grounding
from tutor.llm.prompt import (
    DEFAULT_COURSE,
    SEED_WITH_OPENER,
    STOP_STRINGS,
    answer_opening,
    answer_request,
    answer_stop_strings,
    attempt_question,
    build_prompt,
    check_profile,
    without_opener,
)
from tutor.llm.text import after_opener, complete_sentences, drop_repeated_sentences, own_words
from tutor.llm.types import AnswerEvent, AnswerResult, Evidence, Profile, Source

__all__ = [
    "AnswerEvent",
    "AnswerResult",
    "Evidence",
    "Profile",
    "Source",
    "Tutor",
    "TutorConfig",
]

MAX_QUESTION_CHARS = 2000
# Said when the grounding check supports under half of the explanation. Measured against labelled dev answers
# (`tutor eval grounding`): the explanation held at least one unsupported sentence in 20 of the 29 beginner
# answers with the notice (3 of 5 intermediate), but was mostly unsupported in only 6 of the 29; so the notice
# says "parts", not "most".
UNSUPPORTED_NOTICE = "Parts of this explanation go beyond the lesson text: where they differ, trust the quoted lesson."


class RetrieverLike(Protocol):
    def search(self, query: str, k: int = 5) -> Any: ...

    def best_sentences(self, query: str, section_id: str, n: int = 2) -> list[tuple[str, float]]: ...


@dataclass(frozen=True)
class TutorConfig:
    """What to load and how to decode. ``adapter``: None = shipped tutor adapter, "none" = base model, or a path."""

    course: str | Path | None = None
    model: str | Path | None = None
    adapter: str | Path | None = None
    temperature: float = 0.0
    max_new_tokens: int = 160
    seed: int | None = None
    repetition_penalty: float = 1.0
    no_repeat_ngram: int = 0
    one_paragraph: bool = True  # the explanation ends with its paragraph (a list for step-by-step)
    embedder_adapter: str | Path | None = None  # retrieval embedder: None = shipped, "none" = base MiniLM
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    key_sentence: bool = True  # also restate the key sentences in the user turn, right before the answer slot
    seed_answer: bool = True  # the answer starts with the key sentences (+ a style opener, see ``opener``)
    opener: bool | None = None  # the style opener after the key sentences; None = as the adapter was trained
    # Measuring a split of the question set: its own questions must not be search keys
    # (`tutor.retrieval.keys.keys_for_split`); None = the shipped keys.
    keys_for_split: str | None = None


def out_of_scope_text(hits: Sequence[Any]) -> str:
    """The decline message: the course does not cover it, and where the nearest material is."""
    names = [f"\"{h.title}\"" for h in hits[:3]]
    if not names:
        return "The course does not cover that. Try asking about a topic from the lesson."
    closest = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (
        "The course does not cover that, so I won't answer it from memory. "
        f"The closest sections are {closest}; ask about those, or rephrase your question."
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


class Tutor:
    """The loaded pipeline. One answer at a time: a new request cancels the one in progress."""

    def __init__(
        self,
        *,
        retriever: RetrieverLike,
        model: Any,
        tokenizer: Any,
        encode: Callable[[list[str]], Any],
        config: TutorConfig | None = None,
        course: Any = None,
        model_id: str = "model",
        adapter_id: str | None = None,
        context_tokens: int = 2048,
        step_model: Any = None,
        answer_seed: str = SEED_WITH_OPENER,
    ) -> None:
        from tutor.llm.decoder import make_step_model

        self.config = config or TutorConfig()
        self.retriever = retriever
        self.model = model
        self.tokenizer = tokenizer
        self.encode = encode
        self.course = course
        self.model_id = model_id
        self.adapter_id = adapter_id
        self.context_tokens = int(context_tokens)
        self.answer_seed = answer_seed  # how the loaded model was trained to continue (`tutor.llm.prompt`)
        self.step_model = step_model or make_step_model(model, self.context_tokens)
        self.stop_ids = stop_token_ids(tokenizer)
        self.load_seconds: dict[str, float] = {}
        self._model_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._active: threading.Event | None = None
        self.loaded: Any = None  # the LoadedModel when built by `load`

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, config: TutorConfig | None = None) -> Tutor:
        """Load the course, the retriever (MiniLM) and the LM. Heavy: seconds."""
        config = config or TutorConfig()
        if config.max_new_tokens < 1:
            raise LLMError("max_new_tokens must be at least 1")
        if config.temperature < 0:
            raise LLMError("temperature must be 0 (greedy) or more")
        started = time.perf_counter()
        from tutor.content import ContentError, load_course
        from tutor.retrieval.errors import RetrievalError

        lm_thread_s: list[float] = []

        def load_lm() -> Any:
            from tutor.llm.loader import load_model

            lm = load_model(config.model, config.adapter)
            lm_thread_s.append(time.perf_counter() - started)  # with its imports
            return lm

        # The LM loads on a worker thread while this one reads the course and
        # loads the embedder and its cached index: torch releases the GIL in its heavy work, so
        # the two overlap (measured in `tutor bench app`). A daemon thread: quitting the app
        # mid-load must not wait for it.
        lm_load = _Background(load_lm, name="tutor-lm-load")
        try:
            course = load_course(config.course)
        except ContentError as exc:
            raise LLMError(str(exc)) from exc
        course_s = time.perf_counter() - started
        try:
            from tutor.retrieval import Retriever, load_embedder

            embedder = load_embedder(config.embedder_adapter)
            embedder_s = time.perf_counter() - started - course_s
            keys = None
            if config.keys_for_split:
                from tutor.retrieval.keys import keys_for_split

                keys = keys_for_split(course, config.keys_for_split)
            retriever = Retriever.build(course, embedder=embedder, question_keys=keys)
        except RetrievalError as exc:
            raise LLMError(str(exc)) from exc
        retrieval_s = time.perf_counter() - started - course_s
        retrieval_done = time.perf_counter() - started
        lm = lm_load.result()
        tutor = cls(
            retriever=retriever,
            model=lm.model,
            tokenizer=lm.tokenizer,
            encode=embedder.encode,
            config=config,
            course=course,
            model_id=lm.model_id,
            adapter_id=lm.adapter_id,
            context_tokens=lm.context_tokens,
            answer_seed=lm.answer_seed,
        )
        tutor.load_seconds = {
            "course_s": round(course_s, 3),
            "embedder_s": round(embedder_s, 3),
            "retrieval_s": round(retrieval_s, 3),
            "retrieval_done_s": round(retrieval_done, 3),
            "model_s": round(lm.load_seconds, 3),
            "model_done_s": round(lm_thread_s[0], 3) if lm_thread_s else None,
            "total_s": round(time.perf_counter() - started, 3),
        }
        tutor.loaded = lm
        return tutor

    # ------------------------------------------------------------------ helpers
    def _sampling(self) -> SamplingConfig:
        c = self.config
        return SamplingConfig(
            max_new_tokens=c.max_new_tokens,
            temperature=c.temperature,
            repetition_penalty=c.repetition_penalty,
            no_repeat_ngram=c.no_repeat_ngram,
            seed=c.seed,
        )

    def _opener(self) -> bool:
        """Whether the seed ends with the style opener: the config's choice, else the model's training format."""
        if self.config.opener is not None:
            return self.config.opener
        return self.answer_seed == SEED_WITH_OPENER

    def _concept_names(self, ids: Sequence[str]) -> tuple[str, ...]:
        names = []
        for cid in ids:
            try:
                names.append(self.course.concept(cid).name if self.course is not None else cid)
            except (KeyError, AttributeError):
                names.append(str(cid).replace("-", " "))
        return tuple(names)

    def _claim(self, cancel: threading.Event) -> None:
        """Make ``cancel`` the active request, stopping the one before it."""
        with self._state_lock:
            if self._active is not None and self._active is not cancel:
                self._active.set()
            self._active = cancel

    def _release(self, cancel: threading.Event) -> None:
        with self._state_lock:
            if self._active is cancel:
                self._active = None

    def _base_result(self, question: str) -> AnswerResult:
        return AnswerResult(question=question, model_id=self.model_id, adapter_id=self.adapter_id)

    @staticmethod
    def _check_question(question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise LLMError("the question is empty")
        return " ".join(question.split())[:MAX_QUESTION_CHARS]

    # ------------------------------------------------------------------ answering
    def stream(
        self,
        question: str,
        profile: Profile | None = None,
        history: Sequence[tuple[str, str]] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer one question: an "evidence" event, "delta" events, then "done" with the final result."""
        started = time.perf_counter()
        profile = profile or Profile()
        check_profile(profile.level, profile.style)
        question = self._check_question(question)
        cancel = cancel if cancel is not None else threading.Event()
        result = self._base_result(question)
        search = self.retriever.search(question, k=self.config.evidence.hits)
        result.timings["retrieval_ms"] = _ms(time.perf_counter() - started)
        result.scope_score = float(getattr(search, "scope_score", 0.0))
        result.in_scope = bool(search.in_scope)
        if not search.in_scope:
            result.sources = sources_of(search.hits[:3])
            result.answer = out_of_scope_text(search.hits)
            yield AnswerEvent("evidence", result=replace(result, answer=""))
            yield AnswerEvent("delta", text=result.answer)
            result.timings["total_ms"] = _ms(time.perf_counter() - started)
            yield AnswerEvent("done", result=result)
            return
        pick = pick_evidence(question, search.hits, self.retriever.best_sentences,
                             self.config.evidence.for_level(profile.level))
        yield from self._explain(question, pick, profile, history, cancel, result, started)

    def explain_stream(
        self,
        question_text: str,
        passages_section_ids: Sequence[str],
        learner_answer: str,
        correct_answer_feedback: str,
        profile: Profile | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[AnswerEvent]:
        """Explain a quiz answer AFTER it was graded, from the item's sections; the learner's attempt is in the prompt."""
        started = time.perf_counter()
        profile = profile or Profile()
        check_profile(profile.level, profile.style)
        question_text = self._check_question(question_text)
        cancel = cancel if cancel is not None else threading.Event()
        sections = []
        for sid in passages_section_ids:
            try:
                sections.append(self.course.section(sid))
            except (KeyError, AttributeError) as exc:
                raise LLMError(f"unknown section id {sid!r}") from exc
        hits = [_SectionHit(s.id, s.title, _plain(s.text), 1.0) for s in sections]
        pick = pick_evidence(question_text, hits, self.retriever.best_sentences,
                             replace(self.config.evidence.for_level(profile.level), hits=len(hits) or 1))
        prompt_question = attempt_question(question_text, learner_answer, correct_answer_feedback)
        result = self._base_result(question_text)
        result.timings["retrieval_ms"] = 0.0
        yield from self._explain(prompt_question, pick, profile, (), cancel, result, started)

    def _explain(
        self,
        question: str,
        pick: EvidencePick,
        profile: Profile,
        history: Sequence[tuple[str, str]],
        cancel: threading.Event,
        result: AnswerResult,
        started: float,
    ) -> Iterator[AnswerEvent]:
        result.evidence = pick.evidence
        result.sources = pick.sources
        result.key_sentence = pick.key_sentence
        yield AnswerEvent("evidence", result=replace(result, answer="", timings=dict(result.timings)))
        # the same request the fine-tuning data is rendered with (`tutor.llm.prompt.answer_request`)
        request = answer_request(
            question,
            pick.prompt_passages,
            key_sentences=pick.key_sentences,
            level=profile.level,
            style=profile.style,
            history=history,
            weak_concepts=self._concept_names(profile.weak_concepts),
            course_title=getattr(self.course, "title", None) or DEFAULT_COURSE,
            opener=self._opener(),
        )
        if not self.config.key_sentence:
            request = replace(request, key_sentence="")
        if not self.config.seed_answer:
            request = replace(request, answer_start="")
        # no trailing space in the seed: the model's first token carries its own leading space
        seed = request.answer_start
        prompt = build_prompt(
            self.tokenizer, request, context_tokens=self.context_tokens, reserve=self.config.max_new_tokens
        )
        self._claim(cancel)
        stats = GenerationStats()
        pieces: list[str] = []
        first_at: float | None = None
        try:
            with self._model_lock:
                if seed:
                    pieces.append(seed)
                    result.timings["first_text_ms"] = _ms(time.perf_counter() - started)
                    yield AnswerEvent("delta", text=seed)
                for piece in stream_text(
                    self.step_model,
                    self.tokenizer,
                    prompt.input_ids,
                    self._sampling(),
                    cancel=cancel,
                    stats=stats,
                    stop_ids=self.stop_ids,
                    stop_strings=answer_stop_strings(profile.style) if self.config.one_paragraph else STOP_STRINGS,
                    answer_prefix_ids=self.tokenizer(seed, add_special_tokens=False)["input_ids"] if seed else (),
                ):
                    if first_at is None:
                        first_at = time.perf_counter()
                        if "first_text_ms" not in result.timings:
                            result.timings["first_text_ms"] = _ms(first_at - started)
                    if not pieces:
                        piece = piece.lstrip()
                    elif len(pieces) == 1 and seed:
                        if not piece[:1].isspace():
                            piece = " " + piece  # the model opened with a newline (dropped): keep a space
                        piece = after_opener(seed, piece)  # "In simple words, the ..." not ", The ..."
                    pieces.append(piece)
                    yield AnswerEvent("delta", text=piece)
        finally:
            self._release(cancel)
        text = "".join(pieces).strip()
        if stats.stop_reason == "length":
            text = complete_sentences(text)
        text = drop_repeated_sentences(text)
        key = answer_opening(pick.key_sentences, profile.style, opener=False) if seed else ""
        if seed and key and text == seed.strip() and seed.strip() != key:
            text = key  # the model added nothing after the opener: do not leave "In simple words," dangling
        result.answer = text
        result.cancelled = stats.stop_reason == "cancelled"
        result.timings["ttft_ms"] = _ms((first_at or time.perf_counter()) - started)
        result.timings["tokens_per_s"] = round(stats.tokens_per_s, 1)
        result.timings["prompt_tokens"] = float(stats.prompt_tokens)
        result.timings["new_tokens"] = float(stats.new_tokens)
        # judge what the model wrote: the seed is lesson text and the tutor's opener, by construction
        own = without_opener(own_words(text, key))
        check = grounding(
            own, [e.text for e in pick.evidence] + [p.text for p in pick.prompt_passages], self.encode, question=question
        )
        if check.score is None and text:
            check = replace(check, score=1.0, supported=True)  # the answer is only the seeded lesson text
        result.grounded = check.score
        result.supported = check.supported
        result.claims = list(check.sentences)
        if check.supported is False:
            result.notice = UNSUPPORTED_NOTICE
        result.timings["total_ms"] = _ms(time.perf_counter() - started)
        yield AnswerEvent("done", result=result)

    def ask(
        self,
        question: str,
        profile: Profile | None = None,
        history: Sequence[tuple[str, str]] = (),
        cancel: threading.Event | None = None,
    ) -> AnswerResult:
        """The final result of `stream` (no streaming)."""
        final: AnswerResult | None = None
        for event in self.stream(question, profile, history, cancel):
            if event.kind == "done":
                final = event.result
        assert final is not None
        return final


class _Background:
    """Run ``fn`` on a daemon thread; `result` waits for it and re-raises its error on the caller's thread."""

    def __init__(self, fn: Callable[[], Any], *, name: str) -> None:
        self._fn = fn
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


@dataclass(frozen=True)
class _SectionHit:
    section_id: str
    title: str
    text: str
    score: float


def _plain(markdown: str) -> str:
    """Section markdown as plain prose (retrieval's own cleaner when available)."""
    try:
        from tutor.retrieval.text import plain

        return plain(markdown)
    except ImportError:  # pragma: no cover - retrieval is part of the package
        return " ".join(markdown.split())
