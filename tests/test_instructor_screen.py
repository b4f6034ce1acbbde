"""The instructor screen: passphrase prompt, sortable tables, drill-down, exports; a 120x40 snapshot."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_app_fakes import FakeServices, wait_until
from test_reports_formulas import build_class
from textual.app import App
from textual.widgets import DataTable, Input, Static, TabbedContent

from tutor.app.screens.instructor import InstructorScreen, PassphraseScreen
from tutor.reports.access import hash_passphrase
from tutor.store import Store

PASS = "correct horse battery"


class InstructorApp(App[None]):
    """A bare app that opens the instructor screen straight away."""

    def __init__(self, store: Store, course, export_dir: Path) -> None:
        super().__init__()
        self.store, self.course, self.export_dir = store, course, export_dir

    def on_mount(self) -> None:
        self.push_screen(InstructorScreen(self.store, self.course, unlock_delay=0.05, export_dir=self.export_dir))


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path / 'class.db'}") as opened:
        build_class(opened)
        opened.set_instructor_hash(hash_passphrase(PASS))
        yield opened


async def unlock(pilot, app: App, passphrase: str = PASS) -> None:
    await wait_until(pilot, lambda: isinstance(app.screen, PassphraseScreen), what="passphrase prompt")
    await pilot.press(*passphrase, "enter")


async def loaded(pilot, app: App) -> InstructorScreen:
    await unlock(pilot, app)
    await wait_until(pilot, lambda: isinstance(app.screen, InstructorScreen) and app.screen.loaded, what="reports")
    return app.screen  # type: ignore[return-value]


async def click_header(pilot, table: DataTable, key: str) -> None:
    """Click the header cell of column ``key``, as a person would."""
    x = 0
    for column_key, column in table.columns.items():
        if column_key.value == key:
            break
        x += column.get_render_width(table)
    await pilot.click(table, offset=(x + 1, 0))


def names(table: DataTable) -> list[str]:
    return [table.get_row_at(i)[0].text for i in range(table.row_count)]


async def test_wrong_passphrase_is_refused_then_the_right_one_opens(store, course, tmp_path) -> None:
    app = InstructorApp(store, course, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, app, "a wrong guess")
        prompt = app.screen
        error = prompt.query_one("#passphrase-error", Static)
        await wait_until(pilot, lambda: "Wrong instructor passphrase" in str(error.render()), what="refusal")
        assert prompt.query_one("#passphrase", Input).value == ""
        instructor = app.screen_stack[-2]
        assert isinstance(instructor, InstructorScreen) and instructor.reports is None
        assert instructor.query_one("#class-table", DataTable).row_count == 0
        await pilot.press(*PASS, "enter")
        await wait_until(pilot, lambda: instructor.loaded, what="reports")
        assert names(instructor.query_one("#class-table", DataTable)) == ["ana", "ben", "cy", "dee"]
        assert instructor.query_one("#items-table", DataTable).row_count == 6
        assert instructor.query_one("#gaps-table", DataTable).row_count == 1
        summary = str(instructor.query_one("#class-summary", Static).render())
        assert "4 learners (3 active), 1 stuck on at least one concept" in summary


async def test_cancel_closes_the_view(store, course, tmp_path) -> None:
    app = InstructorApp(store, course, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PassphraseScreen), what="prompt")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, (PassphraseScreen, InstructorScreen)), what="closed")


async def test_sort_by_header_then_drill_down_to_attempts(store, course, tmp_path) -> None:
    app = InstructorApp(store, course, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, app)
        table = screen.query_one("#class-table", DataTable)
        await click_header(pilot, table, "mastery")
        await wait_until(pilot, lambda: names(table) == ["ben", "cy", "ana", "dee"], what="ascending, blank last")
        await click_header(pilot, table, "mastery")
        await wait_until(pilot, lambda: names(table) == ["ana", "cy", "ben", "dee"], what="descending, blank last")

        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")  # ana
        await wait_until(pilot, lambda: screen.query_one(TabbedContent).active == "tab-learner", what="learner tab")
        attempts = screen.query_one("#attempt-table", DataTable)
        await wait_until(pilot, lambda: attempts.row_count == 6, what="ana's answers")
        assert "Learner ana" in str(screen.query_one("#learner-summary", Static).render())
        attempts.focus()
        await pilot.press("down")
        detail = screen.query_one("#attempt-detail", Static)
        await wait_until(pilot, lambda: "g2" in str(detail.render()), what="answer detail")
        assert "Answer: A" in str(detail.render()) and "right" in str(detail.render())


async def test_export_buttons_write_csv_and_json(store, course, tmp_path) -> None:
    app = InstructorApp(store, course, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await pilot.click("#export-csv")
        await wait_until(pilot, lambda: list(tmp_path.glob("class-*.csv")), what="CSV file")
        rows = list(csv.DictReader(next(tmp_path.glob("class-*.csv")).open(encoding="utf-8")))
        assert [r["name"] for r in rows] == ["ana", "ben", "cy", "dee"]
        assert any(str(tmp_path) in n.message for n in app._notifications)
        app.screen.query_one(TabbedContent).active = "tab-effect"
        await pilot.click("#export-json")
        await wait_until(pilot, lambda: list(tmp_path.glob("effect-*.json")), what="JSON file")


async def test_no_passphrase_set_says_how_to_set_one(tmp_path, course) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'empty.db'}") as store:
        app = InstructorApp(store, course, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, PassphraseScreen), what="prompt")
            error = app.screen.query_one("#passphrase-error", Static)
            await wait_until(pilot, lambda: "tutor instructor set-passphrase" in str(error.render()), what="hint")


class ServicesWithStore(FakeServices):
    """The app's scripted services plus the store, as the real services hold it."""

    def __init__(self, store: Store, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store


async def test_f9_in_the_app_opens_the_prompt_over_the_services_store(store) -> None:
    from tutor.app.app import TutorApp

    app = TutorApp(ServicesWithStore(store), warm_up=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.opened, what="services open")
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, PassphraseScreen), what="prompt")
        await pilot.press(*PASS, "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InstructorScreen) and app.screen.loaded, what="reports")
        assert names(app.screen.query_one("#class-table", DataTable)) == ["ana", "ben", "cy", "dee"]


def test_snapshot_class_tab(snap_compare, store, course, tmp_path) -> None:
    async def run_before(pilot) -> None:
        app = pilot.app
        await loaded(pilot, app)
        await pilot.pause()

    assert snap_compare(InstructorApp(store, course, tmp_path), terminal_size=(120, 40), run_before=run_before)
