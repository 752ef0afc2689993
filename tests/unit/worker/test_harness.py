"""The harness's verdicts from what the kernel reported (no kernel needed)."""
from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import Limits
from gradeflow_worker.failures import Cell, StudentFile
from gradeflow_worker.harness import RunState, _apply_cell_result, _run_message, _shown_output
from gradeflow_worker.kernel import ExecResult, ExecStatus, OutputSink

LIMITS = Limits(cell_timeout_s=5, time_limit_s=60, memory_mb=512, max_output_kb=10)
CELLS = (Cell(1, "import numpy as np"), Cell(2, "x = 1\nraise ValueError('bad')"), Cell(4, "y = 2"))
NOTEBOOK = StudentFile("ode.ipynb", SubmissionKind.NOTEBOOK, CELLS)
RAISED = "---------\nValueError   Traceback (most recent call last)\nCell In[1], line 2\n----> 2 raise ValueError('bad')\n"


def apply(result, state=None, cell=CELLS[1]):
    state = state or RunState()
    stop = _apply_cell_result(state, result, cell=cell, student=NOTEBOOK, limits=LIMITS, remaining=50)
    return state, stop


def test_an_error_is_said_once_with_its_cell_and_line_and_the_next_cell_runs():
    state, stop = apply(ExecResult(ExecStatus.ERROR, ename="ValueError", evalue="bad", traceback=RAISED))
    assert not stop and state.outcome is RunOutcome.COMPLETED
    message = _run_message(state, LIMITS)
    assert message == ("Your code raised ValueError at code cell 2, line 2, of ode.ipynb: bad. "
                       "The rest of that cell did not run.")
    assert "ran to the end" not in message
    state, _ = apply(ExecResult(ExecStatus.ERROR, ename="NameError", evalue="name 'x' is not defined"), state,
                     cell=CELLS[2])
    assert _run_message(state, LIMITS).endswith("Code cell 4 also raised an error (see your code's output).")


def test_a_run_without_failure_ran_to_the_end():
    assert _run_message(RunState(), LIMITS) == "Your code ran to the end."


def test_the_output_shows_tracebacks_in_the_files_terms():
    sink = OutputSink(max_bytes=10_000)
    sink.add("before\n" + RAISED)
    state, _ = apply(ExecResult(ExecStatus.ERROR, ename="ValueError", evalue="bad", traceback=RAISED))
    shown = _shown_output(sink, cap=5000, tracebacks=state.tracebacks)
    assert 'File "ode.ipynb", code cell 2, line 2' in shown and "In[1]" not in shown and shown.startswith("before")


def test_sys_exit_is_explained():
    state, _ = apply(ExecResult(ExecStatus.ERROR, ename="SystemExit", evalue="3"))
    assert "sys.exit()" in _run_message(state, LIMITS)


def test_memory_error_is_the_memory_limit():
    state, stop = apply(ExecResult(ExecStatus.ERROR, ename="MemoryError"))
    assert stop and state.outcome is RunOutcome.MEMORY_LIMIT and "512 MB" in _run_message(state, LIMITS)


def test_timeout_output_flood_and_death():
    state, stop = apply(ExecResult(ExecStatus.TIMEOUT, alive=True))
    assert stop and state.outcome is RunOutcome.TIMEOUT and state.kernel_alive
    assert "5 s per cell" in _run_message(state, LIMITS) and "code cell 2 ran longer than 5 s" in _run_message(state, LIMITS)
    state, _ = apply(ExecResult(ExecStatus.OUTPUT_LIMIT))
    assert state.outcome is RunOutcome.OUTPUT_LIMIT and not state.kernel_alive
    state, _ = apply(ExecResult(ExecStatus.DIED, alive=False))
    assert state.outcome is RunOutcome.CRASHED and "while code cell 2 ran" in _run_message(state, LIMITS)


def test_output_is_capped_for_the_student_with_a_note():
    sink = OutputSink(max_bytes=10_000)
    sink.add("x" * 5000)
    shown = _shown_output(sink, cap=100)
    assert shown.startswith("x" * 100) and "[output truncated: 5000 bytes in all]" in shown
    small = OutputSink(max_bytes=10_000)
    small.add("hello\n")
    assert _shown_output(small, cap=100) == "hello\n"


def test_the_sink_counts_everything_but_keeps_only_up_to_the_cap():
    sink = OutputSink(max_bytes=10)
    assert sink.add("12345")
    assert not sink.add("6789012")
    assert sink.total == 12 and sink.text() == "12345"
