"""Per-concept BKT parameters: defaults, or those fitted by `tutor learner fit`.

The fitted set is a small JSON file in the data folder, one per course, so the
quiz engine can read it without touching the database schema. A concept missing
from the file (too little history when it was fitted) uses the defaults.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tutor.learner.bkt import DEFAULT_PARAMS, BKTParamError, BKTParams


class ParamsFileError(ValueError):
    """The fitted-parameters file cannot be read."""


@dataclass(frozen=True)
class ConceptFit:
    """How one concept's parameters were obtained (shown by `tutor learner fit`)."""

    params: BKTParams
    source: str  # "fitted" | "default"
    attempts: int = 0
    learners: int = 0
    log_likelihood: float | None = None


@dataclass(frozen=True)
class ParamSet:
    """BKT parameters for every concept of a course."""

    default: BKTParams = DEFAULT_PARAMS
    concepts: dict[str, ConceptFit] = field(default_factory=dict)

    def for_concept(self, concept_id: str) -> BKTParams:
        fit = self.concepts.get(concept_id)
        return fit.params if fit is not None else self.default

    def to_dict(self) -> dict:
        return {
            "default": self.default.to_dict(),
            "concepts": {
                cid: {
                    "params": fit.params.to_dict(),
                    "source": fit.source,
                    "attempts": fit.attempts,
                    "learners": fit.learners,
                    "log_likelihood": fit.log_likelihood,
                }
                for cid, fit in sorted(self.concepts.items())
            },
        }

    @classmethod
    def from_dict(cls, data: dict) -> ParamSet:
        default = BKTParams.from_dict(data.get("default", DEFAULT_PARAMS.to_dict()))
        concepts = {
            cid: ConceptFit(
                params=BKTParams.from_dict(entry["params"]),
                source=str(entry.get("source", "fitted")),
                attempts=int(entry.get("attempts", 0)),
                learners=int(entry.get("learners", 0)),
                log_likelihood=entry.get("log_likelihood"),
            )
            for cid, entry in data.get("concepts", {}).items()
        }
        return cls(default=default, concepts=concepts)


def params_path(course_id: str) -> Path:
    from tutor.config import paths

    return paths().data_dir / "learner" / f"bkt-{course_id}.json"


def load_params(course_id: str, path: Path | None = None) -> ParamSet:
    """The fitted set if `tutor learner fit` wrote one, else all defaults."""
    target = path or params_path(course_id)
    if not target.is_file():
        return ParamSet()
    try:
        return ParamSet.from_dict(json.loads(target.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, BKTParamError) as exc:
        raise ParamsFileError(f"{target}: cannot read fitted BKT parameters ({exc}); rerun `tutor learner fit`") from exc


def save_params(course_id: str, params: ParamSet, path: Path | None = None) -> Path:
    target = path or params_path(course_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(params.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(target)  # atomic: a crash never leaves half a file
    return target
