"""Item analysis of the question bank, from every learner's first attempt at each item.

The statistics themselves (facility, discrimination, efficiency, flags,
Cronbach's alpha) live in ``item_stats``; this module feeds them from the
store and adds what only the bank knows: which option is the key, and for
scenario exercises the rubric key points learners most often miss.

Quizzes are adaptive, so hardly anyone answers the whole bank and alpha over
all items rarely applies; alpha is also given per concept (the items of one
concept), where many learners have answered every item.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from tutor.reports import queries
from tutor.reports.catalog import CourseInfo, ItemCatalog
from tutor.reports import item_matrix
from tutor.reports.item_stats import ItemStats
from tutor.reports.tables import Column, Table

TOP_MISSED = 3


@dataclass(frozen=True)
class MissedPoint:
    point: str
    missed: int
    share: float  # of the item's first attempts


@dataclass(frozen=True)
class ItemLine:
    stats: ItemStats
    kind: str
    label: str
    concepts: tuple[str, ...]
    missed: tuple[MissedPoint, ...] = ()


@dataclass(frozen=True)
class ItemsReport:
    kind = "items"
    items: tuple[ItemLine, ...]
    learners: int
    first_attempts: int
    alpha: float | None
    alpha_by_concept: dict[str, float | None]

    def summary(self) -> list[str]:
        flagged = sum(1 for i in self.items if i.stats.flags)
        alpha = "n/a (no learner answered every item)" if self.alpha is None else f"{self.alpha:.2f}"
        known = [f"{c} {a:.2f}" for c, a in self.alpha_by_concept.items() if a is not None]
        return [
            f"Item analysis: {len(self.items)} items, {self.first_attempts:,} first attempts by "
            f"{self.learners:,} learners; {flagged} flagged",
            f"  Cronbach's alpha, whole bank: {alpha}",
            "  alpha per concept: " + (", ".join(known) if known else "n/a"),
        ]

    def item_table(self) -> Table:
        return Table(
            "items",
            "Items (first attempts)",
            (
                Column("item_id", "Item"),
                Column("kind", "Kind"),
                Column("attempts", "N", "int"),
                Column("facility", "Facility", "float"),
                Column("discrimination", "Discrim.", "float"),
                Column("efficiency", "Effic.", "float"),
                Column("options", "Options"),
                Column("flags", "Flags", "list"),
                Column("missed", "Key points most missed", "list"),
            ),
            [self._row(i) for i in self.items],
        )

    @staticmethod
    def _row(line: ItemLine) -> dict[str, Any]:
        s = line.stats
        return {
            "item_id": s.item_id,
            "kind": "scenario" if line.kind == "scenario" else ("mc" if line.kind else "?"),
            "label": line.label,
            "concepts": list(line.concepts),
            "attempts": s.attempts,
            "facility": s.facility,
            "discrimination": s.discrimination,
            "efficiency": s.efficiency,
            "options": dict(s.options),
            "flags": list(s.flags),
            "missed": [f"{m.point} ({m.share:.0%})" for m in line.missed],
        }

    def main_table(self) -> Table:
        return self.item_table()

    def tables(self) -> list[Table]:
        return [self.item_table()]

    def to_json(self) -> dict[str, Any]:
        items = []
        for line in self.items:
            row = self._row(line)
            row["missed"] = [{"point": m.point, "missed": m.missed, "share": m.share} for m in line.missed]
            items.append(row)
        return {
            "report": "items",
            "learners": self.learners,
            "first_attempts": self.first_attempts,
            "alpha": self.alpha,
            "alpha_by_concept": self.alpha_by_concept,
            "items": items,
        }


def _option(answer: str, scenario: bool) -> str:
    """What counts as the chosen option: the key, or for a scenario the model type named."""
    if not scenario:
        return answer
    return answer.split(":", 1)[0].strip().lower() if answer else ""


def item_report(conn: Connection, info: CourseInfo, catalog: ItemCatalog) -> ItemsReport:
    groups = queries.first_attempt_groups(conn)
    if catalog.key_points:
        groups = [g._replace(answer=_option(g.answer, catalog.is_scenario(g.item_id))) for g in groups]
    matrix = item_matrix.from_groups(groups)
    stats = item_matrix.analyse(matrix, catalog.keys)

    missed = _missed_points(conn, catalog, [s.item_id for s in stats if catalog.is_scenario(s.item_id)])
    stored_concepts = queries.item_concepts(conn, [s.item_id for s in stats if s.item_id not in catalog.concepts])
    lines = tuple(
        ItemLine(
            stats=s,
            kind=catalog.kinds.get(s.item_id, ""),
            label=catalog.labels.get(s.item_id, ""),
            concepts=catalog.concepts.get(s.item_id) or stored_concepts.get(s.item_id, ()),
            missed=missed.get(s.item_id, ()),
        )
        for s in stats
    )

    by_concept: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        for concept in line.concepts:
            by_concept[concept].append(line.stats.item_id)
    order = {cid: i for i, cid in enumerate(info.concept_names)}
    alpha_by_concept = {
        cid: item_matrix.alpha(matrix, by_concept[cid])
        for cid in sorted(by_concept, key=lambda c: (order.get(c, len(order)), c))
    }
    return ItemsReport(
        items=lines,
        learners=matrix.n_learners,
        first_attempts=len(matrix),
        alpha=item_matrix.alpha(matrix, [line.stats.item_id for line in lines]),
        alpha_by_concept=alpha_by_concept,
    )


def _missed_points(
    conn: Connection, catalog: ItemCatalog, scenario_ids: list[str]
) -> dict[str, tuple[MissedPoint, ...]]:
    """Per scenario, the rubric key points first attempts most often missed (most missed first)."""
    attempts: Counter[str] = Counter()
    missed: dict[str, Counter[str]] = defaultdict(Counter)
    for item_id, met in queries.first_rubrics(conn, scenario_ids):
        attempts[item_id] += 1
        met_set = set(met)
        for point in catalog.key_points.get(item_id, ()):
            if point not in met_set:
                missed[item_id][point] += 1
    out = {}
    for item_id, counts in missed.items():
        rubric = catalog.key_points.get(item_id, ())
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], rubric.index(kv[0])))[:TOP_MISSED]
        out[item_id] = tuple(MissedPoint(p, n, n / attempts[item_id]) for p, n in ranked)
    return out
