"""The retrieval dev set (evals/<course>/questions.yaml): questions with the sections that answer them.

Two splits: ``dev`` tunes fusion weights, the scope classifier and the
embedder's fine-tuning data; ``heldout`` only ever gives final figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tutor.retrieval.errors import RetrievalError

Split = Literal["dev", "heldout", "all"]
SPLITS = ("dev", "heldout", "all")


@dataclass(frozen=True)
class InScopeQuestion:
    id: str
    question: str
    sections: tuple[str, ...]  # first = best
    split: str
    key_facts: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class OutOfScopeQuestion:
    id: str
    question: str
    kind: str  # off-topic | near-topic
    split: str


@dataclass(frozen=True)
class DevSet:
    in_scope: tuple[InScopeQuestion, ...]
    out_of_scope: tuple[OutOfScopeQuestion, ...]
    path: Path | None = None

    def split(self, name: Split) -> DevSet:
        if name == "all":
            return self
        return DevSet(
            tuple(q for q in self.in_scope if q.split == name),
            tuple(q for q in self.out_of_scope if q.split == name),
            self.path,
        )


def default_path(course_id: str = "genai-models") -> Path:
    from tutor.config import _SOURCE_ROOT  # the dev set lives in the repo, not in the wheel

    return _SOURCE_ROOT / "evals" / course_id / "questions.yaml"


def read_question_file(path: Path) -> dict:
    """The YAML mapping of a question file (in_scope / out_of_scope), or a RetrievalError naming the file.

    Parsed with libyaml when PyYAML has it: the question files are read at every start (they are the
    search's example questions, `tutor.retrieval.keys`), and the pure-Python loader takes ~130 ms on
    them against ~15 ms.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    except yaml.YAMLError as exc:
        raise RetrievalError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RetrievalError(f"{path}: expected a mapping with in_scope and out_of_scope")
    return data


def load_devset(path: Path | None = None, course_id: str = "genai-models") -> DevSet:
    """Read and check the dev set; a clear RetrievalError names the file and entry on any problem."""
    path = Path(path) if path else default_path(course_id)
    if not path.is_file():
        raise RetrievalError(f"no dev set at {path}")
    data = read_question_file(path)
    ins, outs = [], []
    for n, item in enumerate(data.get("in_scope") or []):
        try:
            ins.append(
                InScopeQuestion(
                    id=str(item["id"]),
                    question=str(item["question"]),
                    sections=tuple(str(s) for s in item["sections"]),
                    split=str(item.get("split", "dev")),
                    key_facts=tuple(tuple(str(a) for a in f) for f in item.get("key_facts") or ()),
                )
            )
        except (KeyError, TypeError) as exc:
            raise RetrievalError(f"{path}: in_scope entry {n + 1} is missing {exc}") from exc
    for n, item in enumerate(data.get("out_of_scope") or []):
        try:
            outs.append(
                OutOfScopeQuestion(
                    id=str(item["id"]),
                    question=str(item["question"]),
                    kind=str(item.get("kind", "off-topic")),
                    split=str(item.get("split", "dev")),
                )
            )
        except (KeyError, TypeError) as exc:
            raise RetrievalError(f"{path}: out_of_scope entry {n + 1} is missing {exc}") from exc
    return DevSet(tuple(ins), tuple(outs), path)
