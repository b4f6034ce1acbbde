"""The one way in to the reports: checks the caller's grant, then queries.

The CLI and the instructor screen both build a :class:`Reports` with the
grant they got from ``access.unlock`` (instructor) or ``access.learner_grant``
(a learner, who may open only their own learner report). Every method runs
its queries on one read-only connection of the store's engine.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from tutor.reports.access import Grant
from tutor.reports.catalog import CourseInfo, ItemCatalog
from tutor.reports.errors import ReportError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tutor.content.model import Course
    from tutor.quiz.model import QuestionBank
    from tutor.reports.effect import EffectReport
    from tutor.reports.gaps import GapsReport
    from tutor.reports.items import ItemsReport
    from tutor.reports.learner import LearnerReport
    from tutor.reports.overview import ClassOverview

REPORTS = ("class", "learner", "items", "gaps", "effect")


class Reports:
    """Instructor reports over one store, for the holder of ``grant``."""

    def __init__(self, store: Any, info: CourseInfo, catalog: ItemCatalog, grant: Grant) -> None:
        self.store = store
        self.info = info
        self.catalog = catalog
        self.grant = grant

    @classmethod
    def for_course(cls, store: Any, course: Course | None, bank: QuestionBank | None, grant: Grant) -> Reports:
        info = CourseInfo.from_course(course) if course is not None else CourseInfo()
        return cls(store, info, ItemCatalog.from_bank(bank), grant)

    @contextmanager
    def _conn(self, doing: str) -> Iterator[Connection]:
        """A connection for one report, with Python's cycle collector paused meanwhile.

        A class-wide report creates hundreds of thousands of small objects that
        all stay alive until it returns; each allocation burst would start a
        collection that walks every one of them again (a third of the class
        overview's time, measured). Reports make no reference cycles worth
        collecting early, and the collector runs as usual afterwards.
        """
        from sqlalchemy.exc import SQLAlchemyError

        collecting = gc.isenabled()
        gc.disable()
        try:
            with self.store.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            message = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
            raise ReportError(f"could not read {doing}: {message}") from None
        finally:
            if collecting:
                gc.enable()

    # ------------------------------------------------------------------ class-wide
    def class_overview(self) -> ClassOverview:
        from tutor.reports.overview import class_overview

        self.grant.require_instructor("the class overview")
        with self._conn("the class overview") as conn:
            return class_overview(conn, self.info)

    def activity(self) -> list[tuple[date, int, int]]:
        """Answers per day across the class: (day, answers, correct)."""
        from tutor.reports.queries import activity_by_day

        self.grant.require_instructor("class activity")
        with self._conn("class activity") as conn:
            return activity_by_day(conn)

    def items(self) -> ItemsReport:
        from tutor.reports.items import item_report

        self.grant.require_instructor("item analysis")
        with self._conn("item analysis") as conn:
            return item_report(conn, self.info, self.catalog)

    def gaps(self) -> GapsReport:
        from tutor.reports.gaps import gaps_report

        self.grant.require_instructor("the content-gaps report")
        with self._conn("content gaps") as conn:
            return gaps_report(conn, self.info)

    def effect(self) -> EffectReport:
        from tutor.reports.effect import effect_report

        self.grant.require_instructor("the tutoring-effect report")
        with self._conn("the tutoring effect") as conn:
            return effect_report(conn, self.info, self.catalog)

    # ------------------------------------------------------------------ one learner
    def learner(self, who: str | int) -> LearnerReport:
        """One learner's report, by name or id; a learner grant reaches only its own."""
        from tutor.reports import queries
        from tutor.reports.learner import learner_report
        from tutor.reports.overview import class_overview

        with self._conn("the learner") as conn:
            if isinstance(who, int):
                found = queries.learners(conn, [who])
                row = found[0] if found else None
            else:
                row = queries.learner_by_name(conn, who)
            # the same refusal for "no such learner" and "not yours": a learner learns nothing
            self.grant.require_learner(row.id if row is not None else -1)
            if row is None:
                raise ReportError(f"no learner named {who!r}")
            summary = class_overview(conn, self.info, [row.id]).learners[0]
        return learner_report(
            summary,
            attempts=self.store.attempts(row.id),
            mastery=self.store.mastery(row.id),
            hints=self.store.hints(row.id),
            messages=self.store.messages(row.id),
            info=self.info,
            catalog=self.catalog,
        )

    def run(self, name: str, learner: str | None = None) -> Any:
        """A report by its CLI name."""
        if name == "learner":
            if not learner:
                raise ReportError("the learner report needs a learner name")
            return self.learner(learner)
        methods = {"class": self.class_overview, "items": self.items, "gaps": self.gaps, "effect": self.effect}
        if name not in methods:
            raise ReportError(f"unknown report {name!r}: choose one of {', '.join(REPORTS)}")
        return methods[name]()
