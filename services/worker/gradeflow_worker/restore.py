"""Locked cells restored before the student's cells run (nbgrader's OverwriteCells): a bundle that carries
`restore_cells.json` (written by `gradeflow assignment import nbgrader`) lists, in order, the cells students may
not change, by grade_id, as students were given them. A student's copy whose checksum (nbgrader's) differs is
replaced; a deleted one is put back after the nearest earlier cell of the source that the notebook still has (at
the top when none). What changed is said in the TA log (both checksums) and in the run's message.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from gradeflow_graders.nbgrader_cells import compute_checksum, nbgrader_meta

RESTORE_FILE = "restore_cells.json"
MAX_SPEC_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class RestoredCell:
    grade_id: str
    change: str  # "edited" or "deleted"
    student_checksum: str | None  # None when deleted
    source_checksum: str


def load_restore_spec(bundle_dir: Path) -> dict | None:
    """The bundle's restore_cells.json, or None when it has none."""
    path = bundle_dir / RESTORE_FILE
    if not path.is_file() or path.stat().st_size > MAX_SPEC_BYTES:
        return None
    return json.loads(path.read_text("utf-8"))


def _locked_cell(entry: dict, *, with_id: bool) -> dict:
    cell = {"cell_type": entry["cell_type"], "metadata": json.loads(json.dumps(entry.get("metadata") or {})),
            "source": entry["source"]}
    if entry["cell_type"] == "code":
        cell |= {"outputs": [], "execution_count": None}
    if with_id:  # nbformat 4.5 and later give cells ids
        cell["id"] = uuid.uuid4().hex[:8]
    return cell


def _index_of(cells: list, grade_id: str) -> int | None:
    for index, cell in enumerate(cells):
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return index
    return None


def _insert_at(cells: list, order: list[str], grade_id: str) -> int:
    """After the nearest cell before `grade_id` in the source's order that the notebook has; else the top."""
    earlier = order[: order.index(grade_id)] if grade_id in order else []
    for previous in reversed(earlier):
        found = _index_of(cells, previous)
        if found is not None:
            return found + 1
    return 0


def restore_locked_cells(notebook: bytes, spec: dict) -> tuple[bytes, list[RestoredCell]]:
    """The notebook with every locked cell as the assignment gave it, and what had to change."""
    book = json.loads(notebook.decode("utf-8"))  # validated at upload; the nbformat reader comes after
    with_id = (book.get("nbformat"), book.get("nbformat_minor", 0)) >= (4, 5)
    order, changed = [str(g) for g in spec.get("order", [])], []
    for entry in spec.get("cells", []):
        grade_id, expected = str(entry["grade_id"]), _locked_cell(entry, with_id=with_id)
        index = _index_of(book["cells"], grade_id)
        if index is None:
            book["cells"].insert(_insert_at(book["cells"], order, grade_id), expected)
            changed.append(RestoredCell(grade_id, "deleted", None, entry["checksum"]))
            continue
        theirs = compute_checksum(book["cells"][index])
        if theirs != entry["checksum"]:
            if "id" in book["cells"][index]:
                expected["id"] = book["cells"][index]["id"]
            book["cells"][index] = expected
            changed.append(RestoredCell(grade_id, "edited", theirs, entry["checksum"]))
    return (json.dumps(book).encode("utf-8") if changed else notebook), changed


def log_lines(changed: list[RestoredCell]) -> list[str]:
    """For the TA log: each restored cell with nbgrader's checksums."""
    return [f"locked cell {c.grade_id} {c.change} by the student "
            f"(checksum {c.student_checksum or 'none: cell missing'}, source {c.source_checksum}); restored"
            for c in changed]


def run_note(changed: list[RestoredCell]) -> str:
    """For the run's message (student and staff)."""
    edited = [c.grade_id for c in changed if c.change == "edited"]
    deleted = [c.grade_id for c in changed if c.change == "deleted"]
    parts = ([f"edited: {', '.join(edited)}"] if edited else []) + ([f"deleted: {', '.join(deleted)}"] if deleted else [])
    return ("locked cells of the assignment were changed in your notebook and were restored to the assignment's "
            f"version before your code ran ({'; '.join(parts)})")
