"""Class overview: every learner's activity and mastery, and who is stuck on what.

Definitions (the numbers an instructor sees):

- *Last activity*: the latest quiz answer, chat message or study-session start.
- *Time on task*: seconds spent answering quiz items (timed per item) plus the
  length of each finished non-quiz study session (chat, lessons), each capped
  at an hour so a window left open overnight does not count as study.
- *Quizzes*: quiz sessions in which the learner answered at least one item.
- *Mastery*: the knowledge-tracing P(known) of each concept the learner has
  practised; a learner's objective mastery is the mean over the objective's
  practised concepts, and their overall mastery the mean over all practised
  concepts (concepts never practised are left out, not counted as zero).
  Class figures are means over the learners who practised the concept or
  objective.
- *Stuck*: a concept with P(known) below STUCK_BELOW after at least
  STUCK_ATTEMPTS answers: practice alone is not helping.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from tutor.reports import queries
from tutor.reports.catalog import CourseInfo
from tutor.reports.tables import Column, Table

STUCK_BELOW = 0.4
STUCK_ATTEMPTS = 5
SESSION_CAP_S = 3600.0


@dataclass(frozen=True)
class LearnerSummary:
    id: int
    name: str
    level: str
    style: str
    last_activity: datetime | None
    quiz_seconds: float
    chat_seconds: float
    quizzes: int
    attempts: int
    correct: int
    questions: int  # asked to the tutor
    mastery: float | None
    concepts: dict[str, float] = field(default_factory=dict)  # practised concept -> P(known)
    objectives: dict[str, float | None] = field(default_factory=dict)
    stuck: tuple[str, ...] = ()

    @property
    def time_on_task_s(self) -> float:
        return self.quiz_seconds + self.chat_seconds

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.attempts if self.attempts else None


@dataclass(frozen=True)
class ConceptSummary:
    concept_id: str
    name: str
    objective: str
    learners: int
    mean_p_known: float | None
    stuck: int


@dataclass(frozen=True)
class ObjectiveSummary:
    objective_id: str
    text: str
    learners: int
    mean: float | None


@dataclass(frozen=True)
class StuckEntry:
    learner_id: int
    learner: str
    concept_id: str
    concept: str
    p_known: float
    attempts: int


@dataclass(frozen=True)
class ClassOverview:
    kind = "class"
    learners: list[LearnerSummary]
    concepts: list[ConceptSummary]
    objectives: list[ObjectiveSummary]
    stuck: list[StuckEntry]
    objective_ids: tuple[str, ...] = ()
    concept_ids: tuple[str, ...] = ()

    def summary(self) -> list[str]:
        active = sum(1 for s in self.learners if s.attempts or s.questions)
        stuck_learners = len({s.learner_id for s in self.stuck})
        lines = [
            f"Class overview: {len(self.learners):,} learners ({active:,} active), "
            f"{stuck_learners:,} stuck on at least one concept",
        ]
        for o in self.objectives:
            mean = "–" if o.mean is None else f"{o.mean:.0%}"
            lines.append(f"  objective {o.objective_id}: mean mastery {mean} over {o.learners:,} learners")
        return lines

    def learner_table(self, *, concepts: bool = False) -> Table:
        """One row per learner; ``concepts`` adds a column per concept (the CSV export's wide form)."""
        columns = [Column("name", "Learner"), Column("mastery", "Mastery", "pct")]
        columns += [Column(f"objective:{oid}", oid, "pct") for oid in self.objective_ids]
        columns += [
            Column("last_activity", "Last activity", "datetime"),
            Column("time_on_task_s", "Time on task", "minutes"),
            Column("quizzes", "Quizzes", "int"),
            Column("attempts", "Answers", "int"),
            Column("accuracy", "Correct", "pct"),
            Column("questions", "Questions", "int"),
            Column("level", "Level"),
            Column("stuck", "Stuck on", "list"),
        ]
        if concepts:
            columns += [Column(f"concept:{cid}", cid, "pct") for cid in self.concept_ids]
        return Table(
            "learners", "Learners", tuple(columns), [self._learner_row(s, concepts) for s in self.learners]
        )

    def _learner_row(self, s: LearnerSummary, concepts: bool = False) -> dict[str, Any]:
        row: dict[str, Any] = {
            "learner_id": s.id,
            "name": s.name,
            "level": s.level,
            "last_activity": s.last_activity,
            "time_on_task_s": round(s.time_on_task_s, 1),
            "quizzes": s.quizzes,
            "attempts": s.attempts,
            "accuracy": s.accuracy,
            "questions": s.questions,
            "mastery": s.mastery,
            "stuck": list(s.stuck),
        }
        for oid in self.objective_ids:
            row[f"objective:{oid}"] = s.objectives.get(oid)
        if concepts:
            for cid in self.concept_ids:
                row[f"concept:{cid}"] = s.concepts.get(cid)
        return row

    def concept_table(self) -> Table:
        return Table(
            "concepts",
            "Mastery by concept (class mean over learners who practised it)",
            (
                Column("concept_id", "Concept"),
                Column("objective", "Objective"),
                Column("learners", "Learners", "int"),
                Column("mean_p_known", "Mean mastery", "pct"),
                Column("stuck", "Stuck", "int"),
            ),
            [
                {
                    "concept_id": c.concept_id,
                    "name": c.name,
                    "objective": c.objective,
                    "learners": c.learners,
                    "mean_p_known": c.mean_p_known,
                    "stuck": c.stuck,
                }
                for c in self.concepts
            ],
        )

    def stuck_table(self) -> Table:
        return Table(
            "stuck",
            f"Stuck: mastery below {STUCK_BELOW:.0%} after {STUCK_ATTEMPTS}+ answers",
            (
                Column("learner", "Learner"),
                Column("concept_id", "Concept"),
                Column("p_known", "Mastery", "pct"),
                Column("attempts", "Answers", "int"),
            ),
            [
                {"learner": s.learner, "concept_id": s.concept_id, "p_known": s.p_known, "attempts": s.attempts}
                for s in self.stuck
            ],
        )

    def main_table(self) -> Table:
        return self.learner_table(concepts=True)

    def tables(self) -> list[Table]:
        return [self.learner_table(), self.concept_table(), self.stuck_table()]

    def to_json(self) -> dict[str, Any]:
        learners = []
        for s in self.learners:
            row = self._learner_row(s)
            row.pop("learner_id")
            learners.append(
                {"id": s.id, **row, "style": s.style, "quiz_seconds": s.quiz_seconds, "chat_seconds": s.chat_seconds,
                 "correct": s.correct, "objectives": s.objectives, "concepts": s.concepts}
            )
            for oid in self.objective_ids:
                learners[-1].pop(f"objective:{oid}", None)
        return {
            "report": "class",
            "learners": learners,
            "concepts": self.concept_table().rows,
            "objectives": [
                {"objective_id": o.objective_id, "text": o.text, "learners": o.learners, "mean": o.mean}
                for o in self.objectives
            ],
            "stuck": self.stuck_table().rows,
            "thresholds": {"stuck_below": STUCK_BELOW, "stuck_attempts": STUCK_ATTEMPTS},
        }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _latest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def class_overview(conn: Connection, info: CourseInfo, learner_ids: Sequence[int] | None = None) -> ClassOverview:
    """The overview for the whole class, or only for ``learner_ids``."""
    people = queries.learners(conn, learner_ids)
    activity = queries.attempt_activity(conn, learner_ids)
    chats = queries.chat_activity(conn, learner_ids)

    chat_seconds: dict[int, float] = defaultdict(float)
    last_session: dict[int, datetime] = {}
    for span in queries.sessions(conn, learner_ids):
        previous = last_session.get(span.learner_id)
        if previous is None or span.started > previous:
            last_session[span.learner_id] = span.started
        if span.ended is not None and span.kind not in queries.QUIZ_SESSION_KINDS:
            seconds = (span.ended - span.started).total_seconds()
            chat_seconds[span.learner_id] += min(max(seconds, 0.0), SESSION_CAP_S)

    concept_ids = list(info.concept_names)
    known_concepts = set(concept_ids)
    objective_of = info.concept_objective
    # one pass over every (learner, concept) row: 200,000 of them in a large class, so the loop stays lean
    per_learner: dict[int, dict[str, float]] = {}
    per_objective: dict[int, dict[str, list[float]]] = {}  # learner -> objective -> P(known), in row order
    stuck_of: dict[int, list[tuple[str, float, int]]] = {}
    concept_total: dict[str, float] = {}
    concept_n: dict[str, int] = {}
    for lid, cid, p_known, tries in queries.mastery(conn, learner_ids):
        concepts = per_learner.get(lid)
        if concepts is None:
            concepts = per_learner[lid] = {}
            per_objective[lid] = {}
        concepts[cid] = p_known
        oid = objective_of.get(cid)
        if oid is not None:
            values = per_objective[lid].get(oid)
            if values is None:
                per_objective[lid][oid] = [p_known]
            else:
                values.append(p_known)
        if cid in concept_n:
            concept_total[cid] += p_known
            concept_n[cid] += 1
        else:
            concept_total[cid] = 0.0 + p_known
            concept_n[cid] = 1
            if cid not in known_concepts:
                known_concepts.add(cid)
                concept_ids.append(cid)
        if p_known < STUCK_BELOW and tries >= STUCK_ATTEMPTS:
            stuck_of.setdefault(lid, []).append((cid, p_known, tries))

    objective_ids = list(info.objective_names)
    for cid in concept_ids:
        oid = objective_of.get(cid)
        if oid is not None and oid not in objective_ids:
            objective_ids.append(oid)

    summaries = []
    stuck: list[StuckEntry] = []
    no_objectives: dict[str, list[float]] = {}
    for person in people:
        concepts = per_learner.get(person.id) or {}
        by_objective = per_objective.get(person.id, no_objectives)
        act = activity.get(person.id)
        chat = chats.get(person.id)
        stuck_here = sorted(stuck_of.get(person.id, ()), key=lambda s: (s[1], s[0]))
        summaries.append(
            LearnerSummary(
                id=person.id,
                name=person.name,
                level=person.level,
                style=person.style,
                last_activity=_latest(act.last if act else None, chat.last if chat else None,
                                      last_session.get(person.id)),
                quiz_seconds=act.seconds if act else 0.0,
                chat_seconds=chat_seconds.get(person.id, 0.0),
                quizzes=act.quizzes if act else 0,
                attempts=act.attempts if act else 0,
                correct=act.correct if act else 0,
                questions=chat.questions if chat else 0,
                mastery=_mean(list(concepts.values())),
                concepts=concepts,
                objectives={oid: _mean(by_objective.get(oid, ())) for oid in objective_ids},
                stuck=tuple(cid for cid, _, _ in stuck_here),
            )
        )
        if stuck_here:
            stuck += [
                StuckEntry(person.id, person.name, cid, info.concept_name(cid), p, tries)
                for cid, p, tries in stuck_here
            ]

    stuck_count = Counter(s.concept_id for s in stuck)
    concept_rows = []
    for cid in concept_ids:
        total, n = concept_total.get(cid, 0.0), concept_n.get(cid, 0)
        concept_rows.append(
            ConceptSummary(
                concept_id=cid,
                name=info.concept_name(cid),
                objective=objective_of.get(cid, ""),
                learners=int(n),
                mean_p_known=total / n if n else None,
                stuck=stuck_count.get(cid, 0),
            )
        )
    objective_rows = []
    for oid in objective_ids:
        values = [v for s in summaries if (v := s.objectives.get(oid)) is not None]
        objective_rows.append(ObjectiveSummary(oid, info.objective_names.get(oid, oid), len(values), _mean(values)))
    return ClassOverview(
        learners=summaries,
        concepts=concept_rows,
        objectives=objective_rows,
        stuck=stuck,
        objective_ids=tuple(objective_ids),
        concept_ids=tuple(concept_ids),
    )
