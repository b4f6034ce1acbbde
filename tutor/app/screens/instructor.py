"""The instructor view: the class, one learner, items, content gaps and the tutoring effect.

Entered only through :class:`PassphraseScreen`: the passphrase is checked in a
worker (a wrong one waits about a second, as on the command line) and the
view gets an instructor :class:`~tutor.reports.access.Grant`; cancelling
closes the view again. Reports are computed in a worker too (a large class
takes seconds) and each tab fills as its report arrives.

Tables sort by any column (click or Enter on its header; again to reverse).
Selecting a learner in the class table opens their report on the Learner
tab; selecting an answer there shows what they wrote and the feedback they
got. The export buttons save the report of the current tab as CSV or JSON
in the data folder.

Constructible from a Store and a Course (plus optionally the bank), from the
app's services, or with nothing (it then takes ``app.services``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static, TabbedContent, TabPane

from tutor.app.styles import STYLE_DIR
from tutor.reports.access import FAIL_DELAY_S, Grant
from tutor.reports.tables import Column, Table, format_value

CSS = str(STYLE_DIR / "instructor.tcss")
TABS = ("class", "learner", "items", "gaps", "effect")


# ---------------------------------------------------------------------- passphrase
class PassphraseScreen(ModalScreen[Grant | None]):
    """Asks for the instructor passphrase; dismisses with a Grant, or None when cancelled."""

    CSS_PATH = CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, store: Any, *, delay: float = FAIL_DELAY_S) -> None:
        super().__init__()
        self.store = store
        self.delay = delay
        self.checking = False

    def compose(self) -> ComposeResult:
        with Vertical(id="passphrase-dialog") as box:
            box.border_title = "Instructor view"
            yield Label("Instructor passphrase", id="passphrase-label")
            yield Input(password=True, id="passphrase", placeholder="passphrase")
            yield Static("", id="passphrase-error")
            with Horizontal(id="passphrase-buttons"):
                yield Button("Unlock", id="unlock", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()
        self._check_set_up()

    @work(thread=True, group="passphrase", exit_on_error=False)
    def _check_set_up(self) -> None:
        try:
            has_hash = bool(self.store.instructor_hash())
        except Exception as exc:  # noqa: BLE001 - a database error is shown, not raised
            self.app.call_from_thread(self._error, f"Could not read the instructor settings: {exc}")
            return
        if not has_hash:
            self.app.call_from_thread(
                self._error,
                "No instructor passphrase is set. Run `tutor instructor set-passphrase` in a terminal first.",
            )

    def _error(self, message: str) -> None:
        self.query_one("#passphrase-error", Static).update(message)

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def submit(self) -> None:
        if self.checking:
            return
        field = self.query_one("#passphrase", Input)
        self.checking = True
        field.disabled = True
        self._error("Checking…")
        self._unlock(field.value)

    @work(thread=True, exclusive=True, group="passphrase", exit_on_error=False)
    def _unlock(self, passphrase: str) -> None:
        from tutor.reports.access import unlock
        from tutor.reports.errors import ReportError

        try:
            grant = unlock(self.store, passphrase, delay=self.delay)
        except ReportError as exc:
            self.app.call_from_thread(self._refused, str(exc))
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._refused, f"Could not check the passphrase: {exc}")
        else:
            self.app.call_from_thread(self.dismiss, grant)

    def _refused(self, message: str) -> None:
        self.checking = False
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.value = ""
        field.focus()
        self._error(message[:1].upper() + message[1:] + ".")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------- sortable cells
@dataclass(frozen=True)
class Cell:
    """A table cell that shows formatted text and sorts by its raw value (blanks last)."""

    value: Any
    text: str
    numeric: bool = False
    style: str = ""

    def __rich__(self) -> Text:
        return Text(self.text, style=self.style, justify="right" if self.numeric else "left", no_wrap=True, end="")

    def key(self, descending: bool) -> tuple[bool, Any]:
        value = self.value.casefold() if isinstance(self.value, str) else self.value
        return (value is not None, value) if descending else (value is None, value)


def _cell(row: dict[str, Any], column: Column) -> Cell:
    value = row.get(column.key)
    text = format_value(value, column.kind)
    raw = value if column.numeric or column.kind in ("datetime", "date") else (text if value is not None else None)
    style = ""
    if column.kind == "pct" and isinstance(value, float):
        style = "red" if value < 0.4 else ("yellow" if value < 0.7 else "green")
    if column.key in ("flags", "stuck") and value:
        style = "bold red"
    return Cell(raw, text[:60] + ("…" if len(text) > 60 else ""), column.numeric, style)


class ReportTable(DataTable[Cell]):
    """A DataTable filled from a report Table, sorted by clicking a header."""

    def __init__(self, *, id: str) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sorted_by: tuple[str, bool] | None = None

    def show(self, table: Table, row_key: str | None = None, *, limit: int = 20_000) -> None:
        self.clear(columns=True)
        for column in table.columns:
            self.add_column(column.title, key=column.key)
        for i, row in enumerate(table.rows[:limit]):
            key = str(row.get(row_key, i)) if row_key else str(i)
            self.add_row(*(_cell(row, c) for c in table.columns), key=key)
        self.sorted_by = None

    @on(DataTable.HeaderSelected)
    def _sort(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(getattr(event.column_key, "value", event.column_key))
        descending = self.sorted_by == (column, False)
        self.sort(event.column_key, key=lambda cell: cell.key(descending), reverse=descending)
        self.sorted_by = (column, descending)


# ---------------------------------------------------------------------- the screen
class InstructorScreen(Screen[None]):
    """Every learner's progress, item analysis, gaps and tutoring effect, behind the passphrase."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#class-table"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("ctrl+e", "export('csv')", "Export CSV"),
        Binding("ctrl+j", "export('json')", "Export JSON"),
        Binding("f5", "refresh_reports", "Refresh"),
    ]

    def __init__(
        self,
        source: Any = None,
        course: Any = None,
        bank: Any = None,
        *,
        grant: Grant | None = None,
        export_dir: Path | None = None,
        unlock_delay: float = FAIL_DELAY_S,
    ) -> None:
        super().__init__()
        self._source = source
        self._course = course
        self._bank = bank
        self.grant = grant
        self.export_dir = export_dir
        self.unlock_delay = unlock_delay
        self.reports: Any = None
        self.results: dict[str, Any] = {}
        self.loaded = False  # every tab filled once

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static("Instructor view", id="instructor-title")
        with TabbedContent(id="instructor-tabs", initial="tab-class"):
            with TabPane("Class", id="tab-class"):
                yield Static("Unlock to see the class.", id="class-summary", classes="report-summary")
                with Horizontal(id="class-body"):
                    yield ReportTable(id="class-table")
                    with Vertical(id="class-side"):
                        yield Static("Mastery by concept (class mean)", classes="side-title")
                        yield VerticalScroll(id="concept-bars")
                        yield _plot("activity-plot")
            with TabPane("Learner", id="tab-learner"):
                yield Static("Select a learner on the Class tab.", id="learner-summary", classes="report-summary")
                with Horizontal(id="learner-body"):
                    yield ReportTable(id="attempt-table")
                    with Vertical(id="learner-side"):
                        yield Static("Mastery", classes="side-title")
                        yield VerticalScroll(id="learner-bars")
                        yield Static("", id="learner-topics")
                yield Static("", id="attempt-detail", classes="detail")
            with TabPane("Items", id="tab-items"):
                yield Static("", id="items-summary", classes="report-summary")
                yield ReportTable(id="items-table")
                yield Static("", id="item-detail", classes="detail")
            with TabPane("Gaps", id="tab-gaps"):
                yield Static("", id="gaps-summary", classes="report-summary")
                yield ReportTable(id="gaps-table")
                yield Static("", id="gap-detail", classes="detail")
            with TabPane("Tutoring effect", id="tab-effect"):
                yield Static("", id="effect-summary", classes="report-summary")
                yield ReportTable(id="effect-table")
        with Horizontal(id="instructor-actions"):
            yield Button("Export CSV", id="export-csv", compact=True)
            yield Button("Export JSON", id="export-json", compact=True)
            yield Button("Refresh", id="refresh", compact=True)
            yield Button("Close", id="close", compact=True)
        yield Footer()

    # ------------------------------------------------------------------ start
    def on_mount(self) -> None:
        store, course, bank = self._resolve()
        if store is None:
            self.app.notify("The progress database is not open yet; try again in a moment.", severity="warning")
            self.dismiss()
            return
        self._store, self._course, self._bank = store, course, bank
        if course is not None:
            self.query_one("#instructor-title", Static).update(f"Instructor view · {course.title}")
        if self.grant is not None:
            self._unlocked(self.grant)
        else:
            self.app.push_screen(PassphraseScreen(store, delay=self.unlock_delay), self._unlocked)

    def _resolve(self) -> tuple[Any, Any, Any]:
        """The store, course and bank: given directly, from services, or from ``app.services``."""
        source = self._source if self._source is not None else getattr(self.app, "services", None)
        if source is None:
            return None, self._course, self._bank
        if hasattr(source, "engine") and hasattr(source, "instructor_hash"):
            store = source
        else:  # the app's services: a public ``store`` if it has one, else its private handle
            store = getattr(source, "store", None) or getattr(source, "_store", None)
        course = self._course if self._course is not None else getattr(source, "course", None)
        bank = self._bank if self._bank is not None else (getattr(source, "bank", None) or getattr(source, "_bank", None))
        return store, course, bank

    def _unlocked(self, grant: Grant | None) -> None:
        if grant is None:
            self.dismiss()
            return
        from tutor.reports.service import Reports

        self.grant = grant
        self.reports = Reports.for_course(self._store, self._course, self._bank, grant)
        self.load()

    # ------------------------------------------------------------------ loading
    def action_refresh_reports(self) -> None:
        if self.reports is not None:
            self.load()

    @work(thread=True, exclusive=True, group="instructor-load", exit_on_error=False)
    def load(self) -> None:
        """Compute every class-wide report, filling each tab as soon as its report is ready."""
        self.app.call_from_thread(self._set_loading, True)
        steps = (
            ("class", self.reports.class_overview, self._show_class),
            ("activity", self.reports.activity, self._show_activity),
            ("items", self.reports.items, self._show_items),
            ("gaps", self.reports.gaps, self._show_gaps),
            ("effect", self.reports.effect, self._show_effect),
        )
        for name, compute, show in steps:
            try:
                result = compute()
            except Exception as exc:  # noqa: BLE001 - one failing report must not hide the others
                self.app.call_from_thread(self.notify, f"The {name} report failed: {exc}", severity="error")
                continue
            self.results[name] = result
            self.app.call_from_thread(show, result)
        self.app.call_from_thread(self._done_loading)

    def _set_loading(self, loading: bool) -> None:
        for table in self.query(ReportTable):
            table.loading = loading and table.id != "attempt-table"

    def _done_loading(self) -> None:
        self._set_loading(False)
        self.loaded = True

    # ------------------------------------------------------------------ class tab
    def _show_class(self, overview: Any) -> None:
        from tutor.app.widgets.mastery import MasteryBar

        self.query_one("#class-summary", Static).update("\n".join(overview.summary()))
        table = self.query_one("#class-table", ReportTable)
        table.show(overview.learner_table(), row_key="learner_id")
        table.loading = False
        if self.query_one(TabbedContent).active == "tab-class":
            table.focus()
        bars = self.query_one("#concept-bars", VerticalScroll)
        bars.remove_children()
        bars.mount_all(
            MasteryBar(c.concept_id, c.mean_p_known, f"{c.learners}", label_width=20)
            for c in overview.concepts
            if c.mean_p_known is not None
        )

    def _show_activity(self, days: Sequence[tuple[Any, int, int]]) -> None:
        plot = self.query_one("#activity-plot")
        _draw_activity(plot, days, "Answers per day (class)")

    @on(DataTable.RowSelected, "#class-table")
    def _learner_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_learner(int(event.row_key.value))

    @work(thread=True, exclusive=True, group="instructor-learner", exit_on_error=False)
    def open_learner(self, learner_id: int) -> None:
        """Drill down: one learner's report on the Learner tab."""
        try:
            report = self.reports.learner(learner_id)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.notify, f"Could not open the learner: {exc}", severity="error")
            return
        self.results["learner"] = report
        self.app.call_from_thread(self._show_learner, report)

    def _show_learner(self, report: Any) -> None:
        from tutor.app.widgets.mastery import MasteryBar

        self.query_one("#learner-summary", Static).update("\n".join(report.summary()))
        self.query_one("#attempt-table", ReportTable).show(report.attempt_table())
        bars = self.query_one("#learner-bars", VerticalScroll)
        bars.remove_children()
        bars.mount_all(
            MasteryBar(c.concept_id, c.p_known, f"{c.correct}/{c.attempts}", label_width=18) for c in report.concepts
        )
        topics = [f"{t.title}: {len(t.questions)}" for t in report.topics]
        self.query_one("#learner-topics", Static).update(
            "Questions to the tutor\n" + ("\n".join(topics) if topics else "none")
        )
        self.query_one("#attempt-detail", Static).update("")
        self.query_one(TabbedContent).active = "tab-learner"
        self.query_one("#attempt-table", ReportTable).focus()

    @on(DataTable.RowHighlighted, "#attempt-table")
    @on(DataTable.RowSelected, "#attempt-table")
    def _attempt_chosen(self, event: DataTable.RowHighlighted | DataTable.RowSelected) -> None:
        report = self.results.get("learner")
        if report is None or event.row_key.value is None:
            return
        a = report.attempts[int(event.row_key.value)]
        verdict = "right" if a.correct else "wrong"
        label = f" · {a.label}" if a.label else ""
        self.query_one("#attempt-detail", Static).update(
            Text.assemble(
                (f"{a.item_id}{label}\n", "bold"),
                f"{a.when:%Y-%m-%d %H:%M} · {verdict} · score {a.score:.2f} · {a.hints_used} hints · "
                f"{'first attempt' if a.first else 'retry'}\n",
                ("Answer: ", "bold"), f"{a.answer}\n",
                ("Feedback: ", "bold"), a.feedback or "–",
            )
        )

    # ------------------------------------------------------------------ other tabs
    def _show_items(self, report: Any) -> None:
        self.query_one("#items-summary", Static).update("\n".join(report.summary()))
        table = self.query_one("#items-table", ReportTable)
        table.show(report.item_table())
        table.loading = False

    @on(DataTable.RowHighlighted, "#items-table")
    def _item_chosen(self, event: DataTable.RowHighlighted) -> None:
        report = self.results.get("items")
        if report is None or event.row_key.value is None:
            return
        line = report.items[int(event.row_key.value)]
        options = ", ".join(f"{k}: {v}" for k, v in line.stats.options.items()) or "–"
        missed = "; ".join(f"{m.point} ({m.share:.0%})" for m in line.missed) or "–"
        self.query_one("#item-detail", Static).update(
            Text.assemble(
                (line.stats.item_id, "bold"), f"  {line.label}\n" if line.label else "\n",
                f"Concepts: {', '.join(line.concepts) or '–'} · options chosen: {options}\n",
                f"Flags: {', '.join(line.stats.flags) or 'none'} · key points most missed: {missed}",
            )
        )

    def _show_gaps(self, report: Any) -> None:
        self.query_one("#gaps-summary", Static).update("\n".join(report.summary()))
        table = self.query_one("#gaps-table", ReportTable)
        table.show(report.group_table())
        table.loading = False

    @on(DataTable.RowHighlighted, "#gaps-table")
    def _gap_chosen(self, event: DataTable.RowHighlighted) -> None:
        report = self.results.get("gaps")
        if report is None or event.row_key.value is None:
            return
        group = report.groups[int(event.row_key.value)]
        lines = [f"{q.when:%Y-%m-%d} {q.learner}: {q.question}" for q in group.questions[-6:]]
        self.query_one("#gap-detail", Static).update(
            Text.assemble((f"{group.label} ({len(group.questions)} questions)\n", "bold"), "\n".join(lines))
        )

    def _show_effect(self, report: Any) -> None:
        self.query_one("#effect-summary", Static).update("\n".join(report.summary()))
        table = self.query_one("#effect-table", ReportTable)
        table.show(report.concept_table())
        table.loading = False

    # ------------------------------------------------------------------ actions
    def _current_report(self) -> Any:
        active = self.query_one(TabbedContent).active.removeprefix("tab-")
        return self.results.get(active)

    @on(Button.Pressed, "#export-csv")
    def _export_csv(self) -> None:
        self.action_export("csv")

    @on(Button.Pressed, "#export-json")
    def _export_json(self) -> None:
        self.action_export("json")

    def action_export(self, fmt: str) -> None:
        from tutor.reports.errors import ReportError
        from tutor.reports.export import export

        report = self._current_report()
        if report is None:
            self.notify("Nothing to export on this tab yet.", severity="warning")
            return
        try:
            path = export(report, fmt, self.export_dir)
        except ReportError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"Saved {path}", title=f"{fmt.upper()} export")

    @on(Button.Pressed, "#refresh")
    def _refresh_pressed(self) -> None:
        self.action_refresh_reports()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss()


def _plot(plot_id: str) -> Any:
    from textual_plotext import PlotextPlot

    return PlotextPlot(id=plot_id)


def _draw_activity(plot: Any, days: Sequence[tuple[Any, int, int]], title: str) -> None:
    """Answers and correct answers per day: bars for a few days, lines for a term."""
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    plt.title(title)
    if days:
        labels = [d.strftime("%m-%d") for d, _, _ in days]
        answers = [n for _, n, _ in days]
        correct = [c for _, _, c in days]
        if len(days) <= 14:
            plt.multiple_bar(labels, [answers, correct], labels=["answers", "correct"])
        else:
            xs = list(range(len(days)))
            plt.plot(xs, answers, label="answers")
            plt.plot(xs, correct, label="correct")
            ticks = xs[:: max(1, len(days) // 4)]
            plt.xticks(ticks, [labels[i] for i in ticks])
    plot.refresh()
