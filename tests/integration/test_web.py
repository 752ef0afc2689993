"""The web pages in a real browser (Playwright driving Debian's chromium) through the real stack:
API + Celery worker + Redis + SQLite + bubblewrap. Student pages, login, CSRF and hostile notebooks."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import nbformat
import pytest

from tests.conftest import ASSIGNMENTS, require
from tests.stack import PASSWORD

ODE = ASSIGNMENTS / "ode-theta"
GRADED = "#status[data-status=graded]"
FINAL = "#status[data-status=graded], #status[data-status=failed]"
GRADING_TIMEOUT_MS = 120_000
pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]


def chromium_path() -> str | None:
    return os.environ.get("GRADEFLOW_CHROMIUM") or shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (never `playwright install`: no browser download)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed (pip install playwright)")
    executable = chromium_path()
    require(executable is not None, "chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


@pytest.fixture
def context(browser, stack):
    context = browser.new_context(base_url=stack.base_url)
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.dialogs = []  # every alert/confirm/prompt that fires; a safe page fires none
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.console_errors = []  # e.g. a Content-Security-Policy violation by our own pages
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    return page


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.inner_text("main")


def send(page, assignment_id: int, path: Path, *, name: str | None = None, data: bytes | None = None) -> None:
    page.goto(f"/assignments/{assignment_id}")
    payload = {"name": name or path.name, "mimeType": "application/octet-stream",
               "buffer": data if data is not None else path.read_bytes()}
    page.set_input_files("#file", files=[payload])
    with page.expect_navigation():
        press_submit(page)


def press_submit(page) -> None:
    """Press the upload button; when the page asks first (the upload would replace a counted score), say yes."""
    asks = page.locator("#upload[data-confirm-replace]").count() > 0
    page.click("#upload button[type=submit]")
    if asks:
        page.click("[data-confirm-yes]")


def upload(page, assignment_id: int, path: Path, *, name: str | None = None, data: bytes | None = None) -> int:
    send(page, assignment_id, path, name=name, data=data)
    assert "/submissions/" in page.url, page.inner_text("main")
    return int(page.url.rstrip("/").rsplit("/", 1)[-1])


def test_logged_out_users_are_sent_to_login_and_come_back(page, stack):
    assignment = stack.assignment_id()
    page.goto(f"/assignments/{assignment}")
    assert "/login?next=" in page.url
    page.fill("#username", "student1")
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"**/assignments/{assignment}")
    assert page.locator("h1").first.inner_text() == "The theta method for ODEs"


def test_wrong_password_is_a_message_not_a_trace(page):
    page.goto("/login")
    page.fill("#username", "student1")
    page.fill("#password", "not-the-password")
    page.click("form[action='/login'] button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Wrong username or password."
    assert "Traceback" not in page.content()


def test_student_uploads_the_reference_and_watches_it_graded_without_reloading(page, stack):
    sign_in(page, "student1")
    assignment = stack.assignment_id()
    page.goto(f"/assignments/{assignment}")
    assert page.locator(".statement math").count() > 10  # the README's formulas, as MathML
    assert page.locator("a[href$='/starter']").count() == 1
    sid = upload(page, assignment, ODE / "solution.ipynb")
    first = page.get_attribute("#status", "data-status")
    page.evaluate("window.__sameDocument = 'still here'")
    seen = page.evaluate_handle("""() => { const seen = []; new MutationObserver(() => {
        const s = document.querySelector('#status'); if (s && seen.at(-1) !== s.dataset.status) seen.push(s.dataset.status);
      }).observe(document.getElementById('live'), {childList: true, subtree: true}); return seen; }""")
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    assert page.evaluate("window.__sameDocument") == "still here"  # updated in place, never reloaded
    assert first in ("queued", "running"), first
    assert seen.json_value()[-1] == "graded"
    assert page.locator("[data-score]").inner_text() == "Score: 10 / 10"
    assert page.locator(".check.pass").count() >= 5 and page.locator(".check.fail").count() == 0
    assert page.locator(".notebook .cell").count() > 3  # their notebook, rendered
    assert page.locator(".notebook .cell.markdown math").count() > 0  # with its formulas as MathML
    assert page.locator("[data-log]").count() == 0  # logs are for staff
    assert page.console_errors == []  # htmx and app.js run within the strict CSP
    page.goto("/courses/1")
    assert "10 / 10" in page.locator("table.assignments").inner_text()
    page.goto("/history")
    assert page.locator(f"a[href='/submissions/{sid}']").count() >= 1


def test_a_wrong_upload_shows_the_failing_checks_messages(page, stack):
    sign_in(page, "student1")
    upload(page, stack.assignment_id(), ODE / "wrong" / "ignores_theta.py")
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    assert page.locator("[data-score]").inner_text() == "Score: 4.5 / 10"
    failing = page.locator(".check.fail")
    assert failing.count() >= 3
    for index in range(failing.count()):
        assert failing.nth(index).locator(".message").inner_text().strip()
    assert "implicit Euler" in failing.first.inner_text() or "implicit Euler" in page.inner_text(".checks")


def test_drag_and_drop_and_the_size_check_before_sending(page, stack):
    sign_in(page, "student1")
    assignment = stack.assignment_id()
    page.goto(f"/assignments/{assignment}")
    big = page.evaluate_handle("""() => { const dt = new DataTransfer();
        dt.items.add(new File(['x'.repeat(6 * 1024 * 1024)], 'huge.py')); return dt; }""")
    page.dispatch_event("[data-drop]", "drop", {"dataTransfer": big})
    error = page.locator("[data-upload-error]")
    assert error.is_visible() and "limit is 5.0 MB" in error.inner_text()
    page.click("#upload button[type=submit]")
    assert page.url.endswith(f"/assignments/{assignment}")  # nothing was sent
    small = page.evaluate_handle("""() => { const dt = new DataTransfer();
        dt.items.add(new File(['import numpy as np\\n'], 'dropped.py')); return dt; }""")
    page.dispatch_event("[data-drop]", "drop", {"dataTransfer": small})
    assert error.is_hidden() and "dropped.py" in page.inner_text("[data-chosen]")
    press_submit(page)
    page.wait_for_url("**/submissions/*")
    assert "dropped.py" in page.inner_text("h1")


def test_a_refused_upload_is_a_message_on_the_page(page, stack):
    sign_in(page, "student1")
    send(page, stack.assignment_id(), ODE / "solution.ipynb", name="notes.ipynb", data=b"{not json")
    # the server refuses it: the page is shown again with the reason (no JSON, no trace)
    assert "/assignments/" in page.url
    assert "not a Jupyter notebook" in page.inner_text("#server-error")


def hostile_notebook() -> bytes:
    payloads = ['<img src="x" onerror="alert(\'img onerror\')">', "<script>alert('script tag')</script>",
                '<svg onload="alert(\'svg onload\')"></svg>', '<a href="javascript:alert(\'js link\')">click me</a>',
                '<iframe src="javascript:alert(\'iframe\')"></iframe>', "<style>body{display:none}</style>"]
    outputs = [nbformat.v4.new_output("display_data", data={"text/html": "".join(payloads), "text/plain": "x"}),
               nbformat.v4.new_output("display_data", data={"application/javascript": "alert('js output')"}),
               nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'>"
                                                            "<script>alert('svg script')</script></svg>"}),
               nbformat.v4.new_output("stream", name="stdout", text="<script>alert('stream')</script>\n"),
               nbformat.v4.new_output("execute_result", data={"text/markdown": "[md](javascript:alert('md'))"},
                                      execution_count=1)]
    cell = nbformat.v4.new_code_cell("x = 1", outputs=outputs, execution_count=1)
    markdown = nbformat.v4.new_markdown_cell("# Notes\n<img src=x onerror=alert('markdown')>\n"
                                             "[link](javascript:alert('md link'))\n"
                                             "$\\text{<script>alert('tex')</script>} + \\frac12$")
    return nbformat.writes(nbformat.v4.new_notebook(cells=[markdown, cell])).encode()


def test_a_notebook_carrying_scripts_renders_inert_for_the_student_and_the_ta(page, stack):
    sign_in(page, "student1")
    sid = upload(page, stack.assignment_id(), ODE / "solution.ipynb", name="hostile.ipynb", data=hostile_notebook())
    for viewer in ("student1", "ta1"):
        page.context.clear_cookies()
        sign_in(page, viewer)
        page.goto(f"/submissions/{sid}")
        page.wait_for_selector(FINAL, timeout=GRADING_TIMEOUT_MS)
        for link in page.locator(".notebook a").all():
            link.click(no_wait_after=True)  # a javascript: link that survived would fire here
        page.wait_for_timeout(300)
        assert page.dialogs == [], viewer
        assert page.locator(".notebook script, .notebook iframe, .notebook svg, .notebook [onerror]").count() == 0
        assert "<script>alert('stream')</script>" in page.inner_text(".notebook")  # shown as text
        assert page.locator(".notebook math mfrac").count() == 1  # the formula rendered, its \\text inert
        assert page.locator("main").is_visible()  # no style took the page away


def own_submissions(stack) -> list:
    return httpx.get(f"{stack.base_url}/api/v1/submissions", headers=stack.headers("student1")).json()


def test_a_post_without_the_csrf_token_is_refused(context, page, stack):
    sign_in(page, "student1")
    assignment = stack.assignment_id()
    before = len(own_submissions(stack))
    response = context.request.post(f"/assignments/{assignment}/submissions", max_redirects=0,
                                    multipart={"file": {"name": "a.py", "mimeType": "text/x-python",
                                                        "buffer": b"import numpy\n"}})
    assert response.status == 403 and "Form refused" in response.text()
    forged = context.request.post(f"/assignments/{assignment}/submissions", max_redirects=0,
                                  multipart={"csrf_token": "0" * 64, "file": {"name": "a.py", "mimeType": "text/plain",
                                                                              "buffer": b"x = 1\n"}})
    assert forged.status == 403
    assert context.request.post("/logout", max_redirects=0).status == 403
    assert len(own_submissions(stack)) == before


def test_logout_ends_the_session(page):
    sign_in(page, "student1")
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")
    page.goto("/history")
    assert "/login?next=/history" in page.url
