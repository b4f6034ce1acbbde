"""The real SmolLM2 + MiniLM pipeline: the safetensors cache and `tutor ask --json` (slow: marked integration)."""

from __future__ import annotations

import json
import shutil

import pytest

pytestmark = pytest.mark.integration

torch = pytest.importorskip("torch")


def test_safetensors_cache_is_used_on_the_second_load():
    from tutor.config import paths
    from tutor.llm import loader

    gguf = loader.gguf_path()
    folder = loader.cache_folder(gguf, paths().model_cache)
    shutil.rmtree(folder, ignore_errors=True)  # the session's scratch home: force the cold path

    first = loader.load_model(None, "none", dtype="float32")
    assert first.source == "gguf" and first.cache_path == folder
    assert (folder / "model.safetensors").is_file() and (folder / loader.CACHE_META).is_file()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp folder left

    second = loader.load_model(None, "none", dtype="float32")
    assert second.source == "cache"
    assert second.load_seconds < first.load_seconds
    a, b = first.model.state_dict(), second.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # bit-identical weights
    text = "What is a GAN?"
    assert first.tokenizer(text)["input_ids"] == second.tokenizer(text)["input_ids"]
    assert second.tokenizer.chat_template == first.tokenizer.chat_template


def test_ask_json_returns_valid_json_with_evidence():
    from click.testing import CliRunner

    from tutor.cli.main import cli

    result = CliRunner().invoke(
        cli, ["ask", "what does the discriminator in a GAN do?", "--json", "--adapter", "none", "--max-tokens", "32"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["in_scope"] is True
    assert payload["evidence"] and {"section_id", "title", "text"} <= set(payload["evidence"][0])
    assert any(e["section_id"] == "gan" for e in payload["evidence"])
    assert "discriminator" in payload["answer"].lower()
    assert payload["grounded"] is None or 0.0 <= payload["grounded"] <= 1.0
    assert payload["sources"][0]["score"] > 0
    assert payload["timings"]["ttft_ms"] > 0 and payload["timings"]["total_ms"] >= payload["timings"]["ttft_ms"]
