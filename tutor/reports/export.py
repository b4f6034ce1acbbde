"""Saving a report as a CSV or JSON file in tutor's data folder (the app's export buttons)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tutor.reports.errors import ReportError
from tutor.reports.tables import Report, render


def reports_dir() -> Path:
    """``<data dir>/reports``: next to the database, never inside the repository."""
    from tutor.config import paths

    return paths().data_dir / "reports"


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text).strip("-") or "report"


def export(report: Report, fmt: str, folder: Path | None = None, *, when: datetime | None = None) -> Path:
    """Write ``report`` as ``fmt`` ("csv" or "json"); returns the file's path."""
    if fmt not in ("csv", "json"):
        raise ReportError(f"reports export as csv or json, not {fmt!r}")
    folder = folder or reports_dir()
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    name = report.kind
    learner = getattr(report, "summary_row", None)
    if learner is not None:
        name = f"learner-{_safe(learner.name)}"
    path = folder / f"{name}-{stamp}.{fmt}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(render(report, fmt), encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
