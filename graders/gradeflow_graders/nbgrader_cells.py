"""nbgrader's autograder test cells, scored as nbgrader 0.9 scores them, one gradeflow check per grade cell.

The cell's code is taken from the *source* notebook (hidden tests included; the student's copy is ignored, so
editing a test cell gains nothing) and sent into the student's kernel after every student cell has run: these are
in-kernel tests. It runs with its own error handling (IPython's showtraceback, which students can replace to hide
an error from nbgrader, plays no part). What comes back is only: the exception's last line, whether anything was
written to stderr, and the repr of the cell's last expression. Scoring (nbgrader.utils.determine_grade): an
error or stderr output scores 0; a last value that reads as a number from 0 to the cell's points is partial
credit; anything else scores the cell's points.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from gradeflow_graders.api import (
    CheckFailed,
    StudentError,
    StudentTimeout,
    StudentValueError,
    Verdict,
)

GRADE_CELL_RUNNER = '''
import sys as _sys, io as _io, ast as _ast, traceback as _tb
def _gf_grade_cell(source):
    out, err = _io.StringIO(), _io.StringIO()
    saved = _sys.stdout, _sys.stderr
    _sys.stdout, _sys.stderr = out, err
    reply = {"error": None, "value": None, "stderr": False}
    try:
        shell = _G.get("get_ipython")
        if shell is not None:
            source = shell().transform_cell(source)  # magics, as IPython runs the cell
        tree = _ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], _ast.Expr) else None
        exec(compile(tree, "<test cell>", "exec"), _G)
        if last is not None:
            value = eval(compile(_ast.Expression(last.value), "<test cell>", "eval"), _G)
            if value is not None:
                reply["value"] = repr(value)[:200]
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        reply["error"] = _tb.format_exception_only(type(e), e)[-1].strip()[:1000]
    finally:
        _sys.stdout, _sys.stderr = saved
    reply["stderr"] = bool(err.getvalue())
    return reply
'''


# Finds the student's copy of a test cell (by grade_id) in the notebooks of the kernel's home, to say when it was
# edited or deleted: a notice only (the source's cell is what runs); what comes back is the student's own text.
# The notebook of the source's name is looked in first, then no other when it exists (a set of several notebooks
# may reuse a grade_id); a single uploaded notebook may have any name.
CELL_COPY_FINDER = '''
import glob as _glob, json as _json, os as _os
def _gf_cell_copy(grade_id, preferred):
    home = _os.path.expanduser("~")
    own = _os.path.join(home, _os.path.basename(preferred))
    paths = [own] if _os.path.isfile(own) else sorted(_glob.glob(_os.path.join(home, "*.ipynb")))
    for path in paths:
        try:
            if _os.path.getsize(path) > 20000000:
                continue
            with open(path) as fh:
                cells = _json.load(fh).get("cells", [])
        except Exception:
            continue
        for c in cells:
            meta = (c.get("metadata") or {}).get("nbgrader") or {}
            if meta.get("grade_id") == grade_id:
                s = c.get("source", "")
                return ("".join(s) if isinstance(s, list) else str(s))[:100000]
    return None
'''
EDITED = "Your copy of this test cell was changed; the original test ran."
DELETED = "Your notebook no longer has this test cell; the original test ran."


class GradeCellError(ValueError):
    """A grade cell the generated checks cannot find any more."""


@dataclass(frozen=True)
class GradeCell:
    notebook: str
    grade_id: str
    points: float
    source: str


def nbgrader_meta(cell: dict) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def is_autograder_test(cell: dict) -> bool:
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_locked(cell: dict) -> bool:
    """nbgrader's is_locked: a grade cell that is not a solution cell, or a cell marked locked."""
    meta = nbgrader_meta(cell)
    if not meta or meta.get("solution"):
        return False
    return bool(meta.get("grade") or meta.get("locked"))


def compute_checksum(cell: dict) -> str:
    """nbgrader.utils.compute_checksum: md5 of the source, type, flags, grade_id and (grade cells) points."""
    meta = nbgrader_meta(cell)
    digest = hashlib.md5()
    for part in (cell_source(cell), cell.get("cell_type", ""), str(bool(meta.get("grade"))),
                 str(bool(meta.get("solution"))), str(is_locked(cell)), str(meta.get("grade_id", ""))):
        digest.update(part.encode("utf-8"))
    if meta.get("grade"):
        digest.update(str(float(meta.get("points", 0))).encode("utf-8"))
    return digest.hexdigest()


def load_cell(notebook: Path, grade_id: str, *, points: float) -> GradeCell:
    """The test cell `grade_id` of the source notebook, refused when its points differ from the check's."""
    cells = json.loads(notebook.read_text("utf-8"))["cells"]
    for cell in cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade_id") == grade_id and is_autograder_test(cell):
            found = float(meta.get("points", 0))
            if abs(found - points) > 1e-9:
                raise GradeCellError(f"{notebook.name}: cell {grade_id} is worth {found:g} points but its check "
                                     f"says {points:g}; import the assignment again")
            return GradeCell(notebook=notebook.name, grade_id=grade_id, points=found, source=cell_source(cell))
    raise GradeCellError(f"{notebook.name} has no autograder test cell {grade_id}")


def score_reply(reply: dict, points: float) -> tuple[float, str]:
    """nbgrader's determine_grade on what the cell did."""
    if reply.get("error"):
        return 0.0, f"The test cell failed: {reply['error']}"
    if reply.get("stderr"):
        return 0.0, "The test cell wrote to stderr, which nbgrader scores as a failure"
    value = reply.get("value")
    if value is not None:
        try:
            partial = float(value)
        except ValueError:
            return points, ""
        if partial > points:
            raise CheckFailed(f"the test cell gave {partial:g} points, more than its {points:g}; staff can see why")
        if partial >= 0:
            return partial, f"Partial credit: {partial:g} of {points:g}"
    return points, ""


def grade_cell(cell: GradeCell, student) -> Verdict:
    """Run the source's test cell in the kernel (after the student's cells) and score it as nbgrader does."""
    runner = student.define(f"(lambda ns: (exec({GRADE_CELL_RUNNER!r}, ns), ns['_gf_grade_cell'])[1])"
                            f"({{'_G': globals()}})")
    try:
        reply = student.call(runner, cell.source)
    except StudentError as exc:
        return Verdict(0.0, f"The test cell failed: {exc}")
    if not isinstance(reply, dict):
        raise StudentValueError("the test cell runner was replaced by the student's code")
    score, message = score_reply(reply, cell.points)
    notice = _edit_notice(cell, student)
    message = f"{message}\n{notice}".strip() if notice else message
    return Verdict(score / cell.points if cell.points else 1.0, message)


def without_hidden_tests(source: str) -> str:
    """The test cell as students got it (nbgrader's ClearHiddenTests)."""
    kept, inside = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def _edit_notice(cell: GradeCell, student) -> str:
    """Whether the student's copy of the test cell differs from what they were given (a notice; never a score)."""
    try:
        finder = student.define(f"(lambda ns: (exec({CELL_COPY_FINDER!r}, ns), ns['_gf_cell_copy'])[1])({{}})")
        copy = student.call(finder, cell.grade_id, cell.notebook)
    except (StudentError, StudentValueError, StudentTimeout):
        return ""
    if copy is None:
        return DELETED
    if not isinstance(copy, str):
        return ""
    return EDITED if copy.strip() != without_hidden_tests(cell.source).strip() else ""
