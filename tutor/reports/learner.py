"""One learner in detail: answers over time, weak concepts, hints, and what they asked the tutor.

Questions are grouped by topic: the first section the tutor cited in its
reply (the question's own citations when it has any), named with the first
concept that section teaches. Questions the tutor judged outside the course
form their own group; so do questions answered without a citation.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tutor.reports.catalog import CourseInfo, ItemCatalog
from tutor.reports.overview import STUCK_ATTEMPTS, STUCK_BELOW, LearnerSummary
from tutor.reports.tables import Column, Table

WEAK_BELOW = STUCK_BELOW
OUT_OF_SCOPE = "(outside the course)"
UNCITED = "(no section cited)"


@dataclass(frozen=True)
class AttemptLine:
    when: datetime
    item_id: str
    label: str
    concepts: tuple[str, ...]
    correct: bool
    score: float
    hints_used: int
    seconds: float
    answer: str
    feedback: str
    first: bool  # the learner's first attempt at this item


@dataclass(frozen=True)
class ConceptLine:
    concept_id: str
    name: str
    objective: str
    p_known: float
    attempts: int
    correct: int

    @property
    def weak(self) -> bool:
        return self.p_known < WEAK_BELOW

    @property
    def stuck(self) -> bool:
        return self.weak and self.attempts >= STUCK_ATTEMPTS


@dataclass(frozen=True)
class QuestionLine:
    when: datetime
    text: str
    in_scope: bool | None
    grounded: float | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class TopicGroup:
    section_id: str  # "" for the two special groups
    title: str
    concept_id: str
    questions: tuple[QuestionLine, ...]


@dataclass(frozen=True)
class LearnerReport:
    kind = "learner"
    summary_row: LearnerSummary
    concepts: tuple[ConceptLine, ...]
    attempts: tuple[AttemptLine, ...]
    daily: tuple[tuple[date, int, int], ...]  # (day, answers, correct)
    hints_total: int
    hints_by_item: dict[str, int] = field(default_factory=dict)
    topics: tuple[TopicGroup, ...] = ()

    @property
    def weak(self) -> tuple[ConceptLine, ...]:
        return tuple(sorted((c for c in self.concepts if c.weak), key=lambda c: (c.p_known, c.concept_id)))

    def summary(self) -> list[str]:
        s = self.summary_row
        acc = "–" if s.accuracy is None else f"{s.accuracy:.0%}"
        mastery = "–" if s.mastery is None else f"{s.mastery:.0%}"
        last = s.last_activity.strftime("%Y-%m-%d %H:%M") if s.last_activity else "never"
        weak = ", ".join(f"{c.concept_id} {c.p_known:.0%}" for c in self.weak) or "none"
        return [
            f"Learner {s.name} ({s.level}, {s.style}): last active {last}, "
            f"{s.time_on_task_s / 60:.0f} min on task, {s.quizzes} quizzes",
            f"  {s.attempts} answers, {acc} correct; mastery {mastery}; "
            f"{self.hints_total} hints; {s.questions} questions to the tutor",
            f"  weak concepts: {weak}",
        ]

    def attempt_table(self) -> Table:
        return Table(
            "attempts",
            "Answers, oldest first",
            (
                Column("when", "When", "datetime"),
                Column("item_id", "Item"),
                Column("concepts", "Concepts", "list"),
                Column("correct", "Right"),
                Column("score", "Score", "float"),
                Column("hints_used", "Hints", "int"),
                Column("seconds", "Seconds", "float"),
                Column("answer", "Answer"),
            ),
            [
                {
                    "when": a.when,
                    "item_id": a.item_id,
                    "label": a.label,
                    "concepts": list(a.concepts),
                    "correct": "yes" if a.correct else "no",
                    "score": a.score,
                    "hints_used": a.hints_used,
                    "seconds": a.seconds,
                    "answer": a.answer,
                    "first": a.first,
                }
                for a in self.attempts
            ],
        )

    def concept_table(self) -> Table:
        return Table(
            "concepts",
            "Mastery by concept",
            (
                Column("concept_id", "Concept"),
                Column("objective", "Objective"),
                Column("p_known", "Mastery", "pct"),
                Column("attempts", "Answers", "int"),
                Column("correct", "Correct", "int"),
                Column("state", "State"),
            ),
            [
                {
                    "concept_id": c.concept_id,
                    "name": c.name,
                    "objective": c.objective,
                    "p_known": c.p_known,
                    "attempts": c.attempts,
                    "correct": c.correct,
                    "state": "stuck" if c.stuck else ("weak" if c.weak else ""),
                }
                for c in self.concepts
            ],
        )

    def topic_table(self) -> Table:
        return Table(
            "questions",
            "Questions to the tutor, by topic",
            (
                Column("topic", "Topic"),
                Column("concept_id", "Concept"),
                Column("count", "Questions", "int"),
                Column("examples", "Latest"),
            ),
            [
                {
                    "topic": t.title,
                    "section_id": t.section_id,
                    "concept_id": t.concept_id,
                    "count": len(t.questions),
                    "examples": t.questions[-1].text if t.questions else "",
                }
                for t in self.topics
            ],
        )

    def main_table(self) -> Table:
        return self.attempt_table()

    def tables(self) -> list[Table]:
        return [self.attempt_table(), self.concept_table(), self.topic_table()]

    def to_json(self) -> dict[str, Any]:
        s = self.summary_row
        return {
            "report": "learner",
            "learner": {
                "id": s.id, "name": s.name, "level": s.level, "style": s.style,
                "last_activity": s.last_activity, "time_on_task_s": s.time_on_task_s,
                "quiz_seconds": s.quiz_seconds, "chat_seconds": s.chat_seconds, "quizzes": s.quizzes,
                "attempts": s.attempts, "correct": s.correct, "accuracy": s.accuracy,
                "questions": s.questions, "mastery": s.mastery, "objectives": s.objectives,
            },
            "weak_concepts": [c.concept_id for c in self.weak],
            "concepts": self.concept_table().rows,
            "attempts": [
                {**row, "correct": row["correct"] == "yes", "feedback": a.feedback}
                for row, a in zip(self.attempt_table().rows, self.attempts, strict=True)
            ],
            "daily": [{"day": d, "answers": n, "correct": c} for d, n, c in self.daily],
            "hints": {"total": self.hints_total, "by_item": self.hints_by_item},
            "questions": [
                {
                    "section_id": t.section_id,
                    "topic": t.title,
                    "concept_id": t.concept_id,
                    "questions": [
                        {"when": q.when, "text": q.text, "in_scope": q.in_scope, "grounded": q.grounded,
                         "sources": list(q.sources)}
                        for q in t.questions
                    ],
                }
                for t in self.topics
            ],
        }


def attempt_lines(records: Sequence[Any], catalog: ItemCatalog) -> tuple[AttemptLine, ...]:
    """The store's attempt records (oldest first) as report lines."""
    seen: set[str] = set()
    lines = []
    for r in records:
        lines.append(
            AttemptLine(
                when=r.created,
                item_id=r.item_id,
                label=catalog.labels.get(r.item_id, ""),
                concepts=tuple(r.concepts),
                correct=bool(r.correct),
                score=float(r.score),
                hints_used=int(r.hints_used),
                seconds=float(r.seconds),
                answer=r.answer,
                feedback=r.feedback,
                first=r.item_id not in seen,
            )
        )
        seen.add(r.item_id)
    return tuple(lines)


def daily(lines: Sequence[AttemptLine]) -> tuple[tuple[date, int, int], ...]:
    days: dict[date, list[int]] = {}
    for a in lines:
        entry = days.setdefault(a.when.date(), [0, 0])
        entry[0] += 1
        entry[1] += a.correct
    return tuple((d, n, c) for d, (n, c) in sorted(days.items()))


def concept_lines(mastery: dict[str, Any], info: CourseInfo) -> tuple[ConceptLine, ...]:
    order = {cid: i for i, cid in enumerate(info.concept_names)}
    return tuple(
        ConceptLine(
            concept_id=cid,
            name=info.concept_name(cid),
            objective=info.concept_objective.get(cid, ""),
            p_known=float(m.p_known),
            attempts=int(m.attempts),
            correct=int(m.correct),
        )
        for cid, m in sorted(mastery.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    )


def question_topics(messages: Sequence[Any], info: CourseInfo) -> tuple[TopicGroup, ...]:
    """Each user question with the tutor's reply, grouped by the first section cited."""
    groups: dict[str, list[QuestionLine]] = defaultdict(list)
    for i, m in enumerate(messages):
        if m.role != "user":
            continue
        reply = None
        for later in messages[i + 1 :]:
            if later.role == "user":
                break
            if later.role == "assistant":
                reply = later
                break
        sources = tuple(m.sources) or (tuple(reply.sources) if reply is not None else ())
        in_scope = reply.in_scope if reply is not None and reply.in_scope is not None else m.in_scope
        grounded = reply.grounded if reply is not None else None
        if sources:
            key = sources[0]
        elif in_scope is False:
            key = OUT_OF_SCOPE
        else:
            key = UNCITED
        groups[key].append(QuestionLine(m.created, m.text, in_scope, grounded, sources))
    topics = []
    for key, questions in groups.items():
        special = key in (OUT_OF_SCOPE, UNCITED)
        concepts = () if special else info.section_concepts.get(key, ())
        topics.append(
            TopicGroup(
                section_id="" if special else key,
                title=key if special else info.section_title(key),
                concept_id=concepts[0] if concepts else "",
                questions=tuple(questions),
            )
        )
    topics.sort(key=lambda t: (-len(t.questions), t.section_id == "", t.title))
    return tuple(topics)


def learner_report(
    summary: LearnerSummary,
    *,
    attempts: Sequence[Any],
    mastery: dict[str, Any],
    hints: Sequence[Any],
    messages: Sequence[Any],
    info: CourseInfo,
    catalog: ItemCatalog,
) -> LearnerReport:
    """Put together one learner's report from the store's per-learner records."""
    lines = attempt_lines(attempts, catalog)
    by_item = Counter(h.item_id for h in hints)
    if not by_item:  # hints recorded only on the answers (older data, imports)
        for a in lines:
            if a.hints_used:
                by_item[a.item_id] += a.hints_used
    return LearnerReport(
        summary_row=summary,
        concepts=concept_lines(mastery, info),
        attempts=lines,
        daily=daily(lines),
        hints_total=sum(by_item.values()),
        hints_by_item=dict(sorted(by_item.items())),
        topics=question_topics(messages, info),
    )
