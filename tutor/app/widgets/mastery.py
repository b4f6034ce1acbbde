"""Text bars for mastery: one line each, coloured by how well a concept is known."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

#: Below this a concept is "shaky", above GOOD it is "solid".
WEAK = 0.4
GOOD = 0.7


def level_style(p: float) -> str:
    if p < WEAK:
        return "$error"
    if p < GOOD:
        return "$warning"
    return "$success"


def bar(p: float, width: int) -> Content:
    """A bar of ``width`` cells filled to ``p`` (0..1), with eighth-cell precision."""
    p = min(1.0, max(0.0, p))
    width = max(4, width)
    eighths = round(p * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    filled = "█" * full + partial
    empty = "·" * (width - len(filled))
    return Content.assemble((filled, level_style(p)), (empty, "$foreground-muted"))


def mastery_change(name: str, before: float | None, after: float, *, width: int = 0) -> Content:
    """`Transformers  42% → 58% ▲16`: what one answer did to a concept (name padded to ``width``)."""
    name = name.ljust(width)
    if before is None:
        return Content.assemble((name, "bold"), f"  {after:.0%}")
    delta = round((after - before) * 100)
    if delta > 0:
        arrow = (f"▲{delta}", "$success")
    elif delta < 0:
        arrow = (f"▼{-delta}", "$error")
    else:
        arrow = ("=", "$foreground-muted")
    return Content.assemble(
        (name, "bold"), f"  {before:>4.0%} → ", (f"{after:>4.0%}", level_style(after)), " ", arrow
    )


class MasteryBar(Widget):
    """`Name ████████···· 62%  (5/8)` sized to the space it gets."""

    DEFAULT_CSS = """
    MasteryBar { height: 1; width: 1fr; }
    """

    def __init__(
        self, name: str, p_known: float, detail: str = "", *, label_width: int = 24, detail_width: int = 0
    ) -> None:
        super().__init__(classes="mastery-bar")
        self.label = name
        self.p_known = p_known
        self.detail = detail
        self.label_width = label_width
        self.detail_width = max(detail_width, len(detail))  # same for every bar of a panel: bars line up

    def render(self) -> Content:
        width = self.size.width or 60
        label_width = min(self.label_width, max(10, width // 3))
        label = self.label if len(self.label) <= label_width else self.label[: label_width - 1] + "…"
        tail = f" {self.p_known:>4.0%}" + (f"  {self.detail.ljust(self.detail_width)}" if self.detail_width else "")
        bar_width = max(4, width - label_width - len(tail) - 1)
        return Content.assemble(label.ljust(label_width) + " ", bar(self.p_known, bar_width), tail)
