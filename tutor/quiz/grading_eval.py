"""Measure scenario grading against the grading dev set, and calibrate its thresholds.

The dev set (`evals/<course>/grading.yaml`) holds learners' answers with the
verdict and key points a careful human grader gives. The samples are split by
*item*: thresholds are searched on the calibration items only and the figures
are reported on the held-out items too, so the agreement quoted for unseen
scenarios is not the one the thresholds were fitted to.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tutor.quiz.errors import QuizError
from tutor.quiz.grading import VERDICTS, ScenarioAnswer, ScenarioFeatures, ScenarioGrader, Thresholds, decide
from tutor.quiz.model import QuestionBank, Scenario


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: str
    key_points_met: list[int] = Field(default_factory=list)


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    item: str
    kind: str
    model_type: str
    explanation: str = ""
    expected: Expected


class DevSet(BaseModel):
    samples: list[Sample]


def devset_path(course_id: str) -> Path:
    """The dev set shipped in the source tree (evals are not part of the wheel)."""
    return Path(__file__).resolve().parents[2] / "evals" / course_id / "grading.yaml"


def load_devset(bank: QuestionBank, path: Path | None = None) -> list[Sample]:
    """Read and check the dev set: every sample names a scenario of the bank and a known verdict."""
    import yaml

    target = path or devset_path(bank.course_id)
    if not target.is_file():
        raise QuizError(f"grading dev set not found: {target}")
    try:
        data = yaml.safe_load(target.read_text(encoding="utf-8"))
        devset = DevSet.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()[0:3]
        raise QuizError(f"{target}: not a valid grading dev set: {' '.join(first)}") from exc
    scenarios = {i.id: i for i in bank.items if isinstance(i, Scenario)}
    for sample in devset.samples:
        if sample.item not in scenarios:
            raise QuizError(f"{target}: sample {sample.id} names '{sample.item}', which is not a scenario of the bank")
        if sample.expected.verdict not in VERDICTS:
            raise QuizError(f"{target}: sample {sample.id} has verdict '{sample.expected.verdict}'")
        n = len(scenarios[sample.item].key_points)
        if any(not 0 <= k < n for k in sample.expected.key_points_met):
            raise QuizError(f"{target}: sample {sample.id} lists a key point outside 0..{n - 1}")
    if not devset.samples:
        raise QuizError(f"{target}: no samples")
    return devset.samples


def split(samples: Sequence[Sample]) -> tuple[list[Sample], list[Sample]]:
    """(calibration, held-out): alternate items in sorted order, so no held-out item was seen in calibration."""
    items = sorted({s.item for s in samples}, key=lambda i: (len(i), i))
    calibration_items = set(items[0::2])
    cal = [s for s in samples if s.item in calibration_items]
    held = [s for s in samples if s.item not in calibration_items]
    return cal, held


@dataclass
class Scored:
    sample: Sample
    features: ScenarioFeatures


def featurise(grader: ScenarioGrader, bank: QuestionBank, samples: Sequence[Sample]) -> list[Scored]:
    out = []
    for sample in samples:
        item = bank.item(sample.item)
        assert isinstance(item, Scenario)
        out.append(Scored(sample, grader.features(item, ScenarioAnswer(sample.model_type, sample.explanation))))
    return out


@dataclass
class Report:
    n: int
    agreement: float
    confusion: dict[str, dict[str, int]]  # expected -> predicted -> count
    key_point_precision: float
    key_point_recall: float
    key_point_f1: float
    by_kind: dict[str, float]  # kind -> agreement
    misgraded: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "agreement": round(self.agreement, 4),
            "confusion": self.confusion,
            "key_points": {
                "precision": round(self.key_point_precision, 4),
                "recall": round(self.key_point_recall, 4),
                "f1": round(self.key_point_f1, 4),
            },
            "by_kind": {k: round(v, 4) for k, v in sorted(self.by_kind.items())},
            "misgraded": self.misgraded,
        }


def report(scored: Sequence[Scored], thresholds: Thresholds) -> Report:
    confusion = {e: {p: 0 for p in VERDICTS} for e in VERDICTS}
    agree = 0
    tp = fp = fn = 0
    kind_total: Counter[str] = Counter()
    kind_ok: Counter[str] = Counter()
    misgraded = []
    for s in scored:
        grade = decide(s.features, thresholds)
        expected = s.sample.expected
        confusion[expected.verdict][grade.verdict] += 1
        ok = grade.verdict == expected.verdict
        agree += ok
        kind_total[s.sample.kind] += 1
        kind_ok[s.sample.kind] += ok
        want, got = set(expected.key_points_met), set(grade.key_points_met)
        tp += len(want & got)
        fp += len(got - want)
        fn += len(want - got)
        if not ok:
            misgraded.append({
                "id": s.sample.id, "kind": s.sample.kind, "expected": expected.verdict, "got": grade.verdict,
                "flags": list(grade.flags), "met": sorted(got), "expected_met": sorted(want),
            })
    n = len(scored)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Report(
        n=n,
        agreement=agree / n if n else 0.0,
        confusion=confusion,
        key_point_precision=precision,
        key_point_recall=recall,
        key_point_f1=f1,
        by_kind={k: kind_ok[k] / kind_total[k] for k in kind_total},
        misgraded=misgraded,
    )


GRID = {
    "point_sim": (0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75),
    "point_sim_low": (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55),
    "point_terms": (0.2, 0.25, 0.34, 0.4, 0.5, 0.6),
    "off_topic_sim": (0.1, 0.15, 0.2, 0.25, 0.3, 0.35),
}


def calibrate(scored: Sequence[Scored], base: Thresholds) -> tuple[Thresholds, Report]:
    """The thresholds (on the grid) with the best verdict agreement, then key-point F1, on these samples.

    Among equally good settings the middle one is kept: it sits furthest from the edges of the plateau.
    """
    candidates: list[tuple[tuple[float, float], Thresholds]] = []
    names = list(GRID)
    for values in itertools.product(*(GRID[n] for n in names)):
        setting = dict(zip(names, values, strict=True))
        if setting["point_sim_low"] > setting["point_sim"]:
            continue
        thresholds = replace(base, **setting)
        r = report(scored, thresholds)
        candidates.append(((round(r.agreement, 6), round(r.key_point_f1, 6)), thresholds))
    best_key = max(key for key, _ in candidates)
    tied = [t for key, t in candidates if key == best_key]
    chosen = tied[len(tied) // 2]
    return chosen, report(scored, chosen)
