"""nbgrader source notebooks written for the equivalence tests, and student submissions: full marks, partial
credit from a test cell's value, a hidden test failed, a crash, an edited test cell, stderr in a test. The two
notebooks are one assignment: each is graded in a fresh kernel (test_fresh fails if one.ipynb's names leak)."""
from __future__ import annotations

import copy
import json
from pathlib import Path


def cell(kind: str, source: str, **nbgrader) -> dict:
    meta = {"nbgrader": {"schema_version": 3, "locked": False, "solution": False, "grade": False, **nbgrader}} \
        if nbgrader else {}
    base = {"cell_type": kind, "metadata": meta, "source": source}
    return base | ({"outputs": [], "execution_count": None} if kind == "code" else {})


def notebook(cells: list[dict]) -> dict:
    return {"nbformat": 4, "nbformat_minor": 4, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


ONE = [
    cell("markdown", "# Part one", grade_id="intro", locked=True),
    cell("code", "import math", grade_id="setup", locked=True),
    cell("code", "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
         grade_id="square", solution=True),
    cell("code", "assert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-4) == 16\n### END HIDDEN TESTS",
         grade_id="test_square", grade=True, locked=True, points=2),
    cell("code", "def mean(values):\n    ### BEGIN SOLUTION\n    return sum(values) / len(values)\n"
                 "    ### END SOLUTION", grade_id="mean", solution=True),
    # partial credit: the cell's value is the score
    cell("code", "score = 0\nscore += 1 if mean([1, 2, 3]) == 2 else 0\nscore += 2 if mean([4]) == 4 else 0\nscore",
         grade_id="test_mean", grade=True, locked=True, points=3),
    cell("markdown", "Explain your answer.\n\n=== BEGIN MARK SCHEME ===\nanything\n=== END MARK SCHEME ===",
         grade_id="explain", solution=True, grade=True, points=2),
]
TWO = [
    cell("code", "LIMIT = 2", grade_id="limits", locked=True),  # a locked cell of the second notebook
    cell("code", "### BEGIN SOLUTION\nwords = ['b', 'a']\n### END SOLUTION", grade_id="words", solution=True),
    cell("code", "assert sorted(words) == ['a', 'b'] and len(words) <= LIMIT", grade_id="test_words", grade=True,
         locked=True, points=1),
    # each notebook runs in a fresh kernel (nbgrader's autograde): nothing of one.ipynb is defined here
    cell("code", "assert 'square' not in globals() and 'math' not in globals()", grade_id="test_fresh", grade=True,
         locked=True, points=1),
    cell("code", "import sys\nprint('careful', file=sys.stderr)\nassert len(words) == 2",
         grade_id="test_stderr", grade=True, locked=True, points=1),
]


def source_folder(root: Path) -> Path:
    folder = root / "ps1"
    folder.mkdir(parents=True)
    (folder / "one.ipynb").write_text(json.dumps(notebook(ONE), indent=1))
    (folder / "two.ipynb").write_text(json.dumps(notebook(TWO), indent=1))
    return folder


def answered(student: dict, answers: dict[str, str], edits: dict[str, str] | None = None) -> dict:
    """The student version with answer cells (by grade_id) filled in and, optionally, test cells edited."""
    filled = copy.deepcopy(student)
    for c in filled["cells"]:
        grade_id = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            c["source"] = answers[grade_id]
        if edits and grade_id in edits:
            c["source"] = edits[grade_id]
    return filled


SQUARE = "def square(x):\n    return x * x"
MEAN = "def mean(values):\n    return sum(values) / len(values)"
SUBMISSIONS_ONE = {
    "full": ({"square": SQUARE, "mean": MEAN}, None),
    "hidden-fails": ({"square": "def square(x):\n    return x * abs(x)", "mean": MEAN}, None),
    "partial": ({"square": SQUARE, "mean": "def mean(values):\n    return values[0]"}, None),
    "crash": ({"square": "raise RuntimeError('oops')", "mean": MEAN}, None),
    # a student who replaces the test cell with `pass` and breaks square: nbgrader restores the cell
    "edited-test": ({"square": "def square(x):\n    return 0", "mean": MEAN}, {"test_square": "pass"}),
    # a locked setup cell edited (math undone); nbgrader restores it, so square's use of math works again
    "edited-locked": ({"square": "def square(x):\n    return int(math.pow(x, 2))", "mean": MEAN}, {"setup": "math = None"}),
    "unanswered": ({}, None),
}
SUBMISSIONS_TWO = {
    "full": ({"words": "words = ['b', 'a']"}, None),
    "wrong": ({"words": "words = ['c']"}, None),
    # the locked LIMIT cell raised by the student; restored by both, so three words fail
    "edited-locked": ({"words": "words = ['b', 'a', 'c']"}, {"limits": "LIMIT = 5"}),
}
