"""Web sessions end for real, in a browser through the real stack: a cookie copied before logout signs nobody in
afterwards, and "sign out everywhere" on one browser ends another browser's session."""
from __future__ import annotations

import pytest

from tests.integration.test_web import browser, context, page, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]
COOKIE = "gradeflow_session"


def fresh_page(browser, stack, cookies=()):  # noqa: F811 (the fixture, passed on)
    other = browser.new_context(base_url=stack.base_url)
    other.set_default_timeout(20_000)
    if cookies:
        other.add_cookies(list(cookies))
    return other, other.new_page()


def session_cookie(context) -> dict:  # noqa: F811 (the fixture, passed on)
    found = [c for c in context.cookies() if c["name"] == COOKIE]
    assert len(found) == 1, found
    return found[0]


def test_a_cookie_copied_before_logout_is_worthless_after_it(browser, context, page, stack):  # noqa: F811
    sign_in(page, "student1")
    copied = session_cookie(context)
    page.goto("/history")
    assert "/login" not in page.url
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")
    other, thief = fresh_page(browser, stack, [copied])
    try:
        thief.goto("/history")
        assert "/login?next=/history" in thief.url  # the copy was ended with the session, not merely forgotten
        assert thief.locator("form[action='/logout']").count() == 0
    finally:
        other.close()


def test_sign_out_everywhere_ends_the_other_browsers_session(browser, context, page, stack):  # noqa: F811
    other, laptop = fresh_page(browser, stack)
    try:
        sign_in(laptop, "student2")
        sign_in(page, "student2")
        page.set_viewport_size({"width": 390, "height": 800})
        page.click("a[href='/account']")
        page.wait_for_url("**/account")
        rows = page.locator(".account-sessions tbody tr")
        assert rows.count() >= 2 and page.locator("tr.current").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits a phone
        assert page.console_errors == []  # nothing our own CSP refused
        page.click("button:has-text('Sign out everywhere')")
        page.wait_for_url("**/login")
        laptop.goto("/history")
        assert "/login?next=/history" in laptop.url
        page.goto("/history")
        assert "/login?next=/history" in page.url
    finally:
        other.close()
