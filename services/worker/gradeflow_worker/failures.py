"""What went wrong in the student's own code, in the terms of their file, and which checks failed only because of it.

The kernel names a cell after a temporary file (`/tmp/ipykernel_7/1080712615.py`) and calls every cell `Cell In[1]`
(cells run without history); a student knows only their file. Here a script's frames become `File "ode.py", line 7`
and a notebook's `File "ode.ipynb", code cell 3, line 2`, and the failure is classified into a closed kind
(gradeflow_protocol.enums.RunFailureKind) that gradeflow_protocol.words turns into a sentence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from gradeflow_protocol.enums import RunFailureKind, RunOutcome, SubmissionKind
from gradeflow_protocol.messages import MAX_MESSAGE_CHARS, MAX_TRACEBACK_CHARS, CheckResult, RunFailure
from gradeflow_worker.kernel import ExecResult

_TEMP_FILE = r"(?:[^\s\"'():]*/)?ipykernel_\d+/\d+\.py"
# one frame's header: IPython's `Cell In[1], line 7`, `File /tmp/ipykernel_7/123.py:7`, or Python's own
# `File "/tmp/ipykernel_7/123.py", line 7`
_FRAME = re.compile(rf"Cell In\[\d+\], line (?P<a>\d+)|File \"?{_TEMP_FILE}\"?(?::(?P<b>\d+)|, line (?P<c>\d+))")
_BARE_TEMP = re.compile(rf"{_TEMP_FILE}|\b\d{{5,}}\.py\b")
_ARROW = re.compile(r"^-*>\s*(\d+) ?(.*)$", re.MULTILINE)
# IPython's rule of dashes and its "ValueError      Traceback (most recent call last)" header, as Python writes it
_RULE = re.compile(r"^-{20,}\n", re.MULTILINE)
_HEADER = re.compile(r"^\w+ {2,}Traceback \(most recent call last\)$", re.MULTILINE)
_SYNTAX_WHERE = re.compile(r"\s*\([^()]*, line (\d+)\)$")  # "expected ':' (1080712615.py, line 7)"
_IMPORT_PATH = re.compile(r"\s*\((?:unknown location|/[^()]*)\)$")  # "cannot import name 'x' from 'numpy' (/.../x.py)"
_NO_MODULE = re.compile(r"No module named '([^']+)'")
_SYNTAX_ERRORS = frozenset({"SyntaxError", "IndentationError", "TabError"})
_MISSING_NAME = ("NameError: name '", "Your code raised NameError")


@dataclass(frozen=True)
class Cell:
    """Code the kernel runs: a notebook's code cell (numbered among its code cells, as the student counts them)
    or a whole script (number 1)."""

    number: int
    source: str


@dataclass(frozen=True)
class StudentFile:
    """The student's file as the failures name it."""

    filename: str
    kind: SubmissionKind
    cells: tuple[Cell, ...]

    @property
    def notebook(self) -> bool:
        return self.kind is SubmissionKind.NOTEBOOK

    def where(self, cell: Cell) -> str:
        """'code cell 3' in a notebook, 'your file' for a script (which has no cells the student knows of)."""
        return f"code cell {cell.number}" if self.notebook else "your file"


def empty_failure(student: StudentFile) -> RunFailure | None:
    """An empty script, or a notebook without a non-empty code cell: nothing to run."""
    if student.notebook and not student.cells:
        return RunFailure(kind=RunFailureKind.NO_CODE_CELLS, filename=student.filename)
    if not student.notebook and not any(cell.source.strip() for cell in student.cells):
        return RunFailure(kind=RunFailureKind.EMPTY_FILE, filename=student.filename)
    return None


def clean_traceback(traceback: str, *, cell: Cell, student: StudentFile) -> str:
    """The kernel's traceback with every frame and file named as the student knows them."""

    def frame(match: re.Match) -> str:
        line = int(match["a"] or match["b"] or match["c"])
        if not student.notebook:
            return f'File "{student.filename}", line {line}'
        number = cell.number if match.start() == first else _frame_cell(traceback[match.end():], line, cell, student)
        place = f"code cell {number}" if number is not None else "an earlier code cell"
        return f'File "{student.filename}", {place}, line {line}'

    found = _FRAME.search(traceback)
    first = found.start() if found else -1
    text = _BARE_TEMP.sub(student.filename, _FRAME.sub(frame, traceback))
    return _HEADER.sub("Traceback (most recent call last):", _RULE.sub("", text))


def _frame_cell(rest: str, line: int, current: Cell, student: StudentFile) -> int | None:
    """Which code cell (up to the current one) a frame of an earlier cell's function is in, by its source line."""
    arrow = _ARROW.search(rest.split("\n\n", 1)[0])
    if arrow is None or int(arrow.group(1)) != line:
        return None
    shown = arrow.group(2).rstrip()
    for cell in reversed([c for c in student.cells if c.number <= current.number]):
        lines = cell.source.splitlines()
        if len(lines) >= line and lines[line - 1].rstrip() == shown:
            return cell.number
    return None


def classify(result: ExecResult, *, cell: Cell, student: StudentFile) -> RunFailure:
    """The failure of one cell (or the script) that raised, with where it stopped and a cleaned traceback."""
    raw = result.traceback
    frame = _FRAME.search(raw)
    line = int(frame["a"] or frame["b"] or frame["c"]) if frame else None
    message = _BARE_TEMP.sub(student.filename, result.evalue)
    parsed = result.ename in _SYNTAX_ERRORS and "Traceback (most recent call last)" not in raw
    if parsed:
        where = _SYNTAX_WHERE.search(message)
        line = line or (int(where.group(1)) if where else None)
        message = _SYNTAX_WHERE.sub("", message)
    missing = _NO_MODULE.search(message) if result.ename in ("ModuleNotFoundError", "ImportError") else None
    if parsed:
        kind = RunFailureKind.SYNTAX_ERROR
    elif missing:
        kind = RunFailureKind.MISSING_MODULE
    elif result.ename == "ImportError":
        kind, message = RunFailureKind.IMPORT_ERROR, _IMPORT_PATH.sub("", message)
    elif result.ename == "SystemExit":
        kind = RunFailureKind.EXIT
    else:
        kind = RunFailureKind.EXCEPTION
    traceback = "" if kind is RunFailureKind.EXIT else clean_traceback(raw, cell=cell, student=student)
    return RunFailure(kind=kind, filename=student.filename, cell=cell.number if student.notebook else None,
                      line=line if line and line > 0 else None, ename=result.ename[:200],
                      message=message[:MAX_MESSAGE_CHARS], module=missing.group(1)[:200] if missing else "",
                      traceback=traceback[-MAX_TRACEBACK_CHARS:])


def mark_blocked(checks: list[CheckResult], *, failure: RunFailure | None, outcome: RunOutcome,
                 notebook: bool) -> list[CheckResult]:
    """Flag the failed checks that failed only because the student's code stopped early.

    All of them when nothing after the stop ran (a script that stopped, an empty file, a run ended by a limit);
    in a notebook, whose later cells still ran, only those that found a name missing."""
    if failure is None and outcome is RunOutcome.COMPLETED:
        return checks
    everything = outcome is not RunOutcome.COMPLETED or not notebook or failure.kind in (
        RunFailureKind.EMPTY_FILE, RunFailureKind.NO_CODE_CELLS)
    return [check.model_copy(update={"blocked": True})
            if not check.passed and check.score == 0 and (everything or _missing_name(check.message)) else check
            for check in checks]


def _missing_name(message: str) -> bool:
    return message.startswith("Not run") or any(marker in message for marker in _MISSING_NAME)
