"""Content gaps: what learners asked that the course could not answer well.

A gap is a question whose tutor reply was judged out of scope, or grounded in
the lesson text less than GROUNDED_BELOW. Questions whose reply cited a
section are grouped under the closest section (the first one cited: the
lesson comes near, but not near enough). Questions with no citation are
clustered by keyword: the word shared by the most such questions forms the
first group, and so on, until no word is shared by two questions; the rest
are listed as unclustered. Simple and predictable, which is what an
instructor skimming for missing material needs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from tutor.reports import queries
from tutor.reports.catalog import CourseInfo
from tutor.reports.tables import Column, Table

GROUNDED_BELOW = 0.5
EXAMPLES = 3
OTHER = "(unclustered)"

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing done down during each even ever every few for from further
    get gets give go had has have having he her here hers him his how i if in into is it its itself just know
    like make many me more most much my no nor not now of off on once one only or other our out over own please
    really same say she should so some such tell than that the their them then there these they thing things
    this those through to too under until up us use used using very want was way we well were what when where
    which while who whom why will with would you your yours explain mean means difference different example
    examples work works""".split()
)
_WORD = re.compile(r"[a-z][a-z0-9+#-]*[a-z0-9+#]|[a-z]")


@dataclass(frozen=True)
class GapQuestion:
    learner_id: int
    learner: str
    when: datetime
    question: str
    reason: str  # "out of scope" | "low groundedness"
    grounded: float | None
    section_id: str  # closest section ("" when none was cited)


@dataclass(frozen=True)
class GapGroup:
    label: str
    kind: str  # "section" | "keyword" | "other"
    key: str  # section id or keyword
    questions: tuple[GapQuestion, ...]

    @property
    def learners(self) -> int:
        return len({q.learner_id for q in self.questions})

    @property
    def out_of_scope(self) -> int:
        return sum(1 for q in self.questions if q.reason == "out of scope")


@dataclass(frozen=True)
class GapsReport:
    kind = "gaps"
    groups: tuple[GapGroup, ...]
    threshold: float = GROUNDED_BELOW

    @property
    def questions(self) -> list[GapQuestion]:
        return [q for g in self.groups for q in g.questions]

    def summary(self) -> list[str]:
        qs = self.questions
        out = sum(1 for q in qs if q.reason == "out of scope")
        return [
            f"Content gaps: {len(qs):,} questions in {len(self.groups)} groups "
            f"({out:,} out of scope, {len(qs) - out:,} answered with groundedness < {self.threshold:.2f})"
        ]

    def group_table(self) -> Table:
        return Table(
            "gaps",
            "Groups, largest first",
            (
                Column("label", "Topic"),
                Column("kind", "Grouped by"),
                Column("questions", "Questions", "int"),
                Column("learners", "Learners", "int"),
                Column("out_of_scope", "Out of scope", "int"),
                Column("examples", "Examples", "list"),
            ),
            [
                {
                    "label": g.label,
                    "kind": g.kind,
                    "key": g.key,
                    "questions": len(g.questions),
                    "learners": g.learners,
                    "out_of_scope": g.out_of_scope,
                    "examples": [q.question for q in g.questions[-EXAMPLES:]],
                }
                for g in self.groups
            ],
        )

    def question_table(self) -> Table:
        return Table(
            "gap_questions",
            "Every question",
            (
                Column("group", "Topic"),
                Column("when", "When", "datetime"),
                Column("learner", "Learner"),
                Column("reason", "Reason"),
                Column("grounded", "Grounded", "float"),
                Column("question", "Question"),
            ),
            [
                {
                    "group": g.label,
                    "group_kind": g.kind,
                    "when": q.when,
                    "learner": q.learner,
                    "reason": q.reason,
                    "grounded": q.grounded,
                    "section_id": q.section_id,
                    "question": q.question,
                }
                for g in self.groups
                for q in g.questions
            ],
        )

    def main_table(self) -> Table:
        # one line per question: what an instructor filters and sorts in a spreadsheet
        return self.question_table()

    def tables(self) -> list[Table]:
        return [self.group_table(), self.question_table()]

    def to_json(self) -> dict[str, Any]:
        return {
            "report": "gaps",
            "grounded_below": self.threshold,
            "groups": [
                {
                    "label": g.label,
                    "kind": g.kind,
                    "key": g.key,
                    "learners": g.learners,
                    "questions": [
                        {"when": q.when, "learner": q.learner, "question": q.question, "reason": q.reason,
                         "grounded": q.grounded, "section_id": q.section_id}
                        for q in g.questions
                    ],
                }
                for g in self.groups
            ],
        }


def keywords(text: str) -> set[str]:
    """Content words of a question, lower-case, plurals folded ("GANs" and "gan" match)."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if len(word) >= 3 and word not in STOPWORDS:
            words.add(word)
    return words


def cluster_by_keyword(texts: Sequence[str]) -> list[tuple[str, list[int]]]:
    """Greedy keyword clusters: ``(keyword, indexes)``, biggest first; ``(OTHER, rest)`` last.

    Ties go to the alphabetically first word, so the result does not depend on input order.
    """
    holders: dict[str, set[int]] = defaultdict(set)  # word -> questions (not yet clustered) using it
    for i, text in enumerate(texts):
        for word in keywords(text):
            holders[word].add(i)
    remaining = set(range(len(texts)))
    clusters: list[tuple[str, list[int]]] = []
    while holders:
        word, members_set = min(holders.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        if len(members_set) < 2:
            break
        members = sorted(members_set)
        clusters.append((word, members))
        remaining.difference_update(members)
        for other in list(holders):
            holders[other].difference_update(members)
            if not holders[other]:
                del holders[other]
    if remaining:
        clusters.append((OTHER, sorted(remaining)))
    return clusters


def group_gaps(questions: Iterable[GapQuestion], info: CourseInfo) -> tuple[GapGroup, ...]:
    by_section: dict[str, list[GapQuestion]] = defaultdict(list)
    uncited: list[GapQuestion] = []
    for q in questions:
        if q.section_id:
            by_section[q.section_id].append(q)
        else:
            uncited.append(q)
    groups = [
        GapGroup(info.section_title(sid), "section", sid, tuple(qs)) for sid, qs in by_section.items()
    ]
    for word, members in cluster_by_keyword([q.question for q in uncited]):
        kind = "other" if word == OTHER else "keyword"
        label = OTHER if word == OTHER else f'"{word}"'
        groups.append(GapGroup(label, kind, "" if word == OTHER else word, tuple(uncited[i] for i in members)))
    groups.sort(key=lambda g: (g.kind == "other", -len(g.questions), g.label))
    return tuple(groups)


def gaps_report(
    conn: Connection, info: CourseInfo, *, grounded_below: float = GROUNDED_BELOW
) -> GapsReport:
    flagged = queries.flagged_answers(conn, grounded_below)
    ids = sorted({f.learner_id for f in flagged})
    names = {r.id: r.name for r in queries.learners(conn, ids if len(ids) <= 500 else None)} if ids else {}
    questions = [
        GapQuestion(
            learner_id=f.learner_id,
            learner=names.get(f.learner_id, str(f.learner_id)),
            when=f.created,
            question=f.question,
            reason="out of scope" if f.in_scope is False else "low groundedness",
            grounded=f.grounded,
            section_id=f.sources[0] if f.sources else "",
        )
        for f in flagged
        if f.question.strip()
    ]
    return GapsReport(group_gaps(questions, info), grounded_below)
