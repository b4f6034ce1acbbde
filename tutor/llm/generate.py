"""The decode loop: greedy or temperature sampling, streamed as text, cancellable per token.

Written by hand rather than through ``generate()`` + a streamer thread: for this
model size our loop is faster (see `tutor.llm.decoder`), and cancellation is one
`threading.Event` check before every token, so a second request or Ctrl+C stops
the answer within one token (~50 ms).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tutor.llm.decoder import StepModel


@dataclass(frozen=True)
class SamplingConfig:
    """How to pick tokens. ``temperature`` 0 = greedy (deterministic, the default)."""

    max_new_tokens: int = 160
    temperature: float = 0.0
    top_p: float = 0.95
    repetition_penalty: float = 1.0  # >1 discourages tokens already generated (HF convention)
    no_repeat_ngram: int = 0  # >0: never repeat an n-gram of the answer so far (greedy loops on small models)
    seed: int | None = None


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    new_tokens: int = 0
    ttft_s: float = 0.0  # prompt prefill + first token
    decode_s: float = 0.0  # every token after the first
    stop_reason: str = ""  # eos | stop | length | cancelled | window
    token_ids: list[int] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        """Decode speed after the first token (the prefill has its own figure, TTFT)."""
        if self.new_tokens <= 1 or self.decode_s <= 0:
            return 0.0
        return (self.new_tokens - 1) / self.decode_s


class NgramBan:
    """Tokens that would repeat an n-gram already in the answer (as HF's ``no_repeat_ngram_size``)."""

    def __init__(self, n: int, start: Sequence[int] = ()) -> None:
        self.n = n
        self.tokens: list[int] = []
        self.seen: dict[tuple[int, ...], set[int]] = {}
        for t in start:
            self.add(t)

    def add(self, token: int) -> None:
        self.tokens.append(token)
        if self.n > 0 and len(self.tokens) >= self.n:
            gram = tuple(self.tokens[-self.n :])
            self.seen.setdefault(gram[:-1], set()).add(gram[-1])

    def banned(self) -> set[int]:
        if self.n <= 0 or len(self.tokens) < self.n - 1:
            return set()
        key = tuple(self.tokens[len(self.tokens) - self.n + 1 :]) if self.n > 1 else ()
        return self.seen.get(key, set())


def pick_token(
    logits: Any, config: SamplingConfig, generated: Sequence[int], generator: Any, banned: set[int] | None = None
) -> int:
    """Greedy argmax, or a top-p sample at ``config.temperature``; repetition penalty and n-gram ban first."""
    import torch

    if (config.repetition_penalty != 1.0 and generated) or banned:
        logits = logits.clone()
    if config.repetition_penalty != 1.0 and generated:
        idx = torch.tensor(sorted(set(generated)), dtype=torch.long)
        vals = logits[idx]
        logits[idx] = torch.where(vals > 0, vals / config.repetition_penalty, vals * config.repetition_penalty)
    if banned:
        logits[torch.tensor(sorted(banned), dtype=torch.long)] = float("-inf")
    if config.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / config.temperature, dim=-1)
    if 0 < config.top_p < 1:
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_probs, 0) - sorted_probs < config.top_p
        keep[0] = True
        probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_probs[keep])
    return int(torch.multinomial(probs, 1, generator=generator))


class TextStream:
    """Turns token ids into text pieces, holding back bytes that do not yet form a whole character."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.emitted = ""

    def push(self, token: int) -> str:
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):  # an incomplete UTF-8 sequence: wait for the next token
            return ""
        piece = text[len(self.emitted) :] if text.startswith(self.emitted) else text
        self.emitted = text
        return piece


def stop_token_ids(tokenizer: Any) -> frozenset[int]:
    """End-of-turn ids: the tokenizer's eos plus the chat markers a ChatML model may emit instead."""
    ids: set[int] = set()
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.add(int(tokenizer.eos_token_id))
    for marker in ("<|im_end|>", "<|endoftext|>", "<|im_start|>", "<|eot_id|>", "</s>"):
        tid = tokenizer.convert_tokens_to_ids(marker)
        unk = getattr(tokenizer, "unk_token_id", None)
        if isinstance(tid, int) and tid >= 0 and tid != unk:
            ids.add(tid)
    return frozenset(ids)


class StopStrings:
    """Cuts the stream where the model starts echoing the prompt's layout (e.g. a new "Question:" line).

    Text that might be the start of a stop string is held back until the next
    piece shows whether it is; the stop string itself is never emitted.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.pending = ""
        self.hit = False
        self.started = False  # leading newlines are dropped, so a newline stop never matches at the very start

    def feed(self, piece: str) -> str:
        if not self.stops:
            return piece
        buf = self.pending + piece
        if not self.started:
            buf = buf.lstrip("\n")
            if not buf.strip():
                return ""
            self.started = True
        cut = min((i for i in (buf.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.hit = True
            self.pending = ""
            return buf[:cut]
        hold = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(buf)), 0, -1):
                if buf.endswith(stop[:n]):
                    hold = max(hold, n)
                    break
        self.pending = buf[len(buf) - hold :] if hold else ""
        return buf[: len(buf) - hold]

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out


def stream_text(
    step_model: StepModel,
    tokenizer: Any,
    prompt_ids: list[int],
    config: SamplingConfig,
    *,
    cancel: threading.Event | None = None,
    stats: GenerationStats | None = None,
    stop_ids: frozenset[int] | None = None,
    stop_strings: Sequence[str] = (),
    answer_prefix_ids: Sequence[int] = (),
) -> Iterator[str]:
    """Yield the answer's text piece by piece; fills ``stats`` as it goes.

    ``answer_prefix_ids``: tokens of an answer start already in the prompt (a seed); the n-gram ban
    covers them too, so the model does not simply restate the seed.

    Runs under `torch.inference_mode`. Stops at an end-of-turn token, at a stop
    string, at ``max_new_tokens``, at the end of the context window, or as soon
    as ``cancel`` is set (checked before every model call).
    """
    ban = NgramBan(config.no_repeat_ngram, answer_prefix_ids)
    for piece in _stream(step_model, tokenizer, prompt_ids, config, cancel, stats, stop_ids, StopStrings(stop_strings), ban):
        if piece:
            yield piece


def _stream(
    step_model: StepModel,
    tokenizer: Any,
    prompt_ids: list[int],
    config: SamplingConfig,
    cancel: threading.Event | None,
    stats: GenerationStats | None,
    stop_ids: frozenset[int] | None,
    stopper: StopStrings,
    ban: NgramBan,
) -> Iterator[str]:
    import torch

    stats = stats if stats is not None else GenerationStats()
    stats.prompt_tokens = len(prompt_ids)
    stops = stop_ids if stop_ids is not None else stop_token_ids(tokenizer)
    generator = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
    text = TextStream(tokenizer)
    if cancel is not None and cancel.is_set():
        stats.stop_reason = "cancelled"
        return
    started = time.perf_counter()
    with torch.inference_mode():
        logits = step_model.prefill(list(prompt_ids))
        position = len(prompt_ids)
        first_at: float | None = None
        while True:
            token = pick_token(logits, config, stats.token_ids, generator, ban.banned())
            now = time.perf_counter()
            if first_at is None:
                first_at = now
                stats.ttft_s = now - started
            if token in stops:
                stats.stop_reason = "eos"
                break
            stats.token_ids.append(token)
            ban.add(token)
            stats.new_tokens = len(stats.token_ids)
            stats.decode_s = now - first_at
            piece = stopper.feed(text.push(token))
            if piece:
                yield piece
            if stopper.hit:
                stats.stop_reason = "stop"
                break
            if stats.new_tokens >= config.max_new_tokens:
                stats.stop_reason = "length"
                break
            if position >= step_model.max_positions:
                stats.stop_reason = "window"
                break
            if cancel is not None and cancel.is_set():
                stats.stop_reason = "cancelled"
                break
            logits = step_model.step(token)
            position += 1
    if not stopper.hit:
        yield stopper.flush()
