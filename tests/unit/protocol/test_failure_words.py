"""The words for a failed run: each kind its own plain sentence, said in the terms of the student's file."""
import pytest

from gradeflow_protocol.enums import RunFailureKind, RunOutcome
from gradeflow_protocol.messages import RunFailure, RunReport
from gradeflow_protocol.words import describe_blocked, describe_failure, value_spans


def failure(kind, **fields):
    return RunFailure(kind=kind, filename=fields.pop("filename", "my_theta.py"), **fields)


@pytest.mark.parametrize("kind, fields, sentence", [
    (RunFailureKind.SYNTAX_ERROR, dict(line=7, message="expected ':'"),
     "Your file my_theta.py has a syntax error at line 7: expected ':'. Python could not read the file, so none of "
     "it ran."),
    (RunFailureKind.SYNTAX_ERROR, dict(filename="ode.ipynb", cell=3, line=2, message="expected ':'"),
     "Code cell 3 of ode.ipynb has a syntax error at line 2: expected ':'. That cell did not run."),
    (RunFailureKind.MISSING_MODULE, dict(line=2, module="sklearnx"),
     "Your code stopped at line 2 of my_theta.py: it imports sklearnx, which is not available here: the "
     "assignment's environment (numpy) does not include it, or it is not allowed. The rest of the file did not run."),
    (RunFailureKind.IMPORT_ERROR, dict(line=1, message="cannot import name 'x' from 'numpy'"),
     "Your code stopped at line 1 of my_theta.py: an import failed: cannot import name 'x' from 'numpy'. "
     "The rest of the file did not run."),
    (RunFailureKind.EXCEPTION, dict(line=12, ename="ValueError", message="bad"),
     "Your code raised ValueError at line 12 of my_theta.py: bad. The rest of the file did not run."),
    (RunFailureKind.EXCEPTION, dict(filename="ode.ipynb", cell=4, line=2, ename="KeyError", message="'a'"),
     "Your code raised KeyError at code cell 4, line 2, of ode.ipynb: 'a'. The rest of that cell did not run."),
    (RunFailureKind.EXIT, dict(ename="SystemExit", message="3"),
     "Your code called sys.exit() (SystemExit: 3) in my_theta.py. The rest of the file did not run."),
    (RunFailureKind.EMPTY_FILE, dict(), "Your file my_theta.py is empty: there is no code to run."),
    (RunFailureKind.NO_CODE_CELLS, dict(filename="ode.ipynb"),
     "Your notebook ode.ipynb has no code cells: there is no code to run."),
])
def test_each_kind_of_failure_has_its_sentence(kind, fields, sentence):
    assert describe_failure(failure(kind, **fields), environment="numpy") == sentence


def test_every_kind_has_words():
    for kind in RunFailureKind:
        assert describe_failure(failure(kind, line=1)).strip()


@pytest.mark.parametrize("count, made, outcome, line", [
    (8, failure(RunFailureKind.SYNTAX_ERROR, line=12), RunOutcome.COMPLETED,
     "8 checks could not run because your code stopped at line 12."),
    (1, failure(RunFailureKind.EXCEPTION, filename="a.ipynb", cell=3, line=2), RunOutcome.COMPLETED,
     "1 check could not run because code cell 3 stopped at line 2."),
    (2, failure(RunFailureKind.EMPTY_FILE), RunOutcome.COMPLETED, "2 checks could not run because your file is empty."),
    (2, failure(RunFailureKind.NO_CODE_CELLS), RunOutcome.COMPLETED,
     "2 checks could not run because your notebook has no code cells."),
    (3, failure(RunFailureKind.EXIT), RunOutcome.COMPLETED, "3 checks could not run because your code called sys.exit()."),
    (3, None, RunOutcome.TIMEOUT, "3 checks could not run because your code was stopped at its time limit."),
])
def test_the_one_line_for_the_checks_that_could_not_run(count, made, outcome, line):
    assert describe_blocked(count, failure=made, outcome=outcome) == line


def test_an_old_result_without_a_failure_still_parses():
    report = RunReport.model_validate({"outcome": "completed", "wall_seconds": 1.0, "message": "Your code ran."})
    assert report.failure is None


def test_values_are_cut_out_for_monospace():
    spans = value_spans("y at index (88, 1): expected 1.234, got 1.891 (off by 0.657; tolerance rtol=1e-06, "
                        "atol=1e-08) for theta_method and y0")
    assert [text for text, value in spans if value] == ["(88, 1)", "1.234", "1.891", "0.657", "1e-06", "1e-08"]
    assert "".join(text for text, _ in spans).endswith("for theta_method and y0")
    assert value_spans("") == [] and value_spans("no values") == [("no values", False)]
