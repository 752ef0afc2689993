"""Course material in otter-grader's formats, written for the equivalence tests: a master notebook (OK-format
tests from `otter assign`), an exception-based test folder, and student submissions that pass, lose hidden and
public cases, crash, and loop forever."""
from __future__ import annotations

import json
from pathlib import Path


def code(source: str, output: str | None = None) -> dict:
    outputs = [] if output is None else [
        {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": output}}]
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": outputs, "source": source}


def raw(source: str) -> dict:
    return {"cell_type": "raw", "metadata": {}, "source": source}


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def notebook(cells: list[dict]) -> dict:
    return {"nbformat": 4, "nbformat_minor": 4, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "otter": {"assignment_name": "hw"}}}  # otter run refuses a notebook of another assignment


def write(path: Path, cells: list[dict]) -> Path:
    path.write_text(json.dumps(notebook(cells), indent=1))
    return path


def question(name: str, config: str, solution: str, tests: list[tuple[str, str]]) -> list[dict]:
    cells = [raw(f"# BEGIN QUESTION\nname: {name}\n{config}"), markdown(f"Question {name}."),
             raw("# BEGIN SOLUTION"), code(solution), raw("# END SOLUTION"), raw("# BEGIN TESTS")]
    cells += [code(source, output) for source, output in tests]
    return cells + [raw("# END TESTS"), raw("# END QUESTION")]


ANSWERS = {
    "q1": "def square(x):\n    return x * x  # SOLUTION",
    "q2": "def add_all(values):\n    total = 0  # SOLUTION\n    for v in values:  # SOLUTION\n        total += v  # SOLUTION\n"
          "    return total  # SOLUTION\ntotal = add_all([1, 2, 3])  # SOLUTION",
    "q3": "words = ['b', 'c', 'a']  # SOLUTION",
    "q4": "def greet(name):\n    if not name:  # SOLUTION\n        raise ValueError('no name')  # SOLUTION\n"
          "    return f'Hello, {name}!'  # SOLUTION",
}


def master(path: Path) -> Path:
    """Four questions: points split over cases, per-case points as a list, all-or-nothing, printed output and an
    expected exception; every question has a hidden case."""
    cells = [raw("# ASSIGNMENT CONFIG\nname: hw\nexport_cell: false\ngenerate: true\ncheck_all_cell: false\n"),
             markdown("# Homework")]
    cells += question("q1", "points: 2", ANSWERS["q1"], [("square(3)", "9"), ("# HIDDEN\nsquare(-4)", "16")])
    cells += question("q2", "points: [1, 2]", ANSWERS["q2"], [("total", "6"), ("# HIDDEN\nadd_all([])", "0")])
    cells += question("q3", "points: 2\nall_or_nothing: true", ANSWERS["q3"],
                      [("len(words)", "3"), ("# HIDDEN\nsorted(words)", "['a', 'b', 'c']")])
    cells += question("q4", "points: 3", ANSWERS["q4"], [
        ("print(greet('Ada'))", None), ("# HIDDEN\ntry:\n    greet('')\nexcept ValueError as e:\n    print(e)", None)])
    # printed outputs are cell outputs of stream type
    for cell in cells:
        if cell["cell_type"] == "code" and cell["source"] == "print(greet('Ada'))":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "Hello, Ada!\n"}]
        if cell["cell_type"] == "code" and cell["source"].startswith("# HIDDEN\ntry:"):
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "no name\n"}]
    return write(path, cells)


def submission(answers: dict[str, str], *, extra: dict[str, str] | None = None) -> list[dict]:
    """A student notebook as otter's student version looks once answered: init cell, answers, check cells."""
    cells = [code('# Initialize Otter\nimport otter\ngrader = otter.Notebook("hw.ipynb")')]
    for name in ("q1", "q2", "q3", "q4"):
        cells.append(code(answers[name]))
        if extra and name in extra:
            cells.append(code(extra[name]))
        cells.append(code(f'grader.check("{name}")'))
    return cells


RIGHT = {k: v.replace("  # SOLUTION", "") for k, v in ANSWERS.items()}
SUBMISSIONS = {
    "full": submission(RIGHT),
    # hidden case of q1 wrong (1 of 2), q2 hidden wrong (1 of 3), q3 all-or-nothing lost, q4 public wrong
    "partial": submission(RIGHT | {
        "q1": "def square(x):\n    return x * abs(x)",
        "q2": "def add_all(values):\n    return sum(values) if values else None\ntotal = add_all([1, 2, 3])",
        "q3": "words = ['b', 'c', 'd']",
        "q4": "def greet(name):\n    if not name:\n        raise ValueError('no name')\n    return f'Hi, {name}!'"}),
    # a crash mid-notebook: q1's cell raises before square exists; the rest still runs (as in otter)
    "crash": submission(RIGHT | {"q1": "raise RuntimeError('oops')\ndef square(x):\n    return x * x"}),
}
# an infinite loop after q2: otter run never finishes; gradeflow stops at the cell limit and grades the state
# before the loop, which is what otter gives the notebook cut just before that cell
LOOP = submission(RIGHT, extra={"q2": "while True:\n    pass"})
LOOP_CUT = LOOP[:LOOP.index(code("while True:\n    pass"))]

EXCEPTION_TESTS = {
    "q1.py": '''from otter.test_files import test_case

OK_FORMAT = False
name = "q1"
points = 3


@test_case(points=1)
def test_small(square):
    assert square(3) == 9, "square(3) should be 9"


@test_case(points=2, hidden=True)
def test_negative(square):
    assert square(-4) == 16
''',
    "q2.py": '''from otter.test_files import test_case

OK_FORMAT = False
name = "q2"
all_or_nothing = True


@test_case(points=1)
def test_total(env):
    assert env["total"] == 6


@test_case(points=1, hidden=True)
def test_empty(add_all):
    assert add_all([]) == 0
''',
}


def exception_folder(folder: Path) -> Path:
    (folder / "tests").mkdir(parents=True)
    for name, text in EXCEPTION_TESTS.items():
        (folder / "tests" / name).write_text(text)
    write(folder / "hw.ipynb", [code("import otter\ngrader = otter.Notebook()"), code("def square(x):\n    ..."),
                                code("total = ...")])
    return folder


EXCEPTION_SUBMISSIONS = {
    "full": [code(RIGHT["q1"]), code(RIGHT["q2"])],
    "partial": [code("def square(x):\n    return x * abs(x)"),
                code("def add_all(values):\n    return sum(values) if values else None\ntotal = add_all([1, 2, 3])")],
    "crash": [code("import nothing_here_at_all\ndef square(x):\n    return x * x"), code(RIGHT["q2"])],
}
