"""Keyboard-only use and phone widths, in a real browser through the real stack (issue: "readable on a
phone, keyboard-accessible"): a student signs in and submits without a mouse; every main page fits a
375 px screen, labels every control, gives every image a text and shows where the focus is."""
from __future__ import annotations

import pytest

from tests.integration.test_spine import reference_script
from tests.integration.test_web import (GRADED, GRADING_TIMEOUT_MS, browser, context, page, sign_in)  # noqa: F401
from tests.stack import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]

AUDIT = """() => {
  const problems = [];
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const root = document.documentElement;  // clientWidth: the layout viewport (a phone zooms out, innerWidth grows)
  if (root.scrollWidth > root.clientWidth + 1)
    problems.push(`page is ${root.scrollWidth}px wide on a ${root.clientWidth}px screen`);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const named = el.labels.length > 0 || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name || el.id}`);
  }
  for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) problems.push(`img without alt`);
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (visible(el) && !(el.innerText.trim() || el.getAttribute('aria-label') || el.title))
      problems.push(`${el.tagName.toLowerCase()} without a name`);
  }
  if (document.querySelectorAll('h1').length !== 1) problems.push(`${document.querySelectorAll('h1').length} h1`);
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  return problems;
}"""

FOCUS_RING = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  return {tag: el.tagName, ring: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                                  || style.boxShadow !== 'none'};
}"""


def tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching selector has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus with Tab")


def test_a_student_signs_in_and_submits_with_the_keyboard_only(page, stack):
    page.goto("/login")
    tab_to(page, "#username")
    page.keyboard.type("student2")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assignment = stack.assignment_id()
    page.goto(f"/assignments/{assignment}")
    tab_to(page, "#file")
    assert page.evaluate(FOCUS_RING)["ring"], "the focused file field shows no focus ring"
    choosers = []
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    page.wait_for_timeout(200)  # Playwright turns on its file-chooser interception asynchronously after `on`
    for _ in range(3):  # a Space pressed before the interception took hold opens nothing Playwright sees
        page.keyboard.press("Space")
        try:
            page.wait_for_event("filechooser", timeout=5000) if not choosers else None
        except Exception:  # noqa: BLE001 - no chooser yet: press again
            pass
        if choosers:
            break
    assert choosers, "Space on the focused file field opened no file chooser"
    choosers[0].set_files(files=[{"name": "solution.py", "mimeType": "text/x-python", "buffer": reference_script()}])
    tab_to(page, "#upload button[type=submit]")
    if page.locator("#upload[data-confirm-replace]").count():  # it asks first, the focus on "Send it anyway"
        page.keyboard.press("Enter")
        page.locator("[data-confirm-panel]").wait_for(state="visible")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/submissions/" in page.url, page.inner_text("main")
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    assert page.locator("[data-score]").inner_text() == "Score: 10 / 10"


@pytest.mark.parametrize("user, paths", [
    ("student1", ["/", "/courses/1", "/assignments/{a}", "/history"]),
    ("ta1", ["/courses/1/queue", "/courses/1/submissions", "/assignments/{a}/versions", "/assignments/{a}/overrides",
             "/courses/1/publish", "/courses/1/gradebook"]),
    ("prof", ["/courses/1/roster", "/assignments/{a}/policy"]),
])
def test_main_pages_fit_a_phone_and_name_every_control(browser, stack, user, paths):  # noqa: F811
    phone = browser.new_context(base_url=stack.base_url, viewport={"width": 375, "height": 740}, is_mobile=True)
    tab = phone.new_page()
    try:
        tab.goto("/login")
        assert tab.evaluate(AUDIT) == [], "/login"
        tab.evaluate("() => { const i = document.createElement('input'); i.name = 'probe'; document.body.append(i);"
                     " const wide = document.createElement('div'); wide.style.minWidth = '900px';"
                     " wide.textContent = 'wide'; document.body.append(wide); }")
        found = tab.evaluate(AUDIT)  # the audit itself sees what it looks for
        assert "unlabelled input probe" in found and any("px wide on a 375px screen" in p for p in found), found
        sign_in(tab, user)
        for path in paths:
            tab.goto(path.format(a=stack.assignment_id()))
            assert tab.evaluate(AUDIT) == [], path
            tab.keyboard.press("Tab")
            focus = tab.evaluate(FOCUS_RING)
            assert focus["ring"], (path, focus)  # the first Tab lands somewhere visible
    finally:
        phone.close()
