"""A student handle that runs the kernel-side helpers in this process (a dict as the kernel's globals), recording
everything sent in, plus otter material written for the tests."""
from __future__ import annotations

from textwrap import dedent

from gradeflow_graders.api import Ref


class InProcessStudent:
    def __init__(self, code: str = ""):
        self.globals: dict = {}
        exec(dedent(code), self.globals)  # noqa: S102 - the fake kernel runs the test's own student code
        self.sent: list = []
        self._refs = 0

    def define(self, expression: str) -> Ref:
        self._refs += 1
        name = f"_gf_ref_{self._refs}"
        self.globals[name] = eval(expression, self.globals)
        return Ref(name)

    def call(self, function, *args):
        self.sent.append(args)
        return self.globals[function.name](*args)


OK_Q1 = '''test = {
    "name": "q1",
    "points": 3,
    "suites": [{"cases": [
        {"code": ">>> square(3)\\n9", "hidden": False, "locked": False},
        {"code": ">>> square(-4)\\n16", "hidden": True, "locked": False},
        {"code": ">>> print(square(2))\\n4\\n>>> [square(i) for i in range(3)]\\n[0, 1, 4]", "hidden": False},
    ], "scored": True, "setup": "", "teardown": "", "type": "doctest"}],
}
'''

EXCEPTION_Q2 = '''from otter.test_files import test_case

OK_FORMAT = False
name = "q2"
points = 4


@test_case(points=1, hidden=False)
def test_positive(cube):
    assert cube(2) == 8, "cube(2) should be 8"


@test_case(points=3, hidden=True)
def test_negative(env):
    assert env["cube"](-2) == -8
'''
