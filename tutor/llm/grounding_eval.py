"""How far the groundedness check (`tutor.llm.grounding`) agrees with labels given by reading.

Groundedness is a goal of the tutor adapter and decides when an answer carries the "parts of this explanation go
beyond the lesson text" notice, yet the check is sentence similarity plus a novelty count: it can pass a reversed
relation and flag a faithful plain-words paraphrase. `evals/<course>/grounding.yaml` holds the own sentences of
answers to the dev questions (the base model, the shipped adapter and retrains that were not shipped), each
labelled against the evidence the model was given, by readers following `grounding-guide.md` beside it; heldout
answers labelled the same way live apart, in `grounding-heldout.yaml`, for reporting only. This module scores
them with the check and reports:

- agreement and balanced accuracy of "flagged" (score under the threshold) with "unsupported";
- the precision and recall of the flags, and how many plainly wrong sentences the check catches;
- per group (model and learner level), groundedness by the labels next to groundedness by the check, on the same
  answers: the gap is how far the reported figure is off;
- a sweep of thresholds, and a threshold chosen by cross-validation over the questions, so a new threshold is
  chosen on the labels and not on a goal.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tutor.llm.errors import LLMError
from tutor.llm.grounding import SENTENCE_SUPPORT, grounding
from tutor.llm.prompt import without_opener

Encode = Callable[[list[str]], np.ndarray]
Label = Literal["supported", "unsupported", "no-claim"]
SWEEP = tuple(round(0.40 + 0.05 * i, 2) for i in range(10))  # 0.40 .. 0.85


class LabelledSentence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    source: str = Field(description="model/level/question id, e.g. adapter/beginner/q041")
    question: str
    evidence: list[str] = Field(min_length=1)
    sentence: str = Field(min_length=1)
    label: Label
    wrong: bool = False
    note: str = ""

    @property
    def group(self) -> str:
        return "/".join(self.source.split("/")[:2])


class GroundingSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[LabelledSentence] = Field(min_length=1)


def labels_path(course_id: str = "genai-models") -> Path:
    """The labelled set kept in the source tree (evals are not part of the wheel)."""
    return Path(__file__).resolve().parents[2] / "evals" / course_id / "grounding.yaml"


def load_labels(path: Path | None = None) -> list[LabelledSentence]:
    """Read and check the labelled sentences (a clear message, naming the file, when it is malformed)."""
    import yaml

    target = Path(path) if path else labels_path()
    if not target.is_file():
        raise LLMError(f"grounding labels not found: {target}")
    try:
        data = yaml.safe_load(target.read_text(encoding="utf-8"))
        items = GroundingSet.model_validate(data).items
    except (yaml.YAMLError, OSError) as exc:
        raise LLMError(f"cannot read {target}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LLMError(f"{target}: {where}: {first['msg']}") from None
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise LLMError(f"{target}: id {item.id!r} is used twice")
        seen.add(item.id)
    return items


@dataclass(frozen=True)
class ScoredSentence:
    item: LabelledSentence
    score: float

    @property
    def unsupported(self) -> bool:
        return self.item.label == "unsupported"


def score_items(items: Sequence[LabelledSentence], encode: Encode) -> list[ScoredSentence]:
    """The check's support score of each sentence against its own evidence, as the answer pipeline scores it.

    A sentence too short for the pipeline to judge scores 1.0: it is never flagged there either. A leading
    opener ("In simple words,") is the tutor's seeded text and is left out, as the pipeline leaves it out.
    """
    out = []
    for item in items:
        g = grounding(without_opener(item.sentence), item.evidence, encode, question=item.question)
        score = min(sc for _, sc in g.sentences) if g.sentences else 1.0
        out.append(ScoredSentence(item, score))
    return out


@dataclass(frozen=True)
class Agreement:
    threshold: float
    n: int
    unsupported: int
    flagged: int
    agreement: float
    balanced_accuracy: float | None  # None when the sentences hold only one of the two labels
    flag_precision: float | None  # flagged sentences that are unsupported
    flag_recall: float | None  # unsupported sentences that are flagged
    wrong: int  # sentences labelled plainly wrong
    wrong_caught: float | None  # of those, flagged


def agreement(scored: Sequence[ScoredSentence], threshold: float = SENTENCE_SUPPORT) -> Agreement:
    """How the flags (score < threshold) match the labels ("no-claim" counts as fine to say)."""
    flags = [s.score < threshold for s in scored]
    bad = [s.unsupported for s in scored]
    tp = sum(f and b for f, b in zip(flags, bad))
    tn = sum(not f and not b for f, b in zip(flags, bad))
    n_bad, n_flag = sum(bad), sum(flags)
    n_good = len(scored) - n_bad
    recall = tp / n_bad if n_bad else None
    specificity = tn / n_good if n_good else None
    wrong = [f for f, s in zip(flags, scored) if s.item.wrong]
    return Agreement(
        threshold=threshold,
        n=len(scored),
        unsupported=n_bad,
        flagged=n_flag,
        agreement=round((tp + tn) / len(scored), 4) if scored else 0.0,
        balanced_accuracy=round((recall + specificity) / 2, 4) if recall is not None and specificity is not None else None,
        flag_precision=round(tp / n_flag, 4) if n_flag else None,
        flag_recall=round(recall, 4) if recall is not None else None,
        wrong=len(wrong),
        wrong_caught=round(sum(wrong) / len(wrong), 4) if wrong else None,
    )


@dataclass(frozen=True)
class GroupFigures:
    group: str
    answers: int
    sentences: int
    grounded_by_labels: float  # mean over answers of the share of sentences not labelled unsupported
    grounded_by_check: float  # the same answers, the share the check supports
    wrong_share: float  # sentences labelled plainly wrong


def by_group(scored: Sequence[ScoredSentence], threshold: float = SENTENCE_SUPPORT) -> list[GroupFigures]:
    """Groundedness by the labels and by the check, per model and level, averaged per answer as the pipeline does."""
    answers: dict[str, dict[str, list[ScoredSentence]]] = defaultdict(lambda: defaultdict(list))
    for s in scored:
        answers[s.item.group][s.item.source].append(s)
    out = []
    for group, per_answer in sorted(answers.items()):
        sentences = [s for ss in per_answer.values() for s in ss]
        out.append(GroupFigures(
            group=group,
            answers=len(per_answer),
            sentences=len(sentences),
            grounded_by_labels=round(statistics.mean(
                statistics.mean(0.0 if s.unsupported else 1.0 for s in ss) for ss in per_answer.values()), 4),
            grounded_by_check=round(statistics.mean(
                statistics.mean(1.0 if s.score >= threshold else 0.0 for s in ss) for ss in per_answer.values()), 4),
            wrong_share=round(sum(s.item.wrong for s in sentences) / len(sentences), 4),
        ))
    return out


@dataclass(frozen=True)
class CrossValidated:
    folds: tuple[float, ...]  # the threshold each fold chose on its other half
    chosen_balanced_accuracy: float  # mean over folds, measured on the held half
    shipped_balanced_accuracy: float  # the shipped threshold on the same held halves


def cross_validate(scored: Sequence[ScoredSentence], shipped: float = SENTENCE_SUPPORT) -> CrossValidated | None:
    """Two folds by question: choose the threshold with the best balanced accuracy on one half, measure it on the other.

    Split by question (every sentence of a question's answers on one side), so a threshold is never judged on
    the answers it was chosen on. None when a half has no unsupported or no supported sentence.
    """
    questions = sorted({s.item.source.split("/")[-1] for s in scored})
    halves = [set(questions[0::2]), set(questions[1::2])]
    parts = [[s for s in scored if s.item.source.split("/")[-1] in h] for h in halves]
    if any(not any(s.unsupported for s in p) or all(s.unsupported for s in p) for p in parts):
        return None
    chosen, held, base = [], [], []
    for fit, test in ((parts[0], parts[1]), (parts[1], parts[0])):
        best = max(SWEEP, key=lambda t: (agreement(fit, t).balanced_accuracy or 0.0, -abs(t - shipped)))
        chosen.append(best)
        held.append(agreement(test, best).balanced_accuracy or 0.0)
        base.append(agreement(test, shipped).balanced_accuracy or 0.0)
    return CrossValidated(tuple(chosen), round(statistics.mean(held), 4), round(statistics.mean(base), 4))
