"""What every page shares: the services, the learner, safe calls back from workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.screen import Screen

if TYPE_CHECKING:
    from tutor.app.services import Services
    from tutor.store.records import LearnerRecord


class PageScreen(Screen[None]):
    """A page reached from the nav bar; registers itself so other pages can find it."""

    MODE: ClassVar[str] = ""

    @property
    def services(self) -> Services:
        return self.app.services  # type: ignore[attr-defined,no-any-return]

    @property
    def learner(self) -> LearnerRecord | None:
        return getattr(self.app, "learner", None)

    def on_mount(self) -> None:
        pages = getattr(self.app, "pages", None)
        if isinstance(pages, dict):
            pages[self.MODE] = self

    def ui(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the UI thread from a worker; quietly nothing once the app has closed."""
        return self.app.from_thread(fn, *args, **kwargs)  # type: ignore[attr-defined]

    def tell(self, message: str, *, severity: str = "information", title: str = "") -> None:
        """A notification from a worker thread."""
        self.ui(self.notify, message, severity=severity, title=title)
