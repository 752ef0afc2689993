"""Turn a submission into the cells a kernel runs: a notebook's code cells, or a script as one cell."""
from __future__ import annotations

import nbformat

from gradeflow_protocol.enums import SubmissionKind
from gradeflow_worker.failures import Cell


def numbered_cells(kind: SubmissionKind, data: bytes) -> list[Cell]:
    """The non-empty code cells, numbered among all the notebook's code cells (as the student counts them), or
    the whole script as cell 1 (so a script's line numbers are its file's)."""
    text = data.decode("utf-8")
    if kind is SubmissionKind.NOTEBOOK:
        notebook = nbformat.reads(text, as_version=4)
        code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
        return [Cell(number, source) for number, source in enumerate(code, start=1) if source.strip()]
    return [Cell(1, text)]


def submission_cells(kind: SubmissionKind, data: bytes) -> list[str]:
    return [cell.source for cell in numbered_cells(kind, data)]
