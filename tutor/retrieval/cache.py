"""The on-disk index cache: passage and sentence embeddings, keyed by course and model.

Embedding the course is the only slow part of building an index (seconds on a
CPU); everything else is rebuilt in milliseconds. The cache file name carries
a hash of the course files, the section texts, the embedder's ``model_id`` and
the passage settings, so editing a lesson, retraining the adapter or changing
passage sizes each lead to a fresh build; older files for the same course and
model are removed then.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

INDEX_FORMAT = 2


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:40]


def index_key(content_hash: str, sections_digest: str, model_id: str, passage_key: str) -> str:
    raw = json.dumps([INDEX_FORMAT, content_hash, sections_digest, model_id, passage_key])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def model_slug(model_id: str) -> str:
    return hashlib.sha256(model_id.encode()).hexdigest()[:8]


@dataclass
class CachedIndex:
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    texts_digest: str  # hash of the texts that were embedded: guards against a stale or foreign file
    key_vectors: np.ndarray | None = None  # the example questions (`tutor.retrieval.keys`), when any


def texts_digest(texts: list[str]) -> str:
    digest = hashlib.sha256()
    for t in texts:
        digest.update(t.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def cache_path(cache_dir: Path, course_id: str, model_id: str, key: str) -> Path:
    return cache_dir / f"{_slug(course_id)}-{model_slug(model_id)}-{key}.npz"


def load(path: Path, expected_digest: str) -> CachedIndex | None:
    """The cached index, or None when missing, unreadable or built from other texts."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            digest = str(data["texts_digest"])
            if digest != expected_digest:
                return None
            return CachedIndex(
                passage_vectors=np.ascontiguousarray(data["passages"], dtype=np.float32),
                sentence_vectors=np.ascontiguousarray(data["sentences"], dtype=np.float32),
                texts_digest=digest,
                key_vectors=np.ascontiguousarray(data["keys"], dtype=np.float32) if "keys" in data else None,
            )
    except (OSError, ValueError, KeyError, EOFError):
        return None


def save(path: Path, index: CachedIndex) -> None:
    """Write atomically (temp file + rename) and drop older indexes of the same course and model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    os.close(fd)
    try:
        np.savez(
            tmp,
            passages=index.passage_vectors,
            sentences=index.sentence_vectors,
            texts_digest=np.array(index.texts_digest),
            keys=index.key_vectors if index.key_vectors is not None else np.zeros((0, 0), dtype=np.float32),
        )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for old in path.parent.glob(prefix + "*.npz"):
        if old != path:
            try:
                old.unlink()
            except OSError:
                pass
