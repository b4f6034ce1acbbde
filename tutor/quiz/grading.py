"""Grading: multiple choice against the key; scenario exercises against their rubric.

A scenario answer is a model type and an explanation. The type is checked
against the item's accepted types. The explanation is checked, key point by key
point, with two kinds of evidence: embedding similarity (MiniLM) between the
key point and the learner's sentences, and the key point's own terms found in
the explanation (terms that the scenario text already contains do not count:
repeating the question is not knowing the answer). A key point is met when the
similarity is high, or fairly high with enough key terms.

Guard rails run first and give no points at all: an empty or very short
explanation, gibberish (few real words), an explanation that mostly copies the
scenario back, and one that is off topic (far from every key point with no key
terms). Thresholds are calibrated on part of the grading dev set
(`tutor eval grading --calibrate`) and reported on the rest.

No language model takes part: the score is a pure function of these features.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tutor.quiz.model import MultipleChoice, Scenario
from tutor.quiz.model_types import LABELS, NAMES, parse_model_type
from tutor.quiz.text import STOPWORDS, clauses, content_stems, content_words, known_ratio, sentences, words

Embed = Callable[[list[str]], np.ndarray]

VERDICTS = ("correct", "partial", "incorrect")


@dataclass(frozen=True)
class ScenarioAnswer:
    """A learner's answer to a scenario: the chosen model type and the explanation of why."""

    model_type: str
    explanation: str


@dataclass(frozen=True)
class Thresholds:
    """The numbers that turn features into a grade (calibrated on the grading dev set)."""

    # The first four come from `tutor eval grading --calibrate` on the calibration half of the dev set
    # (base MiniLM); the rest are fixed guard-rail settings.
    point_sim: float = 0.55  # similarity alone that meets a key point
    point_sim_low: float = 0.45  # similarity that meets a key point together with key terms
    point_terms: float = 0.20  # share of a key point's own terms present, for the low-similarity route
    off_topic_sim: float = 0.25  # best similarity to any key point below this (and few terms): off topic
    correct_share: float = 2 / 3  # share of key points met (with an accepted type) for "correct"
    min_words: int = 3  # fewer distinct content words: empty
    known_words: float = 0.6  # lower share of real words: gibberish
    min_function_share: float = 0.1  # word salad: almost no function words ...
    max_repeat_share: float = 0.3  # ... and many repeated words
    copy_overlap: float = 0.8  # a sentence with this share of its words from the scenario is copied
    type_weight: float = 0.4  # share of the score for the right type (the rest: key points)

    def to_dict(self) -> dict[str, float]:
        from dataclasses import asdict

        return asdict(self)


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class ScenarioFeatures:
    """What grading measured; kept apart from the decision so calibration embeds each answer once."""

    model_type: str | None  # the type as understood, None when not a known type
    type_ok: bool
    content_words: int  # distinct content words
    known_ratio: float  # share of real words
    function_share: float  # share of function words (the, is, because, ...): low in word salad
    repeat_share: float  # share of content words that repeat an earlier one
    copied_share: float  # share of the explanation's sentences copied from the scenario
    similarities: tuple[float, ...]  # best similarity per key point (own sentences only)
    term_shares: tuple[float, ...]  # share of each key point's terms present


@dataclass(frozen=True)
class ScenarioGrade:
    verdict: str
    score: float
    type_ok: bool
    key_points_met: tuple[int, ...]
    key_points_missed: tuple[int, ...]
    flags: tuple[str, ...] = ()  # "empty" | "gibberish" | "copied" | "off_topic" | "unknown_type"
    features: ScenarioFeatures | None = field(default=None, compare=False)


def grade_multiple_choice(item: MultipleChoice, key: str) -> tuple[bool, str, str]:
    """(correct, feedback on the chosen option, explanation of the correct one)."""
    chosen = next((o for o in item.options if o.key == key), None)
    if chosen is None:
        raise ValueError(f"'{key}' is not an option of {item.id}")
    correct_option = next(o for o in item.options if o.key == item.answer)
    return chosen.key == item.answer, chosen.feedback, f"{correct_option.key}. {correct_option.text}: {correct_option.feedback}"


class ScenarioGrader:
    """Grades scenario answers with an embedder; caches embeddings so repeated texts cost nothing."""

    def __init__(self, embed: Embed, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 vocabulary: frozenset[str] = frozenset()) -> None:
        self._embed = embed
        self.thresholds = thresholds
        self._vocabulary = vocabulary  # course words that count as real words
        self._cache: dict[str, np.ndarray] = {}

    def _vectors(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vecs = np.asarray(self._embed(missing), dtype=np.float32)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            vecs = vecs / np.maximum(norms, 1e-12)
            for text, vec in zip(missing, vecs, strict=True):
                self._cache[text] = vec
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    def features(self, item: Scenario, answer: ScenarioAnswer) -> ScenarioFeatures:
        t = self.thresholds
        model_type = parse_model_type(answer.model_type)
        type_ok = model_type is not None and model_type in item.accepted
        explanation = answer.explanation.strip()
        tokens = words(explanation)
        content = content_words(explanation)
        n_words = len(set(content))
        ratio = known_ratio(explanation, self._vocabulary) if explanation else 0.0
        function_share = sum(w in STOPWORDS for w in tokens) / len(tokens) if tokens else 0.0
        repeat_share = 1.0 - len(set(content)) / len(content) if content else 0.0

        scenario_stems = set(content_stems(item.scenario))
        own: list[str] = []
        units = sentences(explanation)
        for unit in units:
            unit_stems = content_stems(unit)
            if unit_stems and sum(s in scenario_stems for s in unit_stems) / len(unit_stems) >= t.copy_overlap:
                continue  # a sentence of the scenario given back: not the learner's reasoning
            own.append(unit)
        copied = 1.0 - (len(own) / len(units)) if units else 0.0

        own_stems = set(content_stems(" ".join(own)))
        term_shares = []
        for point in item.key_points:
            terms = set(content_stems(point))
            specific = terms - scenario_stems or terms
            term_shares.append(len(specific & own_stems) / len(specific) if specific else 0.0)

        if own:
            own = [_strip_choice(u) or u for u in own]
            parts = [c for unit in own for c in clauses(unit) if c not in own]
            texts = [u for u in dict.fromkeys(own + parts + ([" ".join(own)] if len(own) > 1 else []))
                     if len(words(u)) >= 3] or list(own)
            answer_vecs = self._vectors(texts)
            point_vecs = self._vectors(list(item.key_points))
            sims = (point_vecs @ answer_vecs.T).max(axis=1)
            similarities = tuple(float(s) for s in sims)
        else:
            similarities = tuple(0.0 for _ in item.key_points)
        return ScenarioFeatures(
            model_type, type_ok, n_words, ratio, function_share, repeat_share, copied, similarities, tuple(term_shares)
        )

    def grade(self, item: Scenario, answer: ScenarioAnswer) -> ScenarioGrade:
        return decide(self.features(item, answer), self.thresholds)


_CHOICE = re.compile(
    r"^\s*(?:(?:i\s*'?d|i would|i will|i'll|we should|you should)\s+(?:pick|choose|use|go with)\s+)?(?:an?\s+|the\s+)?"
    r"(?:" + "|".join(sorted({re.escape(n) for names in NAMES.values() for n in names}, key=len, reverse=True)) + r")"
    r"(?:\s+(?:model|network|variant))?s?\b[\s,.:;!-]*(?:because|since|as)?\s*",
    re.IGNORECASE,
)


def _strip_choice(unit: str) -> str:
    """Drop a leading statement of the chosen type ("LSTM because ..."): it is graded separately."""
    return _CHOICE.sub("", unit, count=1).strip()


def needed_points(n: int, share: float) -> int:
    """Key points needed for "correct": ceil(share * n), at least one (3 -> 2, 4 -> 3 with 2/3)."""
    return max(1, math.ceil(share * n - 1e-9))


def decide(f: ScenarioFeatures, t: Thresholds) -> ScenarioGrade:
    """The grade that features earn under thresholds: a pure function (what calibration searches over).

    Verdicts follow the grading dev set's rule: "correct" takes an accepted type and at least
    ceil(2/3) of the key points; "partial" an accepted type and at least one key point; anything
    else, and every answer caught by a guard rail, is "incorrect" and scores 0.
    """
    n = len(f.similarities)
    flags: list[str] = []
    if f.model_type is None:
        flags.append("unknown_type")
    if f.content_words < t.min_words:
        flags.append("empty")
    elif f.known_ratio < t.known_words or (
        f.function_share < t.min_function_share and f.repeat_share > t.max_repeat_share
    ):
        flags.append("gibberish")
    elif f.copied_share >= 0.999 or (f.copied_share > 0.5 and max(f.similarities, default=0.0) < t.point_sim):
        flags.append("copied")
    else:
        best_sim = max(f.similarities, default=0.0)
        if best_sim < t.off_topic_sim and max(f.term_shares, default=0.0) < t.point_terms:
            flags.append("off_topic")
    if any(flag in flags for flag in ("empty", "gibberish", "copied", "off_topic")):
        # a guard rail tripped: the explanation earns nothing, and neither does a bare type
        return ScenarioGrade("incorrect", 0.0, f.type_ok, (), tuple(range(n)), tuple(flags), f)
    met = tuple(
        i for i in range(n)
        if f.similarities[i] >= t.point_sim
        or (f.similarities[i] >= t.point_sim_low and f.term_shares[i] >= t.point_terms)
    )
    missed = tuple(i for i in range(n) if i not in met)
    if f.type_ok and met and len(met) >= needed_points(n, t.correct_share):
        verdict = "correct"
    elif f.type_ok and met:
        verdict = "partial"
    else:
        verdict = "incorrect"
    share = len(met) / n if n else 0.0
    score = 0.0 if verdict == "incorrect" else round(t.type_weight + (1.0 - t.type_weight) * share, 3)
    return ScenarioGrade(verdict, score, f.type_ok, met, missed, tuple(flags), f)


def scenario_feedback(item: Scenario, answer: ScenarioAnswer, grade: ScenarioGrade) -> tuple[str, str]:
    """(feedback on the learner's answer, explanation with the model answer): shown after grading."""
    accepted = ", ".join(LABELS.get(a, a) for a in item.accepted)
    parts: list[str] = []
    if "unknown_type" in grade.flags:
        parts.append(f'"{answer.model_type}" is not one of the model types of this course.')
    elif grade.type_ok:
        parts.append(f"Right model type: {LABELS.get(grade.features.model_type, answer.model_type)}."
                     if grade.features else "Right model type.")
    else:
        chosen = LABELS.get(grade.features.model_type or "", answer.model_type) if grade.features else answer.model_type
        parts.append(f"{chosen} is not the best fit here; this scenario calls for: {accepted}.")
    if "empty" in grade.flags:
        parts.append("Your explanation is empty or too short to grade: say why the model fits and how it works.")
    elif "gibberish" in grade.flags:
        parts.append("Your explanation could not be read as English sentences, so it earns no points.")
    elif "copied" in grade.flags:
        parts.append("Your explanation repeats the scenario; explain in your own words why the model fits.")
    elif "off_topic" in grade.flags:
        parts.append("Your explanation does not address this scenario or the model's workings.")
    else:
        if grade.key_points_met:
            parts.append("You explained: " + "; ".join(item.key_points[i] for i in grade.key_points_met) + ".")
        if grade.key_points_missed:
            parts.append("Still missing: " + "; ".join(item.key_points[i] for i in grade.key_points_missed) + ".")
    explanation = f"Accepted: {accepted}. Model answer: {item.model_answer}"
    return " ".join(parts), explanation


def with_thresholds(grader: ScenarioGrader, thresholds: Thresholds) -> ScenarioGrader:
    """A grader sharing the embedding cache but deciding with other thresholds (calibration)."""
    other = ScenarioGrader(grader._embed, thresholds, grader._vocabulary)
    other._cache = grader._cache
    return other


__all__ = [
    "DEFAULT_THRESHOLDS", "ScenarioAnswer", "ScenarioFeatures", "ScenarioGrade", "ScenarioGrader", "Thresholds",
    "VERDICTS", "decide", "grade_multiple_choice", "scenario_feedback", "with_thresholds",
]
