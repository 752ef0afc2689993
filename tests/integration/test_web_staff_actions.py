"""A TA's work in a real browser through the real stack: the actions on a graded submission (regrade it, a manual
score, previous / next, the student's other work), the log without the kernel's banner, the staff numbers on the
course page, the gradebook on a phone (a sticky student column and a cue that the table scrolls), and the current
page marked in the navigation."""
from __future__ import annotations

import pytest

from tests.integration.test_web import GRADED, GRADING_TIMEOUT_MS, browser, context, page, sign_in  # noqa: F401
from tests.integration.test_web_a11y import AUDIT

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]
WRONG = b"def theta_method(f, y0, t0, t1, n, theta):\n    return [y0] * (n + 1)\n"


def attempt(view) -> str:
    return view.inner_text("#status .staff .facts div:has(dt:text-is('Attempt')) dd").strip()


def test_a_ta_acts_on_a_graded_submission_and_regrades_it(page, stack):  # noqa: F811
    older, middle, newer = (stack.grade(f"try{n}.py", WRONG, username="student2")["id"] for n in range(3))
    sign_in(page, "ta1")
    page.goto(f"/submissions/{middle}")
    page.wait_for_selector(GRADED)
    desk = page.locator("#desk")
    assert desk.locator("a[rel=prev]").get_attribute("href") == f"/submissions/{newer}"
    assert desk.locator("a[rel=next]").get_attribute("href") == f"/submissions/{older}"
    others = page.locator("#other-submissions a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert f"/submissions/{older}" in others and f"/submissions/{newer}" in others
    assert f"/submissions/{middle}" not in others
    assert desk.locator("#manual-score summary").is_visible()
    desk.locator("#manual-score summary").click()
    assert page.locator("#desk-score").is_visible() and page.locator("#desk-reason").is_visible()
    log = page.inner_text("[data-log]")
    assert "--- sandbox log ---" in log and "Ctrl-C will not work" not in log and "--existing" not in log
    assert attempt(page) == "1"
    with page.expect_navigation():
        desk.locator("button:has-text('Regrade this submission')").click()
    assert "graded again" in page.inner_text("#regrade-notice")
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)  # the page updates by itself
    assert attempt(page) == "2"
    assert "Ctrl-C will not work" not in page.inner_text("[data-log]")
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#manual-score summary")  # (a closed <details> keeps boxes but no text: the audit would misread it)
    assert page.evaluate(AUDIT) == []  # fits a phone, every control named


def test_the_staff_course_page_shows_the_courses_numbers(page, stack):  # noqa: F811
    stack.grade("solution.py", WRONG, username="student1")
    sign_in(page, "ta1")
    page.goto("/courses/1")
    assert "your score" not in page.inner_text("main").lower()
    headers = [h.lower() for h in page.locator("#course-stats thead th").all_inner_texts()]
    assert headers[2:] == ["submitted", "graded", "failing", "late", "mean score"]
    row = page.locator("#course-stats tbody tr", has_text="theta method").first
    submitted = row.locator("td[data-label=Submitted]").inner_text()
    assert " of " in submitted and "students" in submitted and not submitted.startswith("0 ")


def test_the_gradebook_on_a_phone_keeps_the_student_column_and_says_it_scrolls(browser, stack):  # noqa: F811
    from playwright.sync_api import expect

    phone = browser.new_context(base_url=stack.base_url, viewport={"width": 390, "height": 844})
    small = phone.new_page()
    sign_in(small, "ta1")
    small.goto("/courses/1/gradebook")
    wrap = small.locator("#gradebook").locator("xpath=..")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")  # the table overflows at this width
    student = small.locator("#gradebook tbody th[scope=row]").first
    assert student.evaluate("el => getComputedStyle(el).position") == "sticky"
    assert small.locator("text=Scroll sideways for more columns").is_visible()
    wrap.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    left = wrap.evaluate("el => el.getBoundingClientRect().left")
    assert abs(student.evaluate("el => el.getBoundingClientRect().left") - left) < 2  # still in view
    assert small.evaluate(AUDIT) == []  # the page itself does not scroll sideways, only the table
    small.goto("/courses/1")
    assert small.evaluate(AUDIT) == []
    small.goto("/courses/1/gradebook")
    small.set_viewport_size({"width": 1600, "height": 900})
    small.reload()
    if not wrap.evaluate("el => el.scrollWidth > el.clientWidth"):  # wide enough for every column: no cue
        expect(small.locator("text=Scroll sideways for more columns")).to_be_hidden()
    phone.close()


def test_the_current_page_is_marked_in_the_navigation(page, stack):  # noqa: F811
    sign_in(page, "ta1")
    page.goto("/courses/1/gradebook")
    current = page.locator("header a[aria-current=page]")
    assert current.count() == 1 and current.inner_text() == "Gradebook"
    underline = "el => getComputedStyle(el).textDecorationLine"
    assert current.evaluate(underline) == "underline"
    assert page.locator("header a:has-text('Queue')").evaluate(underline) != "underline"
