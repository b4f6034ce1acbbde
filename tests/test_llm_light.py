"""The transformers-free warm start (`tutor.llm.light`) computes exactly what the transformers path computes.

Unit tests use the tiny random Llama and word-level tokenizer of `tutor.llm.testing`, saved in the
base-cache layout; the integration tests compare against AutoTokenizer and the transformers-assembled
runtime model on the real SmolLM2 cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tutor.llm import light, loader  # noqa: E402
from tutor.llm.decoder import FastLlama, fast_path_supported  # noqa: E402
from tutor.llm.generate import GenerationStats, SamplingConfig, stream_text  # noqa: E402
from tutor.llm.testing import tiny_llama, tiny_tokenizer  # noqa: E402

TEXTS = [
    "what is a gan ?",
    "The generator and the discriminator compete; then what?",
    "  leading spaces, trailing spaces  ",
    "Ünïcödé: naïve café, 日本語のテキスト, emoji 🤖🎉, Ελληνικά, العربية",
    "code: def f(x):\n\treturn x ** 2  # tabs\n\nand newlines",
    "<|im_start|>user\nspecial tokens inside text<|im_end|>",
    "",
]
HISTORIES = [
    [{"role": "user", "content": "What is a VAE?"}],
    [
        {"role": "system", "content": "You are a patient tutor. Use only the lesson text."},
        {"role": "user", "content": "What is a GAN?"},
        {"role": "assistant", "content": "A GAN has two networks that compete."},
        {"role": "user", "content": "Why do they compete? Explain with an analogy — café style ☕"},
    ],
]


def _fake_shipped(tmp_path: Path, monkeypatch, seed: int = 0, **overrides) -> Path:
    """A tiny Llama in the base-cache layout, standing in for the dequantised shipped GGUF."""
    tok = tiny_tokenizer()
    folder = tmp_path / "cache" / "base-abc"
    assert loader._write_cache(folder, tiny_llama(vocab_size=len(tok), seed=seed, **overrides), tok, {"dtype": "float32"})
    fake_gguf = tmp_path / "model.gguf"
    fake_gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(loader, "gguf_path", lambda: fake_gguf)
    monkeypatch.setattr(loader, "cache_folder", lambda gguf, root=None: folder)
    monkeypatch.setattr(loader, "default_adapter_dir", lambda: tmp_path / "no-default")
    return folder


def _greedy(model, prompt: list[int], n: int = 12) -> list[int]:
    stats = GenerationStats()
    step = FastLlama(model, 128)
    tok = tiny_tokenizer()
    list(stream_text(step, tok, prompt, SamplingConfig(max_new_tokens=n), stats=stats, stop_ids=frozenset()))
    return stats.token_ids


PROMPT = [5, 6, 7, 30, 41, 12, 9]


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_warm_start_is_light_and_matches_the_transformers_model(tmp_path, monkeypatch, dtype):
    _fake_shipped(tmp_path, monkeypatch)
    first = loader.load_model(None, "none", dtype=dtype)  # bf16: transformers path, runtime file written
    second = loader.load_model(None, "none", dtype=dtype)
    assert isinstance(second.model, light.LightLlama) and isinstance(second.tokenizer, light.LightTokenizer)
    assert second.source == "cache" and second.runtime_file == first.runtime_file
    monkeypatch.setenv(loader.LIGHT_ENV, "0")
    heavy = loader.load_model(None, "none", dtype=dtype)
    assert type(heavy.model).__name__ == "LlamaForCausalLM"

    lm, hf = second.model, heavy.model
    assert fast_path_supported(lm) and lm.dtype == getattr(torch, dtype)
    ref = {k: v for k, v in hf.state_dict().items()}
    got = lm.state_dict()
    assert got.keys() == ref.keys() and all(torch.equal(got[k], ref[k]) for k in ref)
    rot, ref_rot = lm.model.rotary_emb, hf.model.rotary_emb
    assert rot.inv_freq.dtype == ref_rot.inv_freq.dtype and torch.equal(rot.inv_freq, ref_rot.inv_freq)
    assert rot.attention_scaling == ref_rot.attention_scaling and rot.rope_type == ref_rot.rope_type
    assert lm.model.layers[0].self_attn.scaling == hf.model.layers[0].self_attn.scaling
    assert lm.lm_head.weight.data_ptr() == lm.model.embed_tokens.weight.data_ptr()  # tied, one copy
    assert second.context_tokens == heavy.context_tokens == 512

    with torch.inference_mode():
        assert torch.equal(FastLlama(lm, 64).prefill(PROMPT), FastLlama(hf, 64).prefill(PROMPT))
        # calling the light model builds a transformers Llama over the same tensors: same logits
        assert torch.equal(lm(torch.tensor([PROMPT])).logits, hf(torch.tensor([PROMPT])).logits)
    assert _greedy(lm, PROMPT) == _greedy(hf, PROMPT)


def test_untied_heads_and_gqa_variants_load_exactly(tmp_path, monkeypatch):
    _fake_shipped(tmp_path, monkeypatch, seed=3, tie_word_embeddings=False, num_key_value_heads=4, head_dim=16)
    loader.load_model(None, "none", dtype="bfloat16")
    lm = loader.load_model(None, "none", dtype="bfloat16").model
    monkeypatch.setenv(loader.LIGHT_ENV, "0")
    hf = loader.load_model(None, "none", dtype="bfloat16").model
    assert isinstance(lm, light.LightLlama) and lm.lm_head.weight.data_ptr() != lm.model.embed_tokens.weight.data_ptr()
    assert torch.equal(lm.lm_head.weight, hf.lm_head.weight)
    assert torch.equal(lm.model.rotary_emb.inv_freq, hf.model.rotary_emb.inv_freq)
    with torch.inference_mode():
        assert torch.equal(FastLlama(lm, 64).prefill(PROMPT), FastLlama(hf, 64).prefill(PROMPT))


def test_light_tokenizer_matches_the_transformers_tokenizer(tmp_path):
    tok = tiny_tokenizer(extra_words=["café", "naïve"])
    tok.save_pretrained(str(tmp_path))
    lt = light.light_tokenizer(tmp_path)
    assert lt is not None
    for text in TEXTS + ["café naïve unknownword", "gan ?"]:
        for special in (False, True):
            assert lt(text, add_special_tokens=special)["input_ids"] == tok(text, add_special_tokens=special)["input_ids"]
        ids = tok(text, add_special_tokens=False)["input_ids"]
        for skip in (True, False):
            assert lt.decode(ids, skip_special_tokens=skip) == tok.decode(ids, skip_special_tokens=skip)
    for history in HISTORIES:
        for gen in (True, False):
            want = tok.apply_chat_template(history, tokenize=False, add_generation_prompt=gen)
            assert lt.apply_chat_template(history, tokenize=False, add_generation_prompt=gen) == want
    assert lt.eos_token_id == tok.eos_token_id and lt.unk_token_id == tok.unk_token_id
    assert lt.convert_tokens_to_ids("<|im_end|>") == tok.convert_tokens_to_ids("<|im_end|>")
    assert lt.convert_tokens_to_ids("<no-such-token>") == tok.convert_tokens_to_ids("<no-such-token>") == lt.unk_token_id
    assert len(lt) == len(tok)
    with pytest.raises(ValueError):
        lt.apply_chat_template([], tokenize=False)


def test_template_from_tokenizer_config_and_exceptions(tmp_path):
    tok = tiny_tokenizer()
    tok.save_pretrained(str(tmp_path))
    template = (tmp_path / "chat_template.jinja").read_text()
    (tmp_path / "chat_template.jinja").unlink()
    cfg = json.loads((tmp_path / "tokenizer_config.json").read_text())
    cfg["chat_template"] = template
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    lt = light.light_tokenizer(tmp_path)
    assert lt is not None and lt.chat_template == template
    lt.chat_template = "{% if messages|length > 1 %}{{ raise_exception('one message only') }}{% endif %}{{ bos_token }}"
    assert lt.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False) == "<|im_start|>"
    import jinja2

    with pytest.raises(jinja2.exceptions.TemplateError, match="one message only"):
        lt.apply_chat_template(HISTORIES[1], tokenize=False)


def test_unsupported_models_and_tokenizers_fall_back_to_transformers(tmp_path, monkeypatch):
    folder = _fake_shipped(tmp_path, monkeypatch)
    loader.load_model(None, "none", dtype="bfloat16")
    config = json.loads((folder / "config.json").read_text())
    assert light.llama_settings(config) is not None
    for change in (
        {"model_type": "mistral"},
        {"attention_bias": True},
        {"hidden_act": "gelu"},
        {"rope_parameters": {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0}},
    ):
        assert light.llama_settings({**config, **change}) is None, change

    # a template transformers' own extensions are needed for: the light tokenizer refuses, the loader falls back
    (folder / "chat_template.jinja").write_text("{% generation %}{{ messages[0]['content'] }}{% endgeneration %}")
    assert loader._read_light(next(folder.glob("runtime-*")), folder, "bfloat16") is None
    fallback = loader.load_model(None, "none", dtype="bfloat16")
    assert type(fallback.model).__name__ == "LlamaForCausalLM" and fallback.source == "cache"

    cfg = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**cfg, "tokenizer_class": "LlamaTokenizer"}))
    assert light.light_tokenizer(folder) is None


def test_a_damaged_runtime_file_is_rebuilt_through_transformers(tmp_path, monkeypatch):
    _fake_shipped(tmp_path, monkeypatch)
    first = loader.load_model(None, "none", dtype="bfloat16")
    reference = FastLlama(first.model, 64).prefill(PROMPT)
    first.runtime_file.write_bytes(b"torn write")
    assert loader._read_light(first.runtime_file, first.runtime_file.parent, "bfloat16") is None
    again = loader.load_model(None, "none", dtype="bfloat16")
    assert type(again.model).__name__ == "LlamaForCausalLM" and again.runtime_file.stat().st_size > 1000
    warm = loader.load_model(None, "none", dtype="bfloat16")
    assert isinstance(warm.model, light.LightLlama)
    assert torch.equal(FastLlama(warm.model, 64).prefill(PROMPT), reference)


def test_extra_or_missing_tensors_are_refused(tmp_path):
    tok = tiny_tokenizer()
    model = tiny_llama(vocab_size=len(tok))
    settings = light.llama_settings(model.config.to_dict())
    state = {k: v for k, v in model.state_dict().items()}
    assert isinstance(light.light_llama(settings, state, torch.float32), light.LightLlama)
    with pytest.raises(ValueError, match="unexpected"):
        light.light_llama(settings, {**state, "model.extra.weight": torch.zeros(1)}, torch.float32)
    with pytest.raises(KeyError):
        light.light_llama(settings, {k: v for k, v in state.items() if "layers.1.mlp" not in k}, torch.float32)
    bad = dict(state)
    bad["model.norm.weight"] = torch.zeros(3)
    with pytest.raises(ValueError, match="shape"):
        light.light_llama(settings, bad, torch.float32)


def test_a_warm_load_does_not_import_transformers(tmp_path, monkeypatch):
    folder = _fake_shipped(tmp_path, monkeypatch)
    loader.load_model(None, "none", dtype="bfloat16")  # writes the runtime file
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from tutor.llm import loader\n"
        "folder, gguf = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "loader.gguf_path = lambda: gguf\n"
        "loader.cache_folder = lambda g, root=None: folder\n"
        "lm = loader.load_model(None, 'none', dtype='bfloat16')\n"
        "from tutor.llm.decoder import make_step_model\n"
        "step = make_step_model(lm.model, 64)\n"
        "step.prefill(lm.tokenizer('what is a gan ?', add_special_tokens=False)['input_ids'])\n"
        "print(json.dumps({'source': lm.source, 'model': type(lm.model).__name__, 'step': type(step).__name__,\n"
        "                  'imported': [m for m in ('transformers', 'peft') if m in sys.modules]}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder), str(tmp_path / "model.gguf")],
        capture_output=True, text=True, timeout=300, check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"source": "cache", "model": "LightLlama", "step": "FastLlama", "imported": []}


# ----------------------------------------------------------------------------- the real SmolLM2 cache
QUESTIONS = [
    "What does the discriminator in a GAN do?",
    "How is a VAE different from a plain autoencoder?",
    "Explain self-attention in one sentence.",
]


@pytest.fixture
def real_cache():
    """The session's scratch cache (function scope: after conftest points TUTOR_HOME there) of the shipped model (built from the GGUF when missing) and its runtime file."""
    dtype = loader.choose_dtype_name()
    first = loader.load_model(None, None, dtype=dtype)  # cold or warm: afterwards the runtime file exists
    assert first.runtime_file is not None and first.runtime_file.is_file()
    return first.cache_path, first.runtime_file, dtype


@pytest.mark.integration
def test_real_tokenizer_matches_autotokenizer(real_cache):
    from transformers import AutoTokenizer

    folder = real_cache[0]
    ref = AutoTokenizer.from_pretrained(str(folder))
    lt = light.light_tokenizer(folder)
    assert lt is not None
    for text in TEXTS + QUESTIONS:
        for special in (False, True):
            assert lt(text, add_special_tokens=special)["input_ids"] == ref(text, add_special_tokens=special)["input_ids"]
        ids = ref(text, add_special_tokens=False)["input_ids"]
        for skip in (True, False):
            assert lt.decode(ids, skip_special_tokens=skip) == ref.decode(ids, skip_special_tokens=skip)
    for history in HISTORIES:
        for gen in (True, False):
            want = ref.apply_chat_template(history, tokenize=False, add_generation_prompt=gen)
            assert lt.apply_chat_template(history, tokenize=False, add_generation_prompt=gen) == want
    assert lt.eos_token_id == ref.eos_token_id and len(lt) == len(ref)
    for marker in ("<|im_end|>", "<|endoftext|>", "<|im_start|>", "<no such>"):
        assert lt.convert_tokens_to_ids(marker) == ref.convert_tokens_to_ids(marker)


@pytest.mark.integration
def test_real_light_model_equals_the_transformers_runtime_model(real_cache):
    folder, runtime, dtype = real_cache
    hf = loader.assemble_llama(folder, runtime, dtype)
    lm, lt = light.load_light(folder, runtime, dtype)
    assert hf is not None and isinstance(lm, light.LightLlama)
    assert torch.equal(lm.model.rotary_emb.inv_freq, hf.model.rotary_emb.inv_freq)
    for question in QUESTIONS:
        text = lt.apply_chat_template([{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True)
        ids = lt(text, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            assert torch.equal(FastLlama(lm, 512).prefill(ids), FastLlama(hf, 512).prefill(ids))
        runs = []
        for model in (lm, hf):
            stats = GenerationStats()
            list(stream_text(FastLlama(model, 512), lt, ids, SamplingConfig(max_new_tokens=24), stats=stats,
                             stop_ids=frozenset()))
            runs.append(stats.token_ids)
        assert runs[0] == runs[1] and len(runs[0]) == 24


@pytest.mark.integration
def test_real_tutor_load_does_not_import_transformers(real_cache):
    from tutor.retrieval.embedder import load_embedder

    load_embedder()  # the embedder's merge cache, as a warm start has it
    code = (
        "import json, sys\n"
        "from tutor.llm.answer import Tutor, TutorConfig\n"
        "t = Tutor.load(TutorConfig(max_new_tokens=8))\n"
        "r = t.ask('What does the discriminator in a GAN do?', __import__('tutor.llm.answer', fromlist=['Profile']).Profile())\n"
        "print(json.dumps({'model': type(t.model).__name__, 'answer': r.answer,\n"
        "                  'imported': [m for m in ('transformers', 'peft', 'sentence_transformers') if m in sys.modules]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["model"] == "LightLlama" and report["imported"] == []
    assert report["answer"].strip()
