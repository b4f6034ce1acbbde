"""What the reports need to know about the course and the question bank, as plain mappings.

Reports name concepts and objectives, map cited sections to the concepts they
teach, and need the key of each multiple-choice item and the key points of
each scenario. Keeping that in two small frozen objects (instead of handing
the full Course and QuestionBank around) lets the benchmark describe its
synthetic items the same way, and keeps the report code free of pydantic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.content.model import Course
    from tutor.quiz.model import QuestionBank


@dataclass(frozen=True)
class CourseInfo:
    concept_names: Mapping[str, str] = field(default_factory=dict)  # id -> name, in course order
    concept_objective: Mapping[str, str] = field(default_factory=dict)  # concept id -> objective id
    objective_names: Mapping[str, str] = field(default_factory=dict)  # id -> text, in course order
    section_titles: Mapping[str, str] = field(default_factory=dict)  # id -> title
    section_concepts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # what each section teaches

    @classmethod
    def from_course(cls, course: Course) -> CourseInfo:
        return cls(
            concept_names={c.id: c.name for c in course.concepts},
            concept_objective={c.id: c.objective for c in course.concepts},
            objective_names={o.id: o.text for o in course.objectives},
            section_titles={s.id: s.title for s in course.sections()},
            section_concepts={s.id: tuple(s.concepts) for s in course.sections()},
        )

    def concept_name(self, concept_id: str) -> str:
        return self.concept_names.get(concept_id) or concept_id.replace("-", " ").capitalize()

    def section_title(self, section_id: str) -> str:
        return self.section_titles.get(section_id, section_id)

    def concepts_taught(self, section_ids: Iterable[str]) -> set[str]:
        """The concepts the given (cited) sections teach."""
        taught: set[str] = set()
        for sid in section_ids:
            taught.update(self.section_concepts.get(sid, ()))
        return taught

    def objective_concepts(self) -> dict[str, list[str]]:
        """Objective id -> its concepts, every objective present (in course order)."""
        grouped: dict[str, list[str]] = {oid: [] for oid in self.objective_names}
        for cid, oid in self.concept_objective.items():
            grouped.setdefault(oid, []).append(cid)
        return grouped


@dataclass(frozen=True)
class ItemCatalog:
    kinds: Mapping[str, str] = field(default_factory=dict)  # item id -> "multiple_choice" | "scenario"
    keys: Mapping[str, str] = field(default_factory=dict)  # multiple-choice item id -> correct option
    key_points: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # scenario id -> rubric points
    concepts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # a short text to recognise the item by

    @classmethod
    def from_bank(cls, bank: QuestionBank | None) -> ItemCatalog:
        if bank is None:
            return cls()
        kinds, keys, points, concepts, labels = {}, {}, {}, {}, {}
        for item in bank.items:
            kinds[item.id] = item.kind
            concepts[item.id] = tuple(item.concepts)
            if item.kind == "multiple_choice":
                keys[item.id] = item.answer
                labels[item.id] = _short(item.stem)
            else:
                points[item.id] = tuple(item.key_points)
                labels[item.id] = _short(item.scenario)
        return cls(kinds, keys, points, concepts, labels)

    def is_scenario(self, item_id: str) -> bool:
        return self.kinds.get(item_id) == "scenario"


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
