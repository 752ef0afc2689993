"""Failures of the student's code, classified and named in the terms of their own file (tracebacks as ipykernel
writes them; no kernel needed)."""
import nbformat
import pytest

from gradeflow_protocol.enums import RunFailureKind, RunOutcome, SubmissionKind
from gradeflow_protocol.messages import CheckResult
from gradeflow_worker.cells import numbered_cells, submission_cells
from gradeflow_worker.failures import Cell, StudentFile, classify, clean_traceback, empty_failure, mark_blocked
from gradeflow_worker.kernel import ExecResult, ExecStatus

SCRIPT_SOURCE = "import numpy as np\n\ndef g():\n    return 1/0\n\ny = g()\n"
SCRIPT = StudentFile("my_theta.py", SubmissionKind.SCRIPT, (Cell(1, SCRIPT_SOURCE),))

SYNTAX = """  Cell In[1], line 7
    def theta_method(f, y0, t0, t1, n, theta)
                                             ^
SyntaxError: expected ':'
"""
NESTED = """---------------------------------------------------------------------------
ZeroDivisionError                         Traceback (most recent call last)
Cell In[1], line 6
      3 def g():
      4     return 1/0
----> 6 y = g()

Cell In[1], line 4, in g()
      3 def g():
----> 4     return 1/0

ZeroDivisionError: division by zero"""
MISSING = """---------------------------------------------------------------------------
ModuleNotFoundError                       Traceback (most recent call last)
Cell In[1], line 2
      1 import numpy as np
----> 2 import sklearnx

ModuleNotFoundError: No module named 'sklearnx'"""
OLD_STYLE = """Traceback (most recent call last)
File /tmp/ipykernel_7/1080712615.py:2
----> 2 raise ValueError('x')
ValueError: x"""


def error(ename, evalue, traceback=""):
    return ExecResult(ExecStatus.ERROR, ename=ename, evalue=evalue, traceback=traceback)


def test_a_syntax_error_names_the_students_file_and_line_never_the_temporary_file():
    failure = classify(error("SyntaxError", "expected ':' (1080712615.py, line 7)", SYNTAX), cell=SCRIPT.cells[0],
                       student=SCRIPT)
    assert (failure.kind, failure.line, failure.cell, failure.filename) == (
        RunFailureKind.SYNTAX_ERROR, 7, None, "my_theta.py")
    assert failure.message == "expected ':'"
    assert failure.traceback.startswith('  File "my_theta.py", line 7\n') and "Cell" not in failure.traceback


def test_the_line_comes_from_the_message_when_the_traceback_has_none():
    failure = classify(error("IndentationError", "unexpected indent (2660140735.py, line 3)", ""),
                       cell=SCRIPT.cells[0], student=SCRIPT)
    assert failure.kind is RunFailureKind.SYNTAX_ERROR and failure.line == 3 and "2660140735" not in failure.message


def test_an_exception_stops_at_the_scripts_top_level_line_and_keeps_every_frame():
    failure = classify(error("ZeroDivisionError", "division by zero", NESTED), cell=SCRIPT.cells[0], student=SCRIPT)
    assert failure.kind is RunFailureKind.EXCEPTION and failure.line == 6
    assert 'File "my_theta.py", line 6' in failure.traceback and 'File "my_theta.py", line 4, in g()' in failure.traceback
    assert failure.traceback.startswith("Traceback (most recent call last):\nFile") and "----------" not in failure.traceback


def test_a_syntax_error_raised_by_running_code_is_an_exception():
    traceback = "Traceback (most recent call last)\nCell In[1], line 1\n----> 1 eval('1 +')\n"
    failure = classify(error("SyntaxError", "invalid syntax (<string>, line 1)", traceback), cell=SCRIPT.cells[0],
                       student=SCRIPT)
    assert failure.kind is RunFailureKind.EXCEPTION


def test_imports_say_which_module_and_drop_the_sandboxs_paths():
    missing = classify(error("ModuleNotFoundError", "No module named 'sklearnx'", MISSING), cell=SCRIPT.cells[0],
                       student=SCRIPT)
    assert (missing.kind, missing.module, missing.line) == (RunFailureKind.MISSING_MODULE, "sklearnx", 2)
    name = classify(error("ImportError", "cannot import name 'nope' from 'numpy' (/opt/env/numpy/__init__.py)"),
                    cell=SCRIPT.cells[0], student=SCRIPT)
    assert name.kind is RunFailureKind.IMPORT_ERROR and name.message == "cannot import name 'nope' from 'numpy'"


def test_sys_exit_is_its_own_kind_without_ipythons_advice():
    failure = classify(error("SystemExit", "3", "An exception has occurred, use %tb to see the full traceback.\n\n"
                             "SystemExit: 3\n"), cell=SCRIPT.cells[0], student=SCRIPT)
    assert failure.kind is RunFailureKind.EXIT and failure.traceback == "" and failure.message == "3"


def test_older_ipython_frames_and_bare_temporary_names_are_renamed():
    text = clean_traceback(OLD_STYLE + "\nsee /tmp/ipykernel_7/1080712615.py", cell=SCRIPT.cells[0], student=SCRIPT)
    assert 'File "my_theta.py", line 2' in text and "1080712615" not in text and "ipykernel" not in text


def test_a_notebook_names_the_code_cell_and_finds_an_earlier_cells_function():
    cells = (Cell(1, "def g():\n    return 1/0"), Cell(3, "x = 1\ny = g()"))
    notebook = StudentFile("ode.ipynb", SubmissionKind.NOTEBOOK, cells)
    traceback = ("Traceback (most recent call last)\nCell In[1], line 2\n      1 x = 1\n----> 2 y = g()\n\n"
                 "Cell In[1], line 2, in g()\n      1 def g():\n----> 2     return 1/0\n\nZeroDivisionError: division")
    failure = classify(error("ZeroDivisionError", "division", traceback), cell=cells[1], student=notebook)
    assert (failure.cell, failure.line) == (3, 2)
    assert 'File "ode.ipynb", code cell 3, line 2\n' in failure.traceback
    assert 'File "ode.ipynb", code cell 1, line 2, in g()' in failure.traceback


def test_empty_files_and_notebooks_without_code_have_nothing_to_run():
    empty = StudentFile("e.py", SubmissionKind.SCRIPT, tuple(numbered_cells(SubmissionKind.SCRIPT, b"\n  \n")))
    assert empty_failure(empty).kind is RunFailureKind.EMPTY_FILE
    book = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# only words"),
                                                           nbformat.v4.new_code_cell("  ")])).encode()
    notebook = StudentFile("n.ipynb", SubmissionKind.NOTEBOOK, tuple(numbered_cells(SubmissionKind.NOTEBOOK, book)))
    assert empty_failure(notebook).kind is RunFailureKind.NO_CODE_CELLS
    assert empty_failure(SCRIPT) is None


def test_code_cells_are_numbered_as_the_student_counts_them():
    book = nbformat.writes(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"), nbformat.v4.new_code_cell("a = 1"), nbformat.v4.new_code_cell(""),
        nbformat.v4.new_markdown_cell("more"), nbformat.v4.new_code_cell("b = 2")])).encode()
    assert numbered_cells(SubmissionKind.NOTEBOOK, book) == [Cell(1, "a = 1"), Cell(3, "b = 2")]
    assert submission_cells(SubmissionKind.NOTEBOOK, book) == ["a = 1", "b = 2"]
    assert numbered_cells(SubmissionKind.SCRIPT, b"x = 1\n") == [Cell(1, "x = 1\n")]


def checks():
    return [CheckResult(name="passes", score=1, max_score=1, passed=True),
            CheckResult(name="partial", score=0.5, max_score=1, passed=False, message="half right"),
            CheckResult(name="missing", score=0, max_score=1, passed=False,
                        message="Your code raised NameError: name 'theta_method' is not defined"),
            CheckResult(name="wrong", score=0, max_score=1, passed=False, message="expected 1, got 2")]


@pytest.mark.parametrize("notebook, blocked", [(False, ["missing", "wrong"]), (True, ["missing"])],
                         ids=["script: nothing after the stop ran", "notebook: later cells ran"])
def test_checks_that_failed_only_because_the_code_stopped_are_marked(notebook, blocked):
    failure = classify(error("ValueError", "x", NESTED), cell=SCRIPT.cells[0], student=SCRIPT)
    marked = mark_blocked(checks(), failure=failure, outcome=RunOutcome.COMPLETED, notebook=notebook)
    assert [c.name for c in marked if c.blocked] == blocked


def test_a_limit_blocks_every_failed_check_and_a_clean_run_none():
    marked = mark_blocked(checks(), failure=None, outcome=RunOutcome.TIMEOUT, notebook=True)
    assert [c.name for c in marked if c.blocked] == ["missing", "wrong"]
    assert not any(c.blocked for c in mark_blocked(checks(), failure=None, outcome=RunOutcome.COMPLETED,
                                                   notebook=False))
