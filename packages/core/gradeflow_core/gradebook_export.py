"""Gradebook files: a full CSV (penalties and overrides visible) and a CSV Canvas's gradebook import takes.

Canvas: the first five columns identify the student (Student, ID, SIS User ID, SIS Login ID, Section); every
other column is an assignment, matched by name (a name Canvas does not know becomes a new assignment); the
second row is "Points Possible". Canvas matches a row by ID, SIS User ID or SIS Login ID: we leave ID (Canvas's
internal number) empty and fill SIS Login ID with the username and SIS User ID with the roster's sis_id. The
total goes in "Final Points", a column Canvas treats as read-only (computed) and ignores on import.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from gradeflow_core.gradebook import Cell, Column, Gradebook

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_TOTAL = "Final Points"
CANVAS_POINTS_ROW = "    Points Possible"  # as Canvas writes it in its own exports
CSV_IDENTITY = ["username", "name", "email", "sis_id", "section"]
CSV_PER_ASSIGNMENT = ("", " raw", " late days", " penalty %", " override")


def points(value: float | None) -> str:
    """A score as a cell: at most two decimals, no trailing zeros; empty for no score."""
    if value is None:
        return ""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _write(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue()


def _cell_columns(cell: Cell) -> list[str]:
    return [points(cell.final), points(cell.raw), str(cell.days_late) if cell.raw is not None else "",
            points(cell.penalty_percent) if cell.raw is not None else "", points(cell.override)]


def to_csv(book: Gradebook) -> str:
    """Per assignment: the recorded score, the raw score, days late, the penalty and any override; then the total."""
    header = list(CSV_IDENTITY)
    for column in book.columns:
        header += [column.slug + suffix for suffix in CSV_PER_ASSIGNMENT]
    header.append("total")
    lines = [header]
    for row in book.rows:
        line = [row.username, row.name, row.email, row.sis_id, row.section]
        for column in book.columns:
            line += _cell_columns(row.cells[column.slug])
        lines.append(line + [points(row.total)])
    return _write(lines)


def canvas_names(columns: list[Column]) -> list[str]:
    """Assignment column names: the title, with the slug added where two titles are the same."""
    titles = [c.title or c.slug for c in columns]
    return [f"{t} [{c.slug}]" if titles.count(t) > 1 else t for t, c in zip(titles, columns)]


def to_canvas(book: Gradebook) -> str:
    """The CSV Canvas's gradebook import takes (recorded scores only; empty where there is no score)."""
    header = CANVAS_IDENTITY + canvas_names(book.columns) + [CANVAS_TOTAL]
    possible = [CANVAS_POINTS_ROW, "", "", "", ""] + [points(c.max_score) for c in book.columns] + ["(read only)"]
    lines = [header, possible]
    for row in book.rows:
        scores = [points(row.cells[c.slug].final) for c in book.columns]
        lines.append([row.name or row.username, "", row.sis_id, row.username, row.section, *scores, points(row.total)])
    return _write(lines)
