"""otter-grader test files, graded as otter 7 grades them, one gradeflow check per question.

OK-format files (`test = {"name": ..., "points": ..., "suites": [{"cases": [...]}]}`) are read with
`ast.literal_eval`, never executed here. Each doctest example's *source* is run in the student's kernel (stdout
captured, expression values shown by `sys.__displayhook__`, as doctest does); what it printed comes back as text
and is compared with the expected output here, with doctest's own OutputChecker. Expected outputs never enter the
sandbox.

Exception-based files (functions decorated with `@test_case`) can only run inside the kernel: their source is sent
in after every student cell has run, and only pass/fail and a message come back; points, hidden flags and scoring
are read from the file here (with `ast`) and computed here.

Scoring follows otter.test_files.abstract_test: per-case points resolved from the question's `points` (a total
split over cases without points, or a list), `all_or_nothing`, partial credit otherwise; messages follow
TestFile.summary ("q1 results: All test cases passed!"), with hidden cases' details withheld.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path
from textwrap import dedent
from typing import Any

OK_FORMAT = "ok"
EXCEPTION_FORMAT = "exception"


class OtterTestError(ValueError):
    """A test file gradeflow cannot read, with what to fix."""


@dataclass(frozen=True)
class OtterCase:
    name: str
    body: str  # the doctest text (OK format) or the function's name (exception-based)
    hidden: bool
    points: float | None
    success_message: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class OtterTest:
    name: str
    cases: tuple[OtterCase, ...]
    all_or_nothing: bool
    format: str
    source: str = ""  # the file's text (exception-based: what is sent into the kernel)

    @property
    def possible(self) -> float:
        return float(sum(c.points or 0 for c in self.cases))

    def score(self, passed: list[bool]) -> float:
        """otter's TestFile.score for these case results."""
        if self.all_or_nothing:
            return self.possible if all(passed) else 0.0
        return float(sum(c.points or 0 for c, ok in zip(self.cases, passed) if ok))


def resolve_points(total: Any, cases: list[OtterCase]) -> list[OtterCase]:
    """otter's TestFile.resolve_test_file_points: each case's points from the question's and the cases' own."""
    if isinstance(total, list):
        if len(total) != len(cases):
            raise OtterTestError("points is a list whose length differs from the number of test cases")
        cases, total = [replace(c, points=p) for c, p in zip(cases, total)], None
    elif total is not None and (isinstance(total, bool) or not isinstance(total, int | float)):
        raise OtterTestError(f"points has invalid type {type(total).__name__}")
    given = [c.points for c in cases]
    pre = sum(p for p in given if p is not None)
    unset = sum(p is None for p in given)
    if total is not None:
        if pre > total:
            raise OtterTestError("more points specified in test cases than allowed for the test")
        rest = (total - pre) / unset if unset else 0.0
    elif pre == 0 and all(p in (0, None) for p in given):
        rest = 1 / unset if unset else 0.0  # only zeros given: the test is worth 1, split over the unset cases
    else:
        rest = 0.0
    return [replace(c, points=float(c.points) if c.points is not None else float(rest)) for c in cases]


# ---------------------------------------------------------------- reading test files (never executing them)

def _literal_assignments(tree: ast.Module) -> dict[str, Any]:
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return values


def detect_format(source: str) -> str | None:
    """'ok', 'exception', or None for a file that is neither."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if isinstance(_literal_assignments(tree).get("test"), dict):
        return OK_FORMAT
    if any(_test_case_decorator(node) is not None for node in tree.body):
        return EXCEPTION_FORMAT
    return None


def read_test_file(path: Path) -> OtterTest:
    source = path.read_text("utf-8")
    kind = detect_format(source)
    if kind == OK_FORMAT:
        return ok_test_from_spec(_literal_assignments(ast.parse(source))["test"], where=path.name)
    if kind == EXCEPTION_FORMAT:
        return exception_test_from_source(source, where=path.name)
    raise OtterTestError(f"{path.name}: neither an OK-format test (test = {{...}}) nor an exception-based one "
                         f"(@test_case functions)")


def ok_test_from_spec(spec: Any, *, where: str) -> OtterTest:
    """An OK-format `test` dict, checked as otter's OKTestFile.from_spec checks it."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise OtterTestError(f"{where}: the test has no name")
    suites = spec.get("suites")
    if not isinstance(suites, list) or len(suites) != 1 or not isinstance(suites[0], dict):
        raise OtterTestError(f"{where}: otter supports exactly one suite per test file")
    suite = suites[0]
    if suite.get("type", "doctest") != "doctest" or suite.get("setup") or suite.get("teardown"):
        raise OtterTestError(f"{where}: only doctest suites without setup or teardown are supported (as in otter)")
    cases = []
    for i, case in enumerate(suite.get("cases") or []):
        if not isinstance(case, dict) or not isinstance(case.get("code"), str):
            raise OtterTestError(f"{where}: case {i + 1} has no code")
        cases.append(OtterCase(name=case.get("name", f"{spec['name']} - {i + 1}"), body=dedent(case["code"]),
                               hidden=bool(case.get("hidden", True)), points=case.get("points"),
                               success_message=case.get("success_message"),
                               failure_message=case.get("failure_message")))
    return OtterTest(name=spec["name"], cases=tuple(resolve_points(spec.get("points"), cases)),
                     all_or_nothing=bool(spec.get("all_or_nothing", False)), format=OK_FORMAT)


def _test_case_decorator(node: ast.stmt) -> ast.Call | None:
    if not isinstance(node, ast.FunctionDef):
        return None
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        func = call.func if call else decorator
        if (isinstance(func, ast.Name) and func.id == "test_case") or (
                isinstance(func, ast.Attribute) and func.attr == "test_case"):
            return call or ast.Call(func=func, args=[], keywords=[])
    return None


def exception_test_from_source(source: str, *, where: str) -> OtterTest:
    """An exception-based test file: `name`, `points`, `all_or_nothing` and each @test_case's keywords, as literals."""
    tree = ast.parse(source)
    values = _literal_assignments(tree)
    if not isinstance(values.get("name"), str):
        raise OtterTestError(f"{where}: an exception-based test file must define name = '...'")
    cases = []
    for node in tree.body:
        call = _test_case_decorator(node)
        if call is None:
            continue
        try:
            options = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        except ValueError:
            raise OtterTestError(f"{where}: @test_case arguments of {node.name} must be literals") from None
        cases.append(OtterCase(name=options.get("name") or f"{values['name']} - {len(cases) + 1}", body=node.name,
                               hidden=bool(options.get("hidden", False)), points=options.get("points"),
                               success_message=options.get("success_message"),
                               failure_message=options.get("failure_message")))
    return OtterTest(name=values["name"], cases=tuple(resolve_points(values.get("points"), cases)),
                     all_or_nothing=bool(values.get("all_or_nothing", False)), format=EXCEPTION_FORMAT, source=source)
