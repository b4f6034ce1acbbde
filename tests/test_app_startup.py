"""Start-up speed without losing exactness: the embedder needs neither sentence-transformers nor peft at start.

`tutor` must be ready to answer within seconds of opening, so MiniLM is a plain
torch BERT over safetensors (`tutor.retrieval.embedder.BertEncoder`) and the
course adapter is merged once and cached. These tests check that the shortcut
computes what the libraries compute: a tiny random BERT against transformers'
BertModel and a tiny LoRA adapter against peft here (seconds), the real MiniLM
against SentenceTransformer in the integration tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def _tiny_bert_folder(folder: Path, seed: int = 0) -> Path:
    """A randomly initialised 2-layer BERT with MiniLM's tokenizer, saved like the MiniLM package."""
    from transformers import BertConfig, BertModel

    from tutor.retrieval.embedder import base_model_path

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=512, initializer_range=0.3,  # large weights: a wrong activation shows
    )
    model = BertModel(config, add_pooling_layer=False).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    shutil.copy(base_model_path() / "tokenizer.json", folder / "tokenizer.json")
    return folder


def _reference(folder: Path, texts: list[str], adapter: Path | None = None) -> np.ndarray:
    """transformers (and peft) + mean pooling + L2 normalisation: what sentence-transformers does for MiniLM."""
    from transformers import AutoTokenizer, BertModel

    model = BertModel.from_pretrained(str(folder), add_pooling_layer=False).eval()
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload().eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    with torch.inference_mode():
        features = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = model(**features).last_hidden_state
        mask = features["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy()


TEXTS = [
    "What does the discriminator do in a GAN?",
    "Autoencoders compress and reconstruct data.",
    "transformers self-attention " * 200,  # longer than 256 word pieces: truncated like the library does
]


def test_bert_encoder_matches_transformers_on_a_tiny_random_bert(tmp_path: Path, monkeypatch) -> None:
    from tutor.retrieval import embedder as emb

    folder = _tiny_bert_folder(tmp_path / "base")
    monkeypatch.setattr(emb, "base_model_path", lambda: folder)
    ours = emb.load_embedder("none")
    assert ours.source == "base" and ours.dimension == 32
    got = ours.encode(TEXTS)
    want = _reference(folder, TEXTS)
    assert got.shape == (3, 32) and got.dtype == np.float32
    assert np.abs(got - want).max() < 1e-5
    # one text at a time (the query path, one thread) gives the same rows as the batch
    assert np.abs(ours.encode([TEXTS[0]])[0] - got[0]).max() < 1e-5


def test_the_merged_adapter_is_cached_and_equals_peft(tmp_path: Path, monkeypatch) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import BertModel

    from tutor.retrieval import embedder as emb

    folder = _tiny_bert_folder(tmp_path / "base")
    monkeypatch.setattr(emb, "base_model_path", lambda: folder)
    # a LoRA adapter with non-zero B (a fresh one is all zeros and would change nothing)
    torch.manual_seed(1)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=r".*encoder.*\.(query|key|value|dense)$")
    peft_model = get_peft_model(BertModel.from_pretrained(str(folder), add_pooling_layer=False), lora)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.2)
    adapter = tmp_path / "embedder"
    peft_model.save_pretrained(str(adapter))
    cache = tmp_path / "models"

    first = emb.load_embedder(adapter, cache_root=cache)
    assert first.source == "merged-now"
    files = list(cache.glob(emb.MERGED_PREFIX + "*.safetensors"))
    assert len(files) == 1 and emb.adapter_hash(adapter) in files[0].name

    def no_merging(*args, **kwargs):  # noqa: ANN002, ANN003
        raise AssertionError("the cached merge should have been read")

    monkeypatch.setattr(emb, "merge_adapter_weights", no_merging)
    second = emb.load_embedder(adapter, cache_root=cache)
    assert second.source == "merged-cache" and second.model_id == first.model_id and "+embedder@" in first.model_id

    want = _reference(folder, TEXTS, adapter)
    base = _reference(folder, TEXTS)
    got = second.encode(TEXTS)
    assert np.abs(got - want).max() < 1e-5
    assert np.abs(want - base).max() > 1e-3  # the adapter really changes the model, so the check means something
    assert np.abs(first.encode(TEXTS) - got).max() < 1e-6
    # the merge by hand (no peft import) and peft's own merge give the same weights
    by_hand = emb._merge_plain_lora(emb._read_weights(folder / "model.safetensors"), adapter)
    by_peft = emb._merge_with_peft(folder, adapter)
    assert by_hand is not None and set(by_hand) == set(by_peft)
    assert max(float((by_hand[k] - by_peft[k]).abs().max()) for k in by_hand) < 1e-6


def test_an_adapter_beyond_plain_lora_is_left_to_peft(tmp_path: Path) -> None:
    from tutor.retrieval import embedder as emb

    adapter = tmp_path / "embedder"
    adapter.mkdir()
    for extra in ({"use_dora": True}, {"bias": "all"}, {"rank_pattern": {"query": 2}}, {"peft_type": "IA3"}):
        (adapter / emb.ADAPTER_CONFIG).write_text(json.dumps({"r": 4, "lora_alpha": 8, **extra}))
        assert emb._merge_plain_lora({}, adapter) is None, extra


def test_a_damaged_merge_cache_is_rebuilt(tmp_path: Path, monkeypatch) -> None:
    from tutor.retrieval import embedder as emb

    folder = _tiny_bert_folder(tmp_path / "base")
    monkeypatch.setattr(emb, "base_model_path", lambda: folder)
    adapter = tmp_path / "embedder"
    adapter.mkdir()
    (adapter / emb.ADAPTER_CONFIG).write_text(json.dumps({"r": 4}))
    (adapter / emb.ADAPTER_WEIGHTS).write_bytes(b"not safetensors")
    cache = tmp_path / "models"
    target = emb.merged_cache_file(adapter, folder, cache)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"garbage")
    merged = {}

    def fake_merge(base_dir: Path, adapter_dir: Path) -> dict:
        from safetensors.torch import load_file

        merged["called"] = True
        return load_file(str(base_dir / "model.safetensors"))

    monkeypatch.setattr(emb, "merge_adapter_weights", fake_merge)
    loaded = emb.load_embedder(adapter, cache_root=cache)
    assert merged.get("called") and loaded.source == "merged-now"
    assert emb._read_weights(target) is not None  # rewritten, readable now


# ------------------------------------------------------------------ real MiniLM
@pytest.mark.integration
def test_real_minilm_equals_sentence_transformers_base_and_tuned() -> None:
    from tutor.retrieval.embedder import load_embedder, resolve_adapter

    texts = ["What does the discriminator do in a GAN?", "How do RNNs help speech recognition?", "vae " * 300]
    for adapter in ("none", None):
        if adapter is None and resolve_adapter(None) is None:
            continue
        ours = load_embedder(adapter)
        ref = ours.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        assert np.abs(ours.encode(texts) - ref).max() < 1e-5, adapter


@pytest.mark.integration
def test_real_tuned_embedder_equals_sentence_transformers_with_peft() -> None:
    """Independent of our merge: SentenceTransformer + peft's own merge of the shipped adapter."""
    from tutor.retrieval.embedder import load_embedder, load_sentence_transformer, resolve_adapter

    adapter = resolve_adapter(None)
    if adapter is None:
        pytest.skip("no course adapter shipped")
    from peft import PeftModel

    st = load_sentence_transformer()
    st[0].auto_model = PeftModel.from_pretrained(st[0].auto_model, str(adapter)).merge_and_unload().eval()
    texts = ["What is a variational autoencoder?", "Who won the 2018 world cup?"]
    ref = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    assert np.abs(load_embedder().encode(texts) - ref).max() < 1e-5


@pytest.mark.integration
def test_loading_the_embedder_imports_no_heavy_libraries() -> None:
    """With the merge cached, the start path reads safetensors: no sentence-transformers, peft, transformers, sklearn."""
    from tutor.retrieval.embedder import load_embedder

    load_embedder()  # writes the merge cache when missing
    code = (
        "import sys, json\n"
        "from tutor import config; config.offline()\n"
        "from tutor.retrieval.embedder import load_embedder\n"
        "e = load_embedder()\n"
        "from tutor.content import load_course\n"
        "from tutor.retrieval import Retriever\n"
        "r = Retriever.build(load_course(), embedder=e)\n"
        "r.search('what is a GAN?')\n"
        "heavy = ['sentence_transformers', 'peft', 'transformers', 'sklearn', 'pandas', 'datasets', 'nltk']\n"
        "print(json.dumps({'source': e.source, 'cache_hit': r.stats.cache_hit,\n"
        "                  'imported': [m for m in heavy if m in sys.modules]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["imported"] == []
    assert report["source"] in ("base", "merged-cache")
