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

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
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


class Message(NamedTuple):
    learner_id: int
    role: str
    at: Any  # comparable time (see queries.tutor_timelines)
    sources: tuple[str, ...]


class Answer(NamedTuple):
    learner_id: int
    item_id: str
    correct: int
    at: Any


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
    This is the definition, answer by answer; ``tutoring_counts`` computes the
    same counts for a whole class at once.
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
        if i == len(rows) or rows[i][0] != rows[start][0]:
            out[rows[start][0]] = rows[start:i]
            start = i
    return out


@dataclass
class TutoringCounts:
    """The answers of the learners who used the tutor, split by whether tutoring came just before."""

    learners: int = 0
    after: Rate = field(default_factory=Rate)
    same: Rate = field(default_factory=Rate)  # the other answers of the same learners
    after_pairs: dict[str, Rate] = field(default_factory=dict)  # concept -> (answer, concept) pairs
    same_pairs: dict[str, Rate] = field(default_factory=dict)


def reference_counts(
    messages: Sequence[Message],
    attempts: Sequence[Answer],
    concepts_of: Mapping[str, tuple[str, ...]],
    info: CourseInfo,
) -> TutoringCounts:
    """``tutoring_counts`` by the definition: ``tutored_answers`` learner by learner (for tests)."""
    counts = TutoringCounts()
    after_pairs: dict[str, Rate] = defaultdict(Rate)
    same_pairs: dict[str, Rate] = defaultdict(Rate)
    by_learner_attempts = _by_learner(attempts)
    for lid, msgs in _by_learner(messages).items():
        counts.learners += 1
        for attempt, concepts, discussed in tutored_answers(msgs, by_learner_attempts.get(lid, ()), concepts_of, info):
            right = attempt.correct
            bucket = counts.after if discussed else counts.same
            bucket.answers += 1
            bucket.correct += right
            for c in concepts:
                pair = (after_pairs if c in discussed else same_pairs)[c]
                pair.answers += 1
                pair.correct += right
    counts.after_pairs, counts.same_pairs = dict(after_pairs), dict(same_pairs)
    return counts


def _questions(
    messages: Sequence[Message], info: CourseInfo
) -> tuple[list[int], list[Any], list[set[str]]]:
    """Every question that cited a section teaching some concept: learner, time, concepts taught."""
    learners: list[int] = []
    times: list[Any] = []
    taught_sets: list[set[str]] = []
    taught_by: dict[tuple[str, ...], set[str]] = {}
    for lid, msgs in _by_learner(messages).items():
        for i, m in enumerate(msgs):
            if m.role != "user":
                continue
            cited = tuple(_cited(msgs, i))
            taught = taught_by.get(cited)
            if taught is None:
                taught = taught_by[cited] = info.concepts_taught(cited)
            if taught:
                learners.append(lid)
                times.append(m.at)
                taught_sets.append(taught)
    return learners, times, taught_sets


def tutoring_counts(
    messages: Sequence[Message],
    attempts: queries.AnswerColumns | Sequence[tuple[int, str, int, Any]],
    concepts_of: Mapping[str, tuple[str, ...]],
    info: CourseInfo,
) -> TutoringCounts:
    """What ``reference_counts`` gives, for a whole class at once.

    Looping over every answer of every learner who used the tutor costs
    seconds in Python at 10,000 learners, so this turns the definition
    around: an answer on concept C is after tutoring exactly when it is the
    learner's first answer on C after some question about C, and the
    learner's previous answer on C came strictly before that question. So for
    each question and concept it finds that one answer by binary search over
    the (learner, concept, time)-ordered answers, and counts everything else
    with NumPy. Both take ``messages`` as ``timelines`` returns them and the
    answers by learner, each learner's in time order (``attempts`` here may
    also be the columns ``queries.tutor_answers`` returns).
    """
    counts = TutoringCounts()
    chat_learners = {m.learner_id for m in messages}
    counts.learners = len(chat_learners)
    if not isinstance(attempts, queries.AnswerColumns):
        attempts = queries.AnswerColumns.from_rows(attempts)
    learner, item_col, correct, at_col = attempts
    asked = np.isin(learner, np.fromiter(chat_learners, np.int64, len(chat_learners)))
    if not asked.all():  # only the answers of learners who asked count (tutor_answers returns no others)
        keep = asked.tolist()
        learner, correct = learner[asked], correct[asked]
        item_col = [x for x, k in zip(item_col, keep, strict=True) if k]
        at_col = [x for x, k in zip(at_col, keep, strict=True) if k]
    n = len(learner)
    if n == 0:
        return counts
    starts = np.flatnonzero(np.r_[True, learner[1:] != learner[:-1]])
    ends = np.r_[starts[1:], n]
    span = {int(learner[a]): (int(a), int(b)) for a, b in zip(starts, ends, strict=True)}
    learner_code = np.repeat(np.arange(len(starts)), ends - starts)

    # each attempt's concepts as (attempt, concept, multiplicity) pairs, in attempt order
    item_code: dict[str, int] = {}
    for item_id in sorted(set(item_col)):
        item_code[item_id] = len(item_code)
    attempt_item = np.fromiter(map(item_code.__getitem__, item_col), np.int64, n)
    concept_code: dict[str, int] = {}
    flat: list[int] = []
    weight: list[int] = []
    first = np.zeros(len(item_code) + 1, dtype=np.int64)
    for item_id, code in item_code.items():
        seen = Counter(concepts_of.get(item_id, ()))
        flat += [concept_code.setdefault(c, len(concept_code)) for c in seen]
        weight += list(seen.values())
        first[code + 1] = len(flat)
    flat_a, weight_a = np.array(flat, dtype=np.int64), np.array(weight, dtype=np.int64)
    per_attempt = (first[1:] - first[:-1])[attempt_item]
    pair_attempt = np.repeat(np.arange(n), per_attempt)
    offset = np.arange(len(pair_attempt)) - np.repeat(np.cumsum(per_attempt) - per_attempt, per_attempt)
    slot = np.repeat(first[:-1][attempt_item], per_attempt) + offset
    n_concepts = max(len(concept_code), 1)
    group = learner_code[pair_attempt] * n_concepts + flat_a[slot]
    order = np.argsort(group, kind="stable")  # each (learner, concept) group stays in time order
    pair_attempt, pair_concept, pair_weight = pair_attempt[order], flat_a[slot][order], weight_a[slot][order]
    key = group[order] * (n + 1) + pair_attempt

    # for each question and concept: the first answer on it after the question
    q_key: list[int] = []
    q_group: list[int] = []
    q_low: list[int] = []
    for lid, at, taught in zip(*_questions(messages, info), strict=True):
        where = span.get(lid)
        if where is None:
            continue
        lo, hi = where
        after_q = bisect_right(at_col, at, lo, hi)  # first answer strictly after the question
        at_q = bisect_left(at_col, at, lo, after_q)  # first answer at the question's very time
        code = int(learner_code[lo])
        for c in taught:
            cc = concept_code.get(c)
            if cc is not None:
                g = code * n_concepts + cc
                q_group.append(g)
                q_key.append(g * (n + 1) + after_q)
                q_low.append(at_q)
    discussed = np.zeros(len(key), dtype=bool)
    if q_key and len(key):
        groups = np.array(q_group, dtype=np.int64)
        found = np.searchsorted(key, np.array(q_key, dtype=np.int64), side="left")
        inside = np.minimum(found, len(key) - 1)
        hit = (found < len(key)) & (key[inside] // (n + 1) == groups)
        before = np.maximum(found - 1, 0)
        # the previous answer on the concept came at the question's time, not before it: no effect
        blocked = (found > 0) & (key[before] // (n + 1) == groups) & (pair_attempt[before] >= np.array(q_low))
        discussed[found[hit & ~blocked]] = True

    after_attempt = np.zeros(n, dtype=bool)
    after_attempt[pair_attempt[discussed]] = True
    counts.after = Rate(int(after_attempt.sum()), int(correct[after_attempt].sum()))
    counts.same = Rate(n - counts.after.answers, int(correct.sum()) - counts.after.correct)
    pair_right = pair_weight * correct[pair_attempt]
    size = len(concept_code)
    all_n = np.bincount(pair_concept, weights=pair_weight, minlength=size)
    all_c = np.bincount(pair_concept, weights=pair_right, minlength=size)
    after_n = np.bincount(pair_concept[discussed], weights=pair_weight[discussed], minlength=size)
    after_c = np.bincount(pair_concept[discussed], weights=pair_right[discussed], minlength=size)
    for c, cc in concept_code.items():
        if after_n[cc]:
            counts.after_pairs[c] = Rate(int(after_n[cc]), int(after_c[cc]))
        if all_n[cc] - after_n[cc]:
            counts.same_pairs[c] = Rate(int(all_n[cc] - after_n[cc]), int(all_c[cc] - after_c[cc]))
    return counts


def timelines(rows: tuple[Sequence[Any], Sequence[Any]]) -> tuple[list[Message], list[Any]]:
    """``queries.tutor_timelines`` rows with messages as Message tuples (sources parsed, repeated texts once).

    Attempts stay plain ``(learner_id, item_id, correct, at)`` tuples:
    ``tutoring_counts`` reads them by position, and wrapping 300,000 of them
    would cost more than the counting.
    """
    messages, attempts = rows
    parsed: dict[Any, tuple[str, ...]] = {}
    out = []
    for lid, role, at, sources in messages:
        key = sources if isinstance(sources, (str, bytes)) or sources is None else None
        value = parsed.get(key) if key is not None else None
        if value is None:
            value = queries.json_list(sources)
            if key is not None:
                parsed[key] = value
        out.append(Message(lid, role, at, value))
    return out, list(attempts)


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

    messages, _ = timelines(queries.tutor_timelines(conn, answers=False))
    counts = tutoring_counts(messages, queries.tutor_answers(conn), concepts_of, info)
    after, same, after_pairs, same_pairs = counts.after, counts.same, counts.after_pairs, counts.same_pairs

    order = {cid: i for i, cid in enumerate(info.concept_names)}
    concept_ids = sorted(set(all_pairs) | set(after_pairs), key=lambda c: (order.get(c, len(order)), c))
    return EffectReport(
        after_tutor=after,
        without=all_answers.minus(after),
        same_learners=same,
        learners_using_tutor=counts.learners,
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
