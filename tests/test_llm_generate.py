"""The decode loop: stop rules, cancellation, sampling, incremental text."""

from __future__ import annotations

import threading

import pytest

torch = pytest.importorskip("torch")

from tutor.llm.generate import (  # noqa: E402
    GenerationStats,
    NgramBan,
    SamplingConfig,
    StopStrings,
    pick_token,
    stop_token_ids,
    stream_text,
)
from tutor.llm.testing import tiny_llama, tiny_tokenizer  # noqa: E402


class ScriptedStep:
    """A step model that emits a fixed token sequence (then repeats the last one) and counts calls."""

    def __init__(self, script: list[int], vocab: int, max_positions: int = 1000) -> None:
        self.script = script
        self.vocab = vocab
        self.max_positions = max_positions
        self.calls = 0
        self.n = 0

    def _logits(self):
        logits = torch.zeros(self.vocab)
        logits[self.script[min(self.n, len(self.script) - 1)]] = 10.0
        self.n += 1
        return logits

    def prefill(self, ids):
        self.calls += 1
        self.n = 0
        return self._logits()

    def step(self, token):
        self.calls += 1
        return self._logits()


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_stops_at_end_of_turn(tok):
    script = _ids(tok, "the generator create data") + [tok.convert_tokens_to_ids("<|im_end|>")] + _ids(tok, "fake fake")
    stats = GenerationStats()
    text = "".join(stream_text(ScriptedStep(script, len(tok)), tok, [5, 6], SamplingConfig(max_new_tokens=50), stats=stats))
    assert text.strip() == "the generator create data"
    assert stats.stop_reason == "eos"
    assert stats.new_tokens == 4


def test_max_new_tokens(tok):
    stats = GenerationStats()
    step = ScriptedStep(_ids(tok, "gan gan gan gan gan gan gan gan gan gan"), len(tok))
    list(stream_text(step, tok, [5], SamplingConfig(max_new_tokens=3), stats=stats))
    assert stats.new_tokens == 3 and stats.stop_reason == "length"
    assert step.calls == 3  # prefill + 2 steps: the token after the last is never computed


def test_cancel_stops_within_one_token(tok):
    cancel = threading.Event()
    step = ScriptedStep(_ids(tok, "gan vae lstm gru gan vae lstm gru"), len(tok))
    stats = GenerationStats()
    got = []
    for piece in stream_text(step, tok, [5], SamplingConfig(max_new_tokens=100), cancel=cancel, stats=stats):
        got.append(piece)
        cancel.set()
    assert stats.stop_reason == "cancelled"
    assert len(got) == 1 and step.calls == 1


def test_cancelled_before_start_never_calls_the_model(tok):
    cancel = threading.Event()
    cancel.set()
    step = ScriptedStep([7], len(tok))
    assert list(stream_text(step, tok, [5], SamplingConfig(), cancel=cancel)) == []
    assert step.calls == 0


def test_stop_strings_cut_and_hold_back():
    s = StopStrings(["\nQuestion:"])
    out = s.feed("A GAN has two") + s.feed(" networks.\nQues")
    assert out == "A GAN has two networks."  # "\nQues" held back: could be the stop string
    out += s.feed("tion: what")
    assert s.hit and out == "A GAN has two networks."
    s2 = StopStrings(["\nQuestion:"])
    text = s2.feed("one\nQu") + s2.feed("ite so") + s2.flush()
    assert text == "one\nQuite so" and not s2.hit


def test_leading_newlines_do_not_trigger_a_newline_stop():
    s = StopStrings(["\n"])
    assert s.feed("\n\n") == ""
    assert s.feed(" The generator") == " The generator"
    assert s.feed(" fakes.\nMore") == " fakes."
    assert s.hit


def test_ngram_ban_blocks_exact_repeats():
    ban = NgramBan(3, start=[1, 2, 3])
    ban.add(1)
    ban.add(2)
    assert ban.banned() == {3}
    assert NgramBan(0, [1, 2, 1]).banned() == set()
    logits = torch.zeros(10)
    logits[3] = 5.0
    assert pick_token(logits, SamplingConfig(), [], None, banned={3}) != 3


def test_sampling_is_seeded_and_greedy_is_argmax():
    logits = torch.tensor([0.0, 1.0, 0.5, 0.9])
    assert pick_token(logits, SamplingConfig(), [], None) == 1
    config = SamplingConfig(temperature=1.0, top_p=1.0)
    g = torch.Generator().manual_seed(3)
    b = [pick_token(logits, config, [], g) for _ in range(20)]
    g2 = torch.Generator().manual_seed(3)
    c = [pick_token(logits, config, [], g2) for _ in range(20)]
    assert b == c and len(set(b)) > 1
    tiny_p = SamplingConfig(temperature=1.0, top_p=0.01)
    assert {pick_token(logits, tiny_p, [], torch.Generator().manual_seed(s)) for s in range(10)} == {1}


def test_repetition_penalty_discourages_generated_tokens():
    logits = torch.tensor([0.0, 2.0, 1.9])
    assert pick_token(logits, SamplingConfig(repetition_penalty=1.5), [1], None) == 2


def test_stop_ids_include_chat_markers(tok):
    ids = stop_token_ids(tok)
    assert tok.convert_tokens_to_ids("<|im_end|>") in ids
    assert tok.convert_tokens_to_ids("<|im_start|>") in ids
    assert tok.unk_token_id not in ids


def test_real_tiny_model_streams_text(tok):
    model = tiny_llama(vocab_size=len(tok))
    from tutor.llm.decoder import make_step_model

    stats = GenerationStats()
    pieces = list(
        stream_text(make_step_model(model, 256), tok, _ids(tok, "what is a gan ?"), SamplingConfig(max_new_tokens=8), stats=stats, stop_ids=frozenset())
    )
    assert stats.new_tokens == 8
    assert "".join(pieces).strip() == tok.decode(stats.token_ids, skip_special_tokens=True).strip()
    assert stats.ttft_s > 0 and stats.tokens_per_s > 0
