"""Grading otter test files through the student handle: one check per question (see otter_tests for the rules).

A generated checks module declares one @check per question, each calling grade_test on its test file.
"""
from __future__ import annotations

import doctest
from pathlib import Path
from textwrap import indent

from gradeflow_graders.api import (
    Ref,
    StudentError,
    StudentTimeout,
    StudentValueError,
    Verdict,
)
from gradeflow_graders.otter_tests import (
    EXCEPTION_FORMAT,
    OtterTest,
    OtterTestError,
    read_test_file,
)

# Runs one doctest example's source in the student's globals as doctest does (compile 'single', the plain
# displayhook, stdout captured, any exception caught) and returns what was printed and the exception's last line.
DOCTEST_RUNNER = '''
import sys as _sys, io as _io, traceback as _tb
def _gf_example(source):
    out, err = _io.StringIO(), _io.StringIO()
    saved = _sys.stdout, _sys.stderr, _sys.displayhook
    _sys.stdout, _sys.stderr, _sys.displayhook = out, err, _sys.__displayhook__
    exc = None
    try:
        exec(compile(source, "<doctest>", "single", 0, True), _G)
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        exc = _tb.format_exception_only(type(e), e)[-1]
    finally:
        _sys.stdout, _sys.stderr, _sys.displayhook = saved
    return {"out": out.getvalue(), "exc": exc}
'''

# Runs an exception-based test file's cases against the student's globals, as otter's ExceptionTestFile.run does;
# `from otter.test_files import test_case` resolves to a stand-in for the duration.
EXCEPTION_RUNNER = '''
import sys as _sys, types as _types, inspect as _inspect, traceback as _tb
class test_case:
    def __init__(self, name=None, points=None, hidden=False, success_message=None, failure_message=None):
        self.name, self.func = name, None
    def __call__(self, func):
        self.func = func
        return self
def _gf_exception_tests(source, name):
    shim = _types.ModuleType("otter.test_files")
    shim.test_case = test_case
    saved = {k: _sys.modules.get(k) for k in ("otter", "otter.test_files")}
    _sys.modules["otter.test_files"] = shim
    if saved["otter"] is None:
        _sys.modules["otter"] = _types.ModuleType("otter")
    env = {}
    try:
        exec(compile(source, "<test " + name + ">", "exec"), env)
    finally:
        for k, v in saved.items():
            if v is None:
                _sys.modules.pop(k, None)
            else:
                _sys.modules[k] = v
    results, lines = [], source.split("\\n")
    for case in [v for v in env.values() if isinstance(v, test_case)]:
        params = list(_inspect.signature(case.func).parameters)
        try:
            case.func(**{p: (_G if p == "env" else _G.get(p)) for p in params})
            results.append([True, ""])
        except Exception as e:
            frames = [f for f in _tb.extract_tb(e.__traceback__) if f.filename == "<test " + name + ">"]
            at = frames[-1].lineno if frames else 0
            line = lines[at - 1] if 0 < at <= len(lines) else ""
            message = "Error at line %d in test %s:\\n  %s\\n%s: %s" % (at, name, line, type(e).__name__, str(e).strip("'"))
            results.append([False, message])
    return results
'''


def _helper(student, source: str, name: str) -> Ref:
    """Define a helper in a private namespace of the kernel whose _G is the student's globals."""
    return student.define(f"(lambda ns: (exec({source!r}, ns), ns[{name!r}])[1])({{'_G': globals()}})")


def _doctest_output(out: str) -> str:
    return out if not out or out.endswith("\n") else out + "\n"  # doctest's _SpoofOut adds a final newline


def run_doctest_case(student, runner: Ref, body: str, name: str) -> tuple[bool, str]:
    """One OK case: every example run in the kernel, compared here as doctest compares; (passed, report)."""
    checker, failures = doctest.OutputChecker(), []
    for example in doctest.DocTestParser().parse(body, name):
        if not isinstance(example, doctest.Example):
            continue
        reply = student.call(runner, example.source)
        if not isinstance(reply, dict):
            raise StudentValueError("the doctest runner was replaced by the student's code")
        got, exc = _doctest_output(str(reply.get("out", ""))), reply.get("exc")
        flags = sum(flag for flag, on in example.options.items() if on)
        if exc is None:
            ok = checker.check_output(example.want, got, flags)
            detail = f"Expected:\n{_shown(example.want)}Got:\n{_shown(got)}"
        else:
            ok = example.exc_msg is not None and checker.check_output(example.exc_msg, str(exc), flags)
            detail = f"Exception raised:\n{indent(str(exc), '    ')}"
        if not ok:
            failures.append(f"Failed example:\n{indent(example.source, '    ')}{detail}")
    return not failures, "\n".join(failures)


def _shown(text: str) -> str:
    """doctest's way of showing an expected or actual output."""
    return indent(text, "    ") if text else "    Nothing\n"


def _case_message(passed: bool, report: str) -> str:
    return "✅ Test case passed" if passed else "❌ Test case failed\n" + report


def summary(test: OtterTest, results: list[tuple[bool, str]]) -> str:
    """otter's TestFile.summary, with hidden cases' reports withheld ('hidden test failed')."""
    if all(ok for ok, _ in results):
        lines = [f"{test.name} results: All test cases passed!"]
        lines += [f"{c.name} message: {c.success_message}" for c in test.cases if c.success_message is not None]
        return "\n".join(lines)
    parts = []
    for case, (ok, report) in zip(test.cases, results):
        text = ""
        if ok and case.success_message is not None:
            text += f"{case.name} message: {case.success_message}\n\n"
        if not ok and case.failure_message is not None:
            text += f"{case.name} message: {case.failure_message}\n\n"
        shown = ("✅ Test case passed" if ok else "❌ Hidden test case failed") if case.hidden else report
        text += f"{case.name} result:\n{indent(shown.strip(), '    ')}"
        parts.append(text.strip())
    return f"{test.name} results:\n" + indent("\n\n".join(parts), "    ")


def grade_test(test: OtterTest, student) -> Verdict:
    """Run one question's cases in the kernel and score them here, as otter does."""
    results: list[tuple[bool, str]] = []
    try:
        if test.format == EXCEPTION_FORMAT:
            runner = _helper(student, EXCEPTION_RUNNER, "_gf_exception_tests")
            replies = student.call(runner, test.source, test.name)
            if not isinstance(replies, list) or len(replies) != len(test.cases):
                raise StudentValueError("the in-kernel tests did not report one result per test case")
            results = [(bool(ok), _case_message(bool(ok), str(msg))) for ok, msg in replies]
        else:
            runner = _helper(student, DOCTEST_RUNNER, "_gf_example")
            for case in test.cases:
                ok, report = run_doctest_case(student, runner, case.body, case.name)
                results.append((ok, _case_message(ok, report)))
    except StudentTimeout as exc:  # the rest of the cases cannot run: they fail, as a hung test would in otter
        results += [(False, f"❌ Test case failed\nTimed out: {exc}")] * (len(test.cases) - len(results))
    except (StudentError, StudentValueError) as exc:
        results += [(False, f"❌ Test case failed\n{exc}")] * (len(test.cases) - len(results))
    passed = [ok for ok, _ in results]
    fraction = test.score(passed) / test.possible if test.possible else 1.0
    return Verdict(min(max(fraction, 0.0), 1.0), summary(test, results)[:2000])


def load_test(path: Path, *, points: float) -> OtterTest:
    """A generated checks module's test file, refused when its points no longer match the check's."""
    test = read_test_file(path)
    if abs(test.possible - points) > 1e-9:
        raise OtterTestError(f"{path.name} is worth {test.possible:g} points but its check says {points:g}; "
                             f"import the assignment again or fix the check's points")
    return test
