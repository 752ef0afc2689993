"""Turn a submission into the cells a kernel runs: a notebook's code cells, or a script as one cell."""
from __future__ import annotations

import nbformat

from gradeflow_protocol.enums import SubmissionKind


def submission_cells(kind: SubmissionKind, data: bytes) -> list[str]:
    text = data.decode("utf-8")
    if kind is SubmissionKind.NOTEBOOK:
        notebook = nbformat.reads(text, as_version=4)
        return [cell.source for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    return [text]
