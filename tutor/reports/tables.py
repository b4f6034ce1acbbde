"""Reports as tables, and the three ways they leave tutor: a text table, CSV and JSON.

Every report turns itself into one or more :class:`Table` (one of them is
its main table, the one a CSV export holds) plus a JSON object with
everything. Values stay typed in the rows (floats, datetimes, lists) and are
formatted only here, so the terminal, the spreadsheet and the app agree.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

Kind = Literal["text", "int", "float", "pct", "datetime", "date", "minutes", "list"]
FORMATS = ("table", "csv", "json")
NONE = "–"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: Kind = "text"

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float", "pct", "minutes")


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def cell(self, row: Mapping[str, Any], column: Column) -> str:
        return format_value(row.get(column.key), column.kind)


class Report(Protocol):
    """What every report offers the CLI, the exports and the app."""

    kind: str

    def summary(self) -> list[str]: ...
    def tables(self) -> list[Table]: ...  # for reading, in order
    def main_table(self) -> Table: ...  # what a CSV export holds
    def to_json(self) -> dict[str, Any]: ...


def format_value(value: Any, kind: Kind = "text") -> str:
    """A value as a person reads it in a table cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    if kind == "pct":
        return f"{float(value):.0%}"
    if kind == "float":
        return f"{float(value):.2f}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "minutes":
        minutes = float(value) / 60
        return f"{minutes:.0f} min" if minutes < 60 else f"{int(minutes // 60)} h {int(minutes % 60):02d} min"
    if kind == "datetime" and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if kind in ("datetime", "date") and isinstance(value, date):
        return value.isoformat()
    if kind == "list" or isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else NONE
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) if value else NONE
    return str(value)


def jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601, tuples as lists, NaN as null: what json.dumps accepts everywhere."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float):
        return "" if math.isnan(value) else round(value, 4)
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return value


def to_csv(table: Table) -> str:
    """One header row of column keys, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(row.get(c.key)) for c in table.columns])
    return out.getvalue()


def to_text(table: Table, *, max_width: int = 48) -> str:
    """An aligned plain-text table (numbers right-aligned, long text cut with …)."""
    header = [c.title for c in table.columns]
    body = []
    for row in table.rows:
        cells = []
        for column in table.columns:
            text = table.cell(row, column).replace("\n", " ")
            cells.append(text if len(text) <= max_width else text[: max_width - 1] + "…")
        body.append(cells)
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(w) if col.numeric else cell.ljust(w)
            for cell, w, col in zip(cells, widths, table.columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [table.title, line(header), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in body] if body else ["(none)"]
    return "\n".join(lines)


def render(report: Report, fmt: str) -> str:
    """The report in ``fmt`` ("table", "csv" or "json"), ending in a newline."""
    if fmt == "json":
        return json.dumps(jsonable(report.to_json()), ensure_ascii=False) + "\n"
    if fmt == "csv":
        return to_csv(report.main_table())
    tables = report.tables()
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    parts = ["\n".join(report.summary())] if report.summary() else []
    parts += [to_text(t) for t in tables]
    return "\n\n".join(parts) + "\n"
