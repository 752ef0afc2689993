"""What a student sees when their code fails (issue 9, point 2), in a real browser through the real stack: the
failure said once, at the top, in the terms of their own file (its name and line, never the kernel's temporary
file or a "cell" of a script), its traceback open, and the checks that failed only because of it in one line."""
from __future__ import annotations

import re

import pytest

from tests.integration.test_web import (GRADED, GRADING_TIMEOUT_MS, ODE, browser, context, page,  # noqa: F401
                                        sign_in, upload)

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]

# A working helper, then the solver with a missing colon on line 7: nothing of the file runs.
SYNTAX_ERROR = b"""import numpy as np


def helper(x):
    return 2 * x

def theta_method(f, y0, t0, t1, n, theta)
    return np.zeros(n + 1)

best_theta = 0.5
"""
TEMPORARY_FILE = re.compile(r"\b\d+\.py\b")


def graded(page, username: str, name: str, data: bytes, stack) -> str:
    """Upload through the page as `username`, wait for the verdict, return the status section's text."""
    sign_in(page, username)
    upload(page, stack.assignment_id(), ODE / "solution.ipynb", name=name, data=data)
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    return page.inner_text("#status")


def test_a_syntax_error_is_said_once_at_the_top_in_the_students_own_terms(page, stack):
    text = graded(page, "student2", "my_theta.py", SYNTAX_ERROR, stack)
    failure = page.locator("[data-failure]")
    assert failure.count() == 1
    summary = failure.locator("[data-failure-summary]").inner_text()
    assert "syntax error" in summary.lower() and "my_theta.py" in summary and "line 7" in summary, summary
    # at the top: before the score and the checks
    order = page.evaluate("""() => { const all = [...document.querySelectorAll('#status [data-failure], '
        + '#status [data-score], #status .checks')]; return all.map(e => e.matches('[data-failure]') ? 'failure'
        : e.matches('[data-score]') ? 'score' : 'checks'); }""")
    assert order[0] == "failure", order
    # the traceback is shown open, in the student's terms
    traceback = failure.locator("pre.traceback")
    assert traceback.is_visible() and "SyntaxError" in traceback.inner_text()
    assert "my_theta.py" in traceback.inner_text()
    # said once: no temporary file name, no "cell" in a script, no wall of identical NameErrors
    assert not TEMPORARY_FILE.search(text), TEMPORARY_FILE.search(text)
    assert not re.search(r"\bcell\b", text, re.IGNORECASE), text
    assert text.count("SyntaxError") == 1 and text.lower().count("syntax error") == 1, text
    assert page.locator(".check.fail:visible").count() == 0
    blocked = page.locator("details.blocked")
    assert blocked.count() == 1 and not blocked.get_attribute("open")
    line = blocked.locator("summary").inner_text()
    assert re.fullmatch(r"8 checks could not run because your code stopped at line 7\.?", line.strip()), line
    blocked.locator("summary").click()
    assert blocked.locator(".check.fail").count() == 8
    assert page.console_errors == []


def test_an_empty_file_gets_its_own_sentence(page, stack):
    text = graded(page, "student2", "empty.py", b"\n\n", stack)
    summary = page.locator("[data-failure-summary]").inner_text()
    assert "empty.py is empty" in summary, summary
    assert not TEMPORARY_FILE.search(text) and "ran to the end" not in text
    assert "could not run because your file is empty" in page.inner_text("details.blocked summary")


def test_an_import_of_a_missing_module_names_the_module(page, stack):
    text = graded(page, "student1", "imports.py", b"import numpy as np\nimport sklearnx\n\ndef theta_method():\n"
                  b"    pass\n", stack)
    summary = page.locator("[data-failure-summary]").inner_text()
    assert "sklearnx" in summary and "line 2" in summary and "imports.py" in summary, summary
    assert "not available" in summary, summary
    assert not TEMPORARY_FILE.search(text) and "ran to the end" not in text
    assert "because your code stopped at line 2" in page.inner_text("details.blocked summary")
