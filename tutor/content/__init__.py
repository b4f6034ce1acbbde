"""Course content: typed objects, the folder loader and its one error type."""

from tutor.content.errors import ContentError
from tutor.content.loader import load_course
from tutor.content.model import Concept, Course, Lesson, Objective, Section

__all__ = ["Concept", "ContentError", "Course", "Lesson", "Objective", "Section", "load_course"]
