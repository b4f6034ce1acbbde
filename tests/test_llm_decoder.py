"""The lean Llama decoder computes what transformers' own forward computes (tiny random model)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tutor.llm.decoder import FastLlama, HFStep, fast_path_supported, make_step_model  # noqa: E402
from tutor.llm.generate import GenerationStats, SamplingConfig, stream_text  # noqa: E402
from tutor.llm.testing import tiny_llama, tiny_tokenizer  # noqa: E402


def _reference_logits(model, ids):
    with torch.inference_mode():
        return model(torch.tensor([ids])).logits[0].float()


def test_fast_path_matches_transformers_prefill_and_steps():
    model = tiny_llama(vocab_size=150)
    ids = [5, 17, 42, 9, 77, 3, 101, 64]
    fast = FastLlama(model, max_positions=64)
    with torch.inference_mode():
        first = fast.prefill(ids[:5])
        steps = [fast.step(t) for t in ids[5:]]
    ref = _reference_logits(model, ids)
    assert torch.allclose(first, ref[4], atol=1e-5)
    for n, logits in enumerate(steps):
        assert torch.allclose(logits, ref[5 + n], atol=1e-5)


def test_fast_path_shares_weights_with_the_model():
    model = tiny_llama(vocab_size=150)
    before = sum(p.numel() for p in model.parameters())
    fast = FastLlama(model, max_positions=32)
    attn = model.model.layers[0].self_attn
    assert attn.q_proj.weight.data_ptr() == fast.layers[0][1].data_ptr()  # q is the first rows of fused qkv
    assert sum(p.numel() for p in model.parameters()) == before
    ids = [4, 8, 15, 16, 23, 42]
    with torch.inference_mode():  # the model itself still computes the same after the weights were fused
        assert torch.allclose(fast.prefill(ids), _reference_logits(model, ids)[-1], atol=1e-5)


def test_prefill_resets_the_cache():
    model = tiny_llama(vocab_size=150)
    fast = FastLlama(model, max_positions=32)
    with torch.inference_mode():
        a = fast.prefill([7, 8, 9])
        fast.step(10)
        b = fast.prefill([7, 8, 9])
    assert torch.equal(a, b)


def test_window_limits_are_enforced():
    fast = FastLlama(tiny_llama(vocab_size=150), max_positions=4)
    with torch.inference_mode():
        with pytest.raises(ValueError):
            fast.prefill([1, 2, 3, 4, 5])
        fast.prefill([1, 2, 3, 4])
        with pytest.raises(ValueError):
            fast.step(5)


def test_hf_step_matches_too():
    model = tiny_llama(vocab_size=150)
    step = HFStep(model, max_positions=64)
    ids = [5, 17, 42, 9, 77]
    with torch.inference_mode():
        first = step.prefill(ids[:3])
        later = [step.step(t) for t in ids[3:]]
    ref = _reference_logits(model, ids)
    assert torch.allclose(first, ref[2], atol=1e-5)
    assert torch.allclose(later[-1], ref[-1], atol=1e-5)


def test_unsupported_architectures_fall_back():
    assert fast_path_supported(tiny_llama(vocab_size=64))
    biased = tiny_llama(vocab_size=64, attention_bias=True)
    assert not fast_path_supported(biased)
    assert isinstance(make_step_model(biased, 32), HFStep)
    assert isinstance(make_step_model(tiny_llama(vocab_size=64), 32), FastLlama)


def test_greedy_generation_is_identical_on_both_paths():
    tok = tiny_tokenizer()
    model = tiny_llama(vocab_size=len(tok))
    prompt = tok("what is a gan ? explain the generator", add_special_tokens=False)["input_ids"]
    config = SamplingConfig(max_new_tokens=12)
    outs = []
    for step in (FastLlama(model, 128), HFStep(model, 128)):
        stats = GenerationStats()
        "".join(stream_text(step, tok, prompt, config, stats=stats, stop_ids=frozenset()))
        outs.append(stats.token_ids)
    assert len(outs[0]) == 12
    assert outs[0] == outs[1]


def test_bfloat16_fast_path_stays_close():
    model = tiny_llama(vocab_size=150).to(torch.bfloat16)
    ids = [5, 17, 42, 9, 77, 3]
    fast = FastLlama(model, max_positions=16)
    with torch.inference_mode():
        got = fast.prefill(ids)
    ref = _reference_logits(model, ids)[-1]
    assert (got - ref).abs().max().item() < 0.05 * ref.abs().max().item() + 0.05
