"""The course as a tree of lessons and sections, with a reading view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Footer, Markdown, Static, Tree

from tutor.app.messages import AskAbout, StartQuiz
from tutor.app.screens.base import PageScreen
from tutor.app.widgets.nav import NavBar
from tutor.app.styles import STYLE_DIR

if TYPE_CHECKING:
    from tutor.content.model import Course, Section


class LessonsScreen(PageScreen):
    MODE = "lessons"
    CSS_PATH = str(STYLE_DIR / "lessons.tcss")
    AUTO_FOCUS = "#lesson-tree"
    BINDINGS = [
        Binding("a", "ask", "Ask about this"),
        Binding("q", "quiz", "Quiz me on this"),
        Binding("r", "focus_reader", "Read", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.current: Section | None = None
        self._pending: str | None = None

    def compose(self) -> ComposeResult:
        yield NavBar("lessons")
        with Horizontal(id="lessons-body"):
            tree: Tree[str] = Tree("Course", id="lesson-tree")
            tree.show_root = False
            tree.guide_depth = 2
            yield tree
            with Vertical(id="reader-pane"):
                yield Static("", id="section-path")
                with VerticalScroll(id="reader"):
                    yield Markdown("Loading the course…", id="section-text")
                with Horizontal(id="lesson-actions"):
                    yield Button("Ask about this (a)", id="ask", compact=True)
                    yield Button("Quiz me on this (q)", id="quiz", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "opened", self._on_opened, init=True)

    def _on_opened(self, opened: bool) -> None:
        course = self.services.course
        if opened and course is not None and not self.query_one("#lesson-tree", Tree).root.children:
            self._build(course)

    def _build(self, course: Course) -> None:
        tree = self.query_one("#lesson-tree", Tree)
        tree.root.label = course.title
        for number, lesson in enumerate(course.lessons, start=1):
            node = tree.root.add(Text.assemble((f"{number:02d} ", "dim"), lesson.title), data="")
            for section in lesson.sections:
                label = Text(section.title)
                if section.supplementary:
                    label = Text.assemble(section.title, (" +", "dim italic"))
                node.add_leaf(label, data=section.id)
        wanted = self._pending or next((s.id for s in course.sections()), None)
        self._pending = None
        if wanted:
            self.show_section(wanted)

    def show_section(self, section_id: str) -> None:
        """Open a section: expand its lesson, move the tree cursor there, render the text."""
        tree = self.query_one("#lesson-tree", Tree)
        if not tree.root.children:
            self._pending = section_id
            return
        section = self.services.section(section_id)
        if section is None:
            self.notify(f"There is no section “{section_id}” in this course.", severity="warning")
            return
        for lesson_node in tree.root.children:
            for node in lesson_node.children:
                if node.data == section_id:
                    lesson_node.expand()
                    tree.move_cursor(node)
                    self.call_after_refresh(tree.scroll_to_node, node)
        self._show_text(section)

    def _show_text(self, section: Section) -> None:
        if self.current is not None and self.current.id == section.id:
            return
        self.current = section
        course = self.services.course
        lesson = next((lesson for lesson in course.lessons if lesson.id == section.lesson_id), None) if course else None
        path = Content.styled(lesson.title if lesson else section.lesson_id, "$text-muted")
        if section.concepts:
            shown = [self.services.concept_name(c) for c in section.concepts[:3]]
            more = len(section.concepts) - len(shown)
            names = ", ".join(shown) + (f" +{more}" if more > 0 else "")
            path = Content.assemble(path, ("  ·  ", "dim"), (names, "italic $text-accent"))
        self.query_one("#section-path", Static).update(path)
        note = "\n\n*This section was written for tutor to fill a gap in the lesson.*" if section.supplementary else ""
        self.query_one("#section-text", Markdown).update(f"## {section.title}\n\n{section.text.strip()}{note}")
        self.query_one("#reader", VerticalScroll).scroll_home(animate=False)

    @on(Tree.NodeHighlighted, "#lesson-tree")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data:
            section = self.services.section(event.node.data)
            if section is not None:
                self._show_text(section)

    @on(Tree.NodeSelected, "#lesson-tree")
    def _selected(self, event: Tree.NodeSelected) -> None:
        if event.node.data:
            self.query_one("#reader", VerticalScroll).focus()

    @on(Button.Pressed, "#ask")
    def action_ask(self) -> None:
        if self.current is None:
            self.notify("Choose a section first.", severity="warning")
            return
        self.post_message(AskAbout(f"Explain “{self.current.title}”.", send=False))

    @on(Button.Pressed, "#quiz")
    def action_quiz(self) -> None:
        if self.current is None:
            self.notify("Choose a section first.", severity="warning")
            return
        self.post_message(StartQuiz(tuple(self.current.concepts), title=self.current.title))

    def action_focus_reader(self) -> None:
        self.query_one("#reader", VerticalScroll).focus()
