"""otter's test files graded as otter 7 grades them: points, hidden cases, all-or-nothing, messages; expected
outputs never sent into the kernel."""
import pytest
from gradeflow_graders import StudentTimeout
from gradeflow_graders.otter_run import (
    DOCTEST_RUNNER,
    _helper,
    grade_test,
    load_test,
    run_doctest_case,
)
from gradeflow_graders.otter_tests import (
    OtterCase,
    OtterTestError,
    detect_format,
    exception_test_from_source,
    ok_test_from_spec,
    read_test_file,
    resolve_points,
)

from tests.unit.graders.otter_fakes import EXCEPTION_Q2, OK_Q1, InProcessStudent

RIGHT = "def square(x):\n    return x * x\ndef cube(x):\n    return x ** 3\n"


def cases(*points):
    return [OtterCase(name=f"c{i}", body="", hidden=False, points=p) for i, p in enumerate(points)]


@pytest.mark.parametrize(("total", "given", "resolved"), [
    (3, (None, None, None), [1, 1, 1]),
    (4, (2, None, None), [2, 1, 1]),
    ([1, 2], (None, None), [1, 2]),
    (None, (None, None), [0.5, 0.5]),  # no points anywhere: the test is worth 1
    (None, (2, None), [2, 0]),
])
def test_points_resolve_as_otter_resolves_them(total, given, resolved):
    assert [c.points for c in resolve_points(total, cases(*given))] == resolved


def test_more_case_points_than_the_question_is_refused():
    with pytest.raises(OtterTestError, match="more points"):
        resolve_points(1, cases(2, None))


def test_ok_file_is_read_without_running_it(tmp_path):
    path = tmp_path / "q1.py"
    path.write_text(OK_Q1 + "raise SystemExit('executed')\n")
    test = read_test_file(path)
    assert (test.name, test.possible, [c.hidden for c in test.cases]) == ("q1", 3, [False, True, False])
    assert detect_format(EXCEPTION_Q2) == "exception" and detect_format("x = 1") is None


def q1(tmp_path):
    path = tmp_path / "q1.py"
    path.write_text(OK_Q1)
    return read_test_file(path)


def test_all_passing_gets_full_marks_and_otters_message(tmp_path):
    student = InProcessStudent(RIGHT)
    verdict = grade_test(q1(tmp_path), student)
    assert verdict.fraction == 1.0 and verdict.message == "q1 results: All test cases passed!"
    sent = repr(student.sent)
    assert "16" not in sent and "[0, 1, 4]" not in sent  # expected outputs stay in the harness


def test_a_failing_hidden_case_costs_its_points_and_hides_its_details(tmp_path):
    student = InProcessStudent("def square(x):\n    return x * abs(x)\n")  # wrong for negative x only
    verdict = grade_test(q1(tmp_path), student)
    assert verdict.fraction == pytest.approx(2 / 3)
    assert "q1 - 2 result:\n        ❌ Hidden test case failed" in verdict.message
    assert "-16" not in verdict.message and "Expected" not in verdict.message


def test_public_failure_shows_doctest_report(tmp_path):
    verdict = grade_test(q1(tmp_path), InProcessStudent("def square(x):\n    return x + x\n"))
    assert verdict.fraction == 0  # square(2) == 2 + 2 by luck, but the list in the same case is wrong
    assert "Failed example:\n            [square(i) for i in range(3)]\n        Expected:\n            [0, 1, 4]\n" \
           "        Got:\n            [0, 2, 4]" in verdict.message
    assert "q1 - 1 result:\n        ❌ Test case failed" in verdict.message


def test_all_or_nothing():
    spec = {"name": "q", "points": 2, "all_or_nothing": True,
            "suites": [{"cases": [{"code": ">>> 1 + 1\n2"}, {"code": ">>> x\n5"}]}]}
    assert grade_test(ok_test_from_spec(spec, where="q"), InProcessStudent("x = 4")).fraction == 0
    assert grade_test(ok_test_from_spec(spec, where="q"), InProcessStudent("x = 5")).fraction == 1


def test_exceptions_compare_as_doctest_compares():
    student = InProcessStudent("def f():\n    raise ValueError('bad input')\n")
    runner = _helper(student, DOCTEST_RUNNER, "_gf_example")
    expected = ">>> f()\nTraceback (most recent call last):\n  ...\nValueError: bad input\n"
    assert run_doctest_case(student, runner, expected, "t")[0]
    assert not run_doctest_case(student, runner, ">>> f()\n1\n", "t")[0]
    assert run_doctest_case(student, runner, ">>> x = 3\n>>> x * 2\n6\n", "t")[0]  # state carries over


def test_exception_based_tests_run_in_the_kernel_and_score_here():
    test = exception_test_from_source(EXCEPTION_Q2, where="q2.py")
    assert [c.points for c in test.cases] == [1, 3] and [c.hidden for c in test.cases] == [False, True]
    assert grade_test(test, InProcessStudent(RIGHT)).fraction == 1
    wrong = grade_test(test, InProcessStudent("def cube(x):\n    return abs(x) ** 3\n"))
    assert wrong.fraction == pytest.approx(1 / 4) and "q2 results:" in wrong.message


def test_a_timeout_fails_the_remaining_cases(tmp_path):
    class Slow(InProcessStudent):
        def call(self, function, *args):
            if "square(-4)" in args[0]:
                raise StudentTimeout("did not finish")
            return super().call(function, *args)

    verdict = grade_test(q1(tmp_path), Slow(RIGHT))
    assert verdict.fraction == pytest.approx(1 / 3)


def test_load_test_refuses_changed_points(tmp_path):
    (tmp_path / "q1.py").write_text(OK_Q1)
    assert load_test(tmp_path / "q1.py", points=3).name == "q1"
    with pytest.raises(OtterTestError, match="worth 3 points"):
        load_test(tmp_path / "q1.py", points=2)
