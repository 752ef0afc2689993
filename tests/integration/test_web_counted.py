"""Which submission counts, in a real browser through the real stack (issue 9, points 1 and 5): the rule said on
the assignment page, a warning (and an in-page confirmation) before an upload replaces a full score, the counted
submission marked in every list, a student choosing the one that counts under policy `chosen` and the course page
and gradebook following; the title and a short spoken sentence when grading ends.

This module runs its own stack (its own database and Redis database) so the policies it sets never reach the
assignment the other browser tests share."""
from __future__ import annotations

import shutil

import httpx
import pytest

from tests.conftest import require
from tests.integration.test_web import (  # noqa: F401
    GRADED,
    GRADING_TIMEOUT_MS,
    ODE,
    browser,
    context,
    page,
    sign_in,
    upload,
)
from tests.integration.test_web_a11y import AUDIT
from tests.stack import start_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]
BROKEN = b"import numpy as np\n\n\ndef theta_method(f, y0, t0, t1, n, theta):\n    return None\n"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_stack(tmp_path_factory.mktemp("counted"), redis_url=redis_url.rsplit("/", 1)[0] + "/11")
    yield stack
    stack.stop()


def counted_ids(tab) -> list[int]:
    """The submission ids whose row in the tab's list carries the 'counts' mark."""
    return [int(row.locator("td[data-label='#'] a").inner_text())
            for row in tab.locator("tbody tr", has=tab.locator(".badge.counted")).all()]


def set_policy(stack, aid: int, body: dict) -> None:
    r = httpx.put(f"{stack.base_url}/api/v1/assignments/{aid}/policy", json=body, headers=stack.headers("prof"))
    assert r.status_code == 200, r.text


def test_an_upload_that_would_replace_a_full_score_warns_and_the_counted_one_is_marked(page, stack):  # noqa: F811
    aid = stack.assignment_id()
    sign_in(page, "student1")
    first = upload(page, aid, ODE / "solution.ipynb")
    assert page.locator("#live[aria-live]").count() == 0  # the re-rendered block is not a live region
    assert page.get_attribute("#status-said", "aria-live") == "polite"
    spoken = page.evaluate_handle("""() => { const said = [], el = document.getElementById('status-said');
        new MutationObserver(() => said.push(el.textContent)).observe(el, {childList: true, characterData: true,
        subtree: true}); return said; }""")
    status = page.get_attribute("#status", "data-status")
    assert status in ("queued", "running"), status
    assert page.locator("[data-live-note]").first.is_visible()  # JavaScript runs: the page does update itself
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    page.wait_for_function("document.title.startsWith('Graded 10/10 · Submission')")
    page.wait_for_function("document.getElementById('status-said').textContent.includes('10 out of 10')")
    said = spoken.json_value()
    assert said[-1] == "Graded. Score: 10 out of 10." and len(said) == len(set(said)), said  # each change once
    page.wait_for_function("document.querySelector('[data-counted-note]').textContent"
                           " === 'This is the submission that counts.'")  # fetched again with the verdict

    page.goto(f"/assignments/{aid}")
    assert page.inner_text("#counted-rule") == "Your last graded submission counts."
    assert "Uploading replaces your counted score of 10 / 10 even if the new one is lower." in \
        page.inner_text("#replace-warning")
    assert counted_ids(page) == [first]
    page.set_input_files("#file", files=[{"name": "broken.py", "mimeType": "text/x-python", "buffer": BROKEN}])
    page.click("#upload button[type=submit]")
    panel = page.locator("[data-confirm-panel]")
    panel.wait_for(state="visible")  # asked in the page, not sent yet
    assert "/assignments/" in page.url and page.dialogs == []  # never window.confirm
    page.click("[data-confirm-no]")
    assert panel.is_hidden() and "/assignments/" in page.url
    page.click("#upload button[type=submit]")
    with page.expect_navigation():
        page.click("[data-confirm-yes]")
    second = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    low = page.get_attribute("#status", "data-score-text")
    assert low != "10/10", low

    page.goto("/history")
    assert counted_ids(page) == [second]  # the policy is `last`: the broken one counts, and the page says so
    page.goto(f"/submissions/{first}")
    assert page.inner_text("[data-counted-note]").startswith(f"Not counted: your submission #{second} counts.")
    assert page.console_errors == []


def test_a_student_chooses_which_submission_counts_and_the_gradebook_follows(page, stack, browser):  # noqa: F811
    aid = stack.assignment_id()
    try:
        sign_in(page, "prof")
        page.goto(f"/assignments/{aid}/policy")
        page.select_option("#counted", "chosen")
        with page.expect_navigation():
            page.click("#policy-form button[type=submit]")
        assert "Saved." in page.inner_text("main")
        assert page.input_value("#counted") == "chosen"

        good = stack.grade("solution.ipynb", (ODE / "solution.ipynb").read_bytes(), username="student2")
        broken = stack.grade("broken.py", BROKEN, username="student2")
        assert good["score"] == 10 and broken["score"] < 10
        student = browser.new_context(base_url=stack.base_url).new_page()
        sign_in(student, "student2")
        student.goto(f"/assignments/{aid}")
        assert "The submission you choose counts; until you choose, your last graded one." in \
            student.inner_text("#counted-rule")
        assert counted_ids(student) == [broken["id"]]  # nothing chosen yet: the last graded one
        student.goto(f"/submissions/{good['id']}")
        assert student.inner_text("[data-counted-note]").startswith(f"Not counted: your submission #{broken['id']}")
        with student.expect_navigation():
            student.click("#pick-form button[type=submit]")
        assert student.inner_text("[data-counted-note]") == "This is the submission that counts."
        student.goto("/history")
        assert counted_ids(student) == [good["id"]]
        student.goto("/courses/1")
        row = student.locator("table.assignments tr", has_text="theta method")
        assert "10 / 10" in row.inner_text()
        student.context.close()

        page.goto("/courses/1/gradebook")
        assert "10" in page.locator("#gradebook tr", has_text="student2").inner_text()
        body = httpx.get(f"{stack.base_url}/api/v1/courses/mathdl/gradebook", headers=stack.headers("prof")).json()
        cell = next(r for r in body["rows"] if r["username"] == "student2")["cells"]["ode-theta"]
        assert (cell["submission_id"], cell["final"]) == (good["id"], 10)
    finally:
        set_policy(stack, aid, {})


def test_the_warning_confirmation_and_counted_marks_fit_a_phone(browser, stack):  # noqa: F811
    full = stack.grade("solution.ipynb", (ODE / "solution.ipynb").read_bytes(), username="student1")
    assert full["score"] == 10  # the last graded one: a new upload would replace it
    phone = browser.new_context(base_url=stack.base_url, viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = phone.new_page()
    try:
        sign_in(tab, "student1")
        tab.goto(f"/assignments/{stack.assignment_id()}")
        assert tab.locator("#replace-warning").is_visible()
        tab.set_input_files("#file", files=[{"name": "broken.py", "mimeType": "text/x-python", "buffer": BROKEN}])
        tab.click("#upload button[type=submit]")
        tab.locator("[data-confirm-panel]").wait_for(state="visible")
        assert tab.evaluate(AUDIT) == [], "assignment page, asking to confirm"
        for path in (f"/submissions/{full['id']}", "/history"):
            tab.goto(path)
            assert tab.locator(".badge.counted, [data-counted-note]").first.is_visible(), path
            assert tab.evaluate(AUDIT) == [], path
    finally:
        phone.close()
