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


def _packing_available() -> bool:
    model = tiny_llama(vocab_size=150).to(torch.bfloat16)
    return FastLlama(model, 8).packed is not None


needs_packing = pytest.mark.skipif(
    not torch.backends.mkldnn.is_available() or not _packing_available(), reason="no oneDNN bf16 on this CPU"
)


@needs_packing
def test_packed_bf16_steps_are_bit_identical_to_plain_linear(monkeypatch):
    model = tiny_llama(vocab_size=150, hidden_size=64, intermediate_size=128).to(torch.bfloat16)
    ids = [5, 17, 42, 9, 77, 3, 101, 64, 12, 8]
    packed = FastLlama(model, 32)
    assert packed.packed is not None and len(packed.packed) == len(packed.layers) + 1
    with torch.inference_mode():
        got = [packed.prefill(ids[:4])] + [packed.step(t) for t in ids[4:]]
    plain = FastLlama(model, 32)
    plain.packed = None  # same fused weights, F.linear everywhere
    with torch.inference_mode():
        want = [plain.prefill(ids[:4])] + [plain.step(t) for t in ids[4:]]
    assert all(torch.equal(a, b) for a, b in zip(got, want))
    monkeypatch.setenv("TUTOR_LLM_PACK", "0")
    assert FastLlama(tiny_llama(vocab_size=150).to(torch.bfloat16), 8).packed is None
    assert FastLlama(tiny_llama(vocab_size=150), 8).packed is None  # float32: packing does not pay


def test_prepared_weights_are_reused_and_rebuilt_after_a_cast():
    from tutor.llm.decoder import fast_weights, prepare

    model = tiny_llama(vocab_size=150)
    assert prepare(model)
    first = fast_weights(model)
    assert FastLlama(model, 16).layers is first.layers  # a second decoder shares the fused weights
    assert not prepare(tiny_llama(vocab_size=64, attention_bias=True))
    model = model.to(torch.bfloat16)  # new parameter tensors: the fused copies are stale
    again = FastLlama(model, 16)
    assert again.layers is not first.layers and again.layers[0][1].dtype == torch.bfloat16
    ids = [3, 9, 27, 81]
    with torch.inference_mode():
        got = again.prefill(ids)
    ref = _reference_logits(model, ids)[-1]
    assert (got - ref).abs().max().item() < 0.05 * ref.abs().max().item() + 0.05


QUESTIONS = (
    "What does the discriminator in a GAN do?",
    "Explain the difference between an LSTM and a GRU.",
    "What is a variational autoencoder?",
)


def _chat_ids(tok, question):
    ids = tok.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True, tokenize=True)
    return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


def _greedy(step, tok, ids, n=32):
    stats = GenerationStats()
    list(stream_text(step, tok, ids, SamplingConfig(max_new_tokens=n), stats=stats, stop_ids=frozenset()))
    return stats.token_ids


@pytest.mark.integration
def test_real_model_greedy_tokens_match_the_unpacked_decoder_and_transformers():
    """Shipped SmolLM2 + tutor adapter: the warm start reads the merged cache, packing changes no token,
    and in float32 every greedy token is the argmax of transformers' own forward over the same text."""
    from tutor.llm.loader import load_model

    cold = load_model(None, None)  # the session's scratch home: from the GGUF, runtime cache written
    warm = load_model(None, None)
    assert warm.source == "cache" and warm.runtime_file is not None and warm.runtime_file == cold.runtime_file
    tok = warm.tokenizer
    packed = FastLlama(warm.model, 512)
    plain = FastLlama(warm.model, 512)
    plain.packed = None
    for question in QUESTIONS:
        ids = _chat_ids(tok, question)
        assert _greedy(packed, tok, ids) == _greedy(plain, tok, ids)

    fp32 = load_model(None, "none", dtype="float32")
    step = make_step_model(fp32.model, 512)
    assert isinstance(step, FastLlama)
    for question in QUESTIONS[:2]:
        ids = _chat_ids(tok, question)
        new = _greedy(step, tok, ids)
        with torch.inference_mode():
            logits = fp32.model(torch.tensor([ids + new])).logits[0, len(ids) - 1 : -1]
        assert logits.argmax(-1).tolist() == new
