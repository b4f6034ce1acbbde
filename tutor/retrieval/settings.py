"""Per-embedder settings fitted on the dev split: the fusion weight and the scope classifier.

Cosine scales differ between the base and the fine-tuned MiniLM, so each has
its own file next to the adapter: ``calibration.json`` in an adapter folder,
``calibration-base.json`` (in the shipped adapter folder) for the base model.
A file fitted for another ``model_id`` (a retrained adapter) is ignored.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from tutor.retrieval.errors import RetrievalError
from tutor.retrieval.fusion import METHODS, FusionConfig
from tutor.retrieval.scope import ScopeModel

CALIBRATION_FILE = "calibration.json"
BASE_CALIBRATION_FILE = "calibration-base.json"


@dataclass(frozen=True)
class Calibration:
    model_id: str
    fusion: FusionConfig
    scope: ScopeModel

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "model_id": self.model_id,
            "fusion": asdict(self.fusion),
            "scope": json.loads(self.scope.to_json()),
        }
        path.write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            data = json.loads(path.read_text())
            fusion = FusionConfig(**data["fusion"])
            if fusion.method not in METHODS:
                raise ValueError(f"unknown fusion method {fusion.method!r}")
            return cls(data["model_id"], fusion, ScopeModel.from_json(json.dumps(data["scope"])))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RetrievalError(f"bad retrieval calibration {path}: {exc}") from exc


def calibration_file(adapter_dir: Path | None) -> Path:
    """Where the calibration of an embedder lives (its adapter folder, or the shipped one for the base)."""
    from tutor.retrieval.embedder import shipped_adapter_dir

    if adapter_dir is not None:
        return adapter_dir / CALIBRATION_FILE
    return shipped_adapter_dir() / BASE_CALIBRATION_FILE


def calibration_for(embedder: object) -> Calibration | None:
    """The calibration fitted for exactly this embedder, if one is shipped."""
    if not hasattr(embedder, "adapter_dir"):
        return None  # not a MiniLM embedder (e.g. a test fake): nothing was fitted for it
    path = calibration_file(getattr(embedder, "adapter_dir"))
    if not path.is_file():
        return None
    calibration = Calibration.load(path)
    return calibration if calibration.model_id == getattr(embedder, "model_id", None) else None
