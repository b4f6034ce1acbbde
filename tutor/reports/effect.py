"""Tutoring effect: is the next answer on a concept right more often after asking the tutor about it?

An answer on concept C counts as *after tutoring* when, before it and since
the learner's previous answer on C, the learner asked the tutor a question
whose cited sections teach C (the question's own citations, or those of the
tutor's reply). Every other answer counts as *without tutoring*.

Two comparisons are given, because learners who use the tutor are not a
random sample: against every other answer in the class, and against the other
answers of the same learners (those who asked the tutor at least once).
Overall figures count answers (an answer is after tutoring when any of its
concepts was discussed); per-concept figures count (answer, concept) pairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from tutor.reports import queries
from tutor.reports.catalog import CourseInfo, ItemCatalog
from tutor.reports.tables import Column, Table


@dataclass
class Rate:
    answers: int = 0
    correct: int = 0

    @property
    def rate(self) -> float | None:
        return self.correct / self.answers if self.answers else None

    def minus(self, other: Rate) -> Rate:
        return Rate(self.answers - other.answers, self.correct - other.correct)

    def as_dict(self) -> dict[str, Any]:
        return {"answers": self.answers, "correct": self.correct, "rate": self.rate}


@dataclass(frozen=True)
class ConceptEffect:
    concept_id: str
    name: str
    after_tutor: Rate
    without: Rate
    same_learners: Rate

    @property
    def difference(self) -> float | None:
        a, b = self.after_tutor.rate, self.without.rate
        return None if a is None or b is None else a - b


@dataclass(frozen=True)
class EffectReport:
    kind = "effect"
    after_tutor: Rate
    without: Rate
    same_learners: Rate
    learners_using_tutor: int
    concepts: tuple[ConceptEffect, ...] = field(default_factory=tuple)

    @property
    def difference(self) -> float | None:
        a, b = self.after_tutor.rate, self.without.rate
        return None if a is None or b is None else a - b

    def summary(self) -> list[str]:
        def pct(r: Rate) -> str:
            return "–" if r.rate is None else f"{r.rate:.0%} of {r.answers:,}"

        diff = "–" if self.difference is None else f"{self.difference * 100:+.1f} points"
        return [
            f"Tutoring effect: {self.learners_using_tutor:,} learners asked the tutor",
            f"  right after asking the tutor about the concept: {pct(self.after_tutor)} answers correct",
            f"  without a tutor conversation (whole class):    {pct(self.without)} answers correct ({diff})",
            f"  without, same learners only:                   {pct(self.same_learners)} answers correct",
        ]

    def concept_table(self) -> Table:
        return Table(
            "effect",
            "By concept (answer, concept pairs)",
            (
                Column("concept_id", "Concept"),
                Column("after_answers", "After tutor", "int"),
                Column("after_rate", "Correct", "pct"),
                Column("without_answers", "Without", "int"),
                Column("without_rate", "Correct", "pct"),
                Column("same_rate", "Same learners", "pct"),
                Column("difference", "Difference", "float"),
            ),
            [
                {
                    "concept_id": c.concept_id,
                    "name": c.name,
                    "after_answers": c.after_tutor.answers,
                    "after_correct": c.after_tutor.correct,
                    "after_rate": c.after_tutor.rate,
                    "without_answers": c.without.answers,
                    "without_correct": c.without.correct,
                    "without_rate": c.without.rate,
                    "same_answers": c.same_learners.answers,
                    "same_rate": c.same_learners.rate,
                    "difference": c.difference,
                }
                for c in self.concepts
            ],
        )

    def main_table(self) -> Table:
        return self.concept_table()

    def tables(self) -> list[Table]:
        return [self.concept_table()]

    def to_json(self) -> dict[str, Any]:
        return {
            "report": "effect",
            "learners_using_tutor": self.learners_using_tutor,
            "after_tutor": self.after_tutor.as_dict(),
            "without": self.without.as_dict(),
            "same_learners_without": self.same_learners.as_dict(),
            "difference": self.difference,
            "concepts": self.concept_table().rows,
        }


def _cited(messages: Sequence[Any], i: int) -> Sequence[str]:
    """A question's citations: its own, else those of the tutor's reply before the next question."""
    if messages[i].sources:
        return messages[i].sources
    for later in messages[i + 1 :]:
        if later.role == "user":
            return ()
        if later.role == "assistant":
            return later.sources or ()
    return ()


def tutored_answers(
    messages: Sequence[Any],
    attempts: Sequence[Any],
    concepts_of: Mapping[str, tuple[str, ...]],
    info: CourseInfo,
) -> list[tuple[Any, tuple[str, ...], frozenset[str]]]:
    """One learner's answers (time order), each with its concepts and those discussed just before it.

    ``messages`` and ``attempts`` are one learner's, oldest first, with
    ``role, at, sources`` and ``item_id, correct, at`` (``at``: comparable time).
    """
    asked: list[tuple[Any, set[str]]] = []
    for i, m in enumerate(messages):
        if m.role == "user":
            taught = info.concepts_taught(_cited(messages, i))
            if taught:
                asked.append((m.at, taught))
    out = []
    last_question: dict[str, Any] = {}  # concept -> time of the latest question about it so far
    last_answer: dict[str, Any] = {}  # concept -> time of the latest answer on it so far
    q, n_asked = 0, len(asked)
    none: frozenset[str] = frozenset()
    for attempt in attempts:
        at = attempt.at
        while q < n_asked and asked[q][0] < at:  # strictly before the answer
            for concept in asked[q][1]:
                last_question[concept] = asked[q][0]
            q += 1
        concepts = concepts_of.get(attempt.item_id, ())
        discussed = none
        if last_question:
            found = []
            for c in concepts:
                asked_at = last_question.get(c)
                if asked_at is not None:
                    answered_at = last_answer.get(c)
                    if answered_at is None or asked_at > answered_at:
                        found.append(c)
            if found:
                discussed = frozenset(found)
        for c in concepts:
            last_answer[c] = at
        out.append((attempt, concepts, discussed))
    return out


def _by_learner(rows: Sequence[Any]) -> dict[int, Sequence[Any]]:
    """Rows sorted by learner, split into one slice per learner."""
    out: dict[int, Sequence[Any]] = {}
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i].learner_id != rows[start].learner_id:
            out[rows[start].learner_id] = rows[start:i]
            start = i
    return out


def effect_report(conn: Connection, info: CourseInfo, catalog: ItemCatalog) -> EffectReport:
    totals = queries.item_totals(conn)
    concepts_of = dict(catalog.concepts)
    missing = [item for item in totals if item not in concepts_of]
    concepts_of.update(queries.item_concepts(conn, missing))

    all_answers = Rate()
    all_pairs: dict[str, Rate] = defaultdict(Rate)
    for item_id, (n, right) in totals.items():
        all_answers.answers += n
        all_answers.correct += right
        for c in concepts_of.get(item_id, ()):
            all_pairs[c].answers += n
            all_pairs[c].correct += right

    messages, attempts = queries.tutor_timelines(conn)
    by_learner_attempts = _by_learner(attempts)

    after, same = Rate(), Rate()
    after_pairs: dict[str, Rate] = defaultdict(Rate)
    same_pairs: dict[str, Rate] = defaultdict(Rate)
    learners = 0
    for lid, msgs in _by_learner(messages).items():
        learners += 1
        for attempt, concepts, discussed in tutored_answers(msgs, by_learner_attempts.get(lid, ()), concepts_of, info):
            right = attempt.correct
            bucket = after if discussed else same
            bucket.answers += 1
            bucket.correct += right
            for c in concepts:
                pair = (after_pairs if c in discussed else same_pairs)[c]
                pair.answers += 1
                pair.correct += right

    order = {cid: i for i, cid in enumerate(info.concept_names)}
    concept_ids = sorted(set(all_pairs) | set(after_pairs), key=lambda c: (order.get(c, len(order)), c))
    return EffectReport(
        after_tutor=after,
        without=all_answers.minus(after),
        same_learners=same,
        learners_using_tutor=learners,
        concepts=tuple(
            ConceptEffect(
                concept_id=c,
                name=info.concept_name(c),
                after_tutor=after_pairs.get(c, Rate()),
                without=all_pairs.get(c, Rate()).minus(after_pairs.get(c, Rate())),
                same_learners=same_pairs.get(c, Rate()),
            )
            for c in concept_ids
        ),
    )
