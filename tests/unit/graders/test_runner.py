"""Scoring of one check: every way a check can end becomes a result with a student-readable message."""
import pytest

from gradeflow_graders import CheckFailed, StudentError, StudentTimeout, StudentValueError, check, expect
from gradeflow_graders.api import KernelDied, expect_close
from gradeflow_graders.runner import ChecksError, load_checks, not_run, run_check


class Stub:
    """A student handle whose call() does what the test says."""

    def __init__(self, behaviour):
        self.behaviour = behaviour

    def call(self, *args):
        return self.behaviour()


def spec_of(fn):
    return fn.__gradeflow_check__


def grade(fn, behaviour=lambda: 1.0):
    logs = []
    result = run_check(spec_of(fn), Stub(behaviour), seed=1, timeout=5, log=logs.append)
    return result, logs


@check(points=2, name="uses the call")
def needs_one(student, rng):
    expect(student.call("f") == 1.0, "f() should be 1")


@check(points=4, name="partial")
def half(student, rng):
    return 0.5


def raiser(exc):
    def behaviour():
        raise exc
    return behaviour


def test_pass_fail_and_partial_credit():
    assert grade(needs_one)[0].score == 2
    failed = grade(needs_one, lambda: 2.0)[0]
    assert (failed.score, failed.passed, failed.message) == (0, False, "f() should be 1")
    assert grade(half)[0].score == 2.0


@pytest.mark.parametrize(("exc", "prefix"), [
    (StudentError("ValueError: bad"), "Your code raised ValueError: bad"),
    (StudentTimeout("f(...) did not finish"), "Timed out: f(...) did not finish"),
    (StudentValueError("too large"), "Could not use what your code returned: too large"),
])
def test_student_side_errors_become_messages(exc, prefix):
    result, _ = grade(needs_one, raiser(exc))
    assert result.score == 0 and result.message == prefix


def test_a_bug_in_the_check_is_logged_for_staff_and_neutral_for_the_student():
    result, logs = grade(needs_one, raiser(ZeroDivisionError("oops")))
    assert result.score == 0 and "staff can see why" in result.message
    assert "ZeroDivisionError" in logs[0]


def test_a_dead_kernel_stops_the_suite():
    with pytest.raises(KernelDied):
        grade(needs_one, raiser(KernelDied("gone")))


def test_bad_return_values_are_a_check_error():
    @check(points=1, name="returns junk")
    def junk(student, rng):
        return 7

    result, logs = grade(junk)
    assert result.score == 0 and "returned 7" in logs[0]


def test_not_run_keeps_points_visible():
    [result] = not_run([spec_of(needs_one)], "Not run: time")
    assert (result.score, result.max_score, result.message) == (0, 2, "Not run: time")


def test_expect_close_says_where_and_by_how_much():
    with pytest.raises(CheckFailed, match=r"at index \(1,\): expected 2, got 2\.5 \(off by 0\.5"):
        expect_close([1.0, 2.5], [1.0, 2.0], what="y")
    with pytest.raises(CheckFailed, match="shape"):
        expect_close([1.0], [1.0, 2.0])
    expect_close([1.0, 2.0 + 1e-12], [1.0, 2.0])


def test_load_checks_refuses_duplicates_and_import_errors(tmp_path):
    (tmp_path / "a.py").write_text("from gradeflow_graders import check\n@check(points=1, name='x')\ndef a(s, r): pass\n"
                                   "@check(points=1, name='x')\ndef b(s, r): pass\n")
    with pytest.raises(ChecksError, match="share a name"):
        load_checks(tmp_path)
    (tmp_path / "a.py").write_text("import not_a_module_anywhere\n")
    with pytest.raises(ChecksError, match="failed to import"):
        load_checks(tmp_path)
    with pytest.raises(ChecksError, match="no check modules"):
        load_checks(tmp_path / "empty")


@check(points=3, name="verdict")
def with_verdict(student, rng):
    from gradeflow_graders import Verdict

    return Verdict(1 / 3, "q1 results:\n    q1 - 2 result: failed")


def test_a_verdict_gives_partial_credit_and_a_message():
    result = grade(with_verdict)[0]
    assert (result.score, result.passed, result.message) == (1.0, False, "q1 results:\n    q1 - 2 result: failed")
