"""Formulas on a phone: the ode-theta statement in chromium at 390 px, through the real stack.

Every formula is MathML; a display formula wider than the screen scrolls inside its own focusable box (never
clipped, never widening the page), and the page stays within its strict Content-Security-Policy."""
from __future__ import annotations

import pytest

from tests.integration.test_web import browser, sign_in  # noqa: F401 - the browser fixture, shared

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}

# Each display formula: how wide it is, and whether a scrolling box within the screen holds it.
DISPLAY_FORMULAS = """() => [...document.querySelectorAll('.statement math[display=block]')].map(math => {
  const box = math.getBoundingClientRect();
  let scroller = math.parentElement;
  while (scroller && !['auto', 'scroll'].includes(getComputedStyle(scroller).overflowX)) {
    scroller = scroller.parentElement;
  }
  const frame = scroller && scroller.getBoundingClientRect();
  return {width: box.width, fits: box.left >= 0 && box.right <= innerWidth,
          scrolled: !!scroller && frame.left >= 0 && frame.right <= innerWidth + 0.5,
          overflows: !!scroller && scroller.scrollWidth > scroller.clientWidth,
          focusable: !!scroller && scroller.tabIndex === 0 && !!scroller.getAttribute('aria-label')};
})"""


@pytest.fixture
def phone(browser, stack):  # noqa: F811 - the fixture imported above
    context = browser.new_context(base_url=stack.base_url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.console_errors = []  # a Content-Security-Policy violation shows up here
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    yield page
    context.close()


def test_formulas_are_mathml_and_wide_ones_scroll_in_their_own_box_at_390px(phone, stack):
    sign_in(phone, "student1")
    phone.goto(f"/assignments/{stack.assignment_id('ode-theta')}")
    assert phone.evaluate("innerWidth") == 390
    assert phone.locator(".statement math").count() >= 30
    assert phone.locator(".statement code.math").count() == 0  # every formula converted
    assert phone.evaluate("document.querySelector('.statement math').namespaceURI") == \
        "http://www.w3.org/1998/Math/MathML"  # parsed as MathML, not as unknown HTML tags
    formulas = phone.evaluate(DISPLAY_FORMULAS)
    assert len(formulas) == 2, formulas
    for formula in formulas:
        assert formula["fits"] or formula["scrolled"], formula  # never clipped, never wider than the page
        assert formula["focusable"], formula
    assert any(formula["overflows"] for formula in formulas), formulas  # the theta-method formula is wide
    assert phone.evaluate("document.querySelector('.statement').scrollWidth <= innerWidth")

    wide = phone.locator(".statement .math-block").first
    wide.focus()
    phone.keyboard.press("ArrowRight")  # a keyboard user scrolls the formula sideways
    phone.wait_for_function("() => document.activeElement.classList.contains('math-block')"
                            " && document.activeElement.scrollLeft > 0")  # a function: a string would be eval
    assert phone.console_errors == []
