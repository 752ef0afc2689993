"""Staff pages in a real browser through the real stack: the queue and logs (TA), publishing, regrade diffs,
roster, policy and extensions, the gradebook and its downloads (instructor)."""
from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from gradeflow_protocol.bundles import pack
from tests.conftest import ASSIGNMENTS
from tests.integration.test_web import (GRADED, GRADING_TIMEOUT_MS, browser, context, page, sign_in,  # noqa: F401
                                        upload)

ODE = ASSIGNMENTS / "ode-theta"
SLUG = "ode-theta-web"  # a copy published through the page, so policies set here never touch ode-theta
pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]


def bundle(tmp_path, *, readme_note: str = "") -> bytes:
    folder = tmp_path / f"bundle{len(readme_note)}"
    shutil.copytree(ODE, folder)
    toml = (folder / "assignment.toml").read_text().replace('id = "ode-theta"', f'id = "{SLUG}"')
    (folder / "assignment.toml").write_text(toml.replace('title = "The theta method for ODEs"',
                                                         'title = "Theta method (web copy)"'))
    (folder / "README.md").write_text((folder / "README.md").read_text() + readme_note)
    return pack(folder)


def publish(page, data: bytes, *, official: bool = False) -> None:
    page.goto("/courses/1/publish")
    page.set_input_files("#bundle", files=[{"name": "bundle.tar.gz", "mimeType": "application/gzip", "buffer": data}])
    if official:
        page.check("input[name=activate_when_ready]")
    with page.expect_navigation():
        page.click("#publish button[type=submit]")
    assert page.url.endswith("/versions"), page.inner_text("main")


@pytest.fixture(scope="module")
def web_assignment(browser, stack, tmp_path_factory):  # noqa: F811
    """ode-theta published again under another id through the publish page, validated in the sandbox."""
    context = browser.new_context(base_url=stack.base_url)
    page = context.new_page()
    sign_in(page, "ta1")
    publish(page, bundle(tmp_path_factory.mktemp("bundle")))
    page.wait_for_selector("#versions .version[data-state=ready]", timeout=GRADING_TIMEOUT_MS)
    assignment_id = int(page.url.split("/assignments/")[1].split("/")[0])
    context.close()
    return assignment_id


def test_a_ta_watches_the_queue_update_and_reads_a_runs_log_and_limits(page, stack):
    slow = b"import time\ntime.sleep(3)\n\ndef theta_method(*a):\n    return None\n"
    sid = stack.submit("slow.py", slow).json()["id"]
    sign_in(page, "ta1")
    page.goto("/courses/1/queue")
    row = page.locator(f"#queue a[href='/submissions/{sid}']")
    row.first.wait_for(timeout=20_000)  # waiting or running, listed
    page.evaluate("window.__sameDocument = 'queue'")
    row.first.wait_for(state="detached", timeout=GRADING_TIMEOUT_MS)  # graded: the list refreshed itself
    assert page.evaluate("window.__sameDocument") == "queue"
    page.goto(f"/submissions/{sid}")
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    assert "seed:" in page.inner_text("[data-log]")
    limits = page.inner_text("table.limits")
    assert "network" in limits and "memory" in limits
    assert "student1" in page.inner_text(".facts")


def test_a_ta_finds_any_submission_of_the_course(page, stack):
    body = stack.grade("solution.py", b"best_theta = 0.5\n", username="student2")
    sign_in(page, "ta1")
    page.goto("/courses/1/submissions?student=student2")
    assert page.locator(f"a[href='/submissions/{body['id']}']").count() >= 1
    assert "student1" not in page.inner_text("table")


def test_publishing_validates_the_bundle_and_a_broken_one_says_what_to_fix(page, web_assignment):
    sign_in(page, "ta1")
    page.goto(f"/assignments/{web_assignment}/versions")
    version = page.locator(".version").first
    assert version.get_attribute("data-official") == "yes"
    labels = version.locator("td[data-label=File]").all_inner_texts()
    assert "solution.ipynb" in labels and "wrong/ignores_theta.py" in labels
    page.goto("/courses/1/publish")
    page.set_input_files("#bundle", files=[{"name": "bundle.tar.gz", "mimeType": "application/gzip",
                                            "buffer": b"not a tarball"}])
    page.click("#publish button[type=submit]")
    assert "not a tar.gz archive" in page.inner_text("#publish-error")


def test_a_regrade_shows_the_diff_before_the_version_becomes_official(page, stack, web_assignment, tmp_path):
    sign_in(page, "student1")
    upload(page, web_assignment, ODE / "wrong" / "off_by_one.py")
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    page.context.clear_cookies()
    sign_in(page, "ta1")
    publish(page, bundle(tmp_path, readme_note="\nA clarified statement.\n"))
    page.wait_for_selector("#versions .version[data-state=ready] >> nth=1", timeout=GRADING_TIMEOUT_MS)
    newest = page.locator(".version").first
    assert newest.get_attribute("data-official") == "no"  # ready, but not official until a TA says so
    with page.expect_navigation():
        newest.locator("button:has-text('Regrade')").click()
    page.wait_for_selector("#diff[data-pending='0']", timeout=GRADING_TIMEOUT_MS)
    row = page.locator("table.diff tr", has_text="student1")
    assert "4" in row.locator("td[data-label=Before]").inner_text()
    assert row.locator("td[data-label=Change]").inner_text().strip() in ("0", "+0")
    with page.expect_navigation():
        page.click("#diff button[type=submit]")
    assert page.locator(".version").first.get_attribute("data-official") == "yes"


def test_an_instructor_imports_a_roster_and_the_invited_student_signs_in(page, browser, stack):  # noqa: F811
    sign_in(page, "prof")
    page.goto("/courses/1/roster")
    rows = "username,name,email,section,role\nada,Ada Lovelace,ada@example.org,B,student\nstudent1,,,A,\n"
    page.set_input_files("#roster", files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": rows.encode()}])
    with page.expect_navigation():
        page.click("#roster-form button[type=submit]")
    report = page.inner_text("#roster-report")
    assert "created" in report and "ada" in report
    link = page.locator("input.invite").input_value()
    assert "/invite?token=" in link
    newcomer = browser.new_context(base_url=stack.base_url).new_page()
    newcomer.goto(link)
    newcomer.fill("#new-password", "a-long-password")
    with newcomer.expect_navigation():
        newcomer.click("button[type=submit]")
    newcomer.wait_for_load_state()
    assert "Ada Lovelace" in newcomer.inner_text("header")
    newcomer.context.close()


def test_an_instructor_sets_a_deadline_and_an_extension_the_student_sees(page, stack, web_assignment):
    sign_in(page, "prof")
    page.goto(f"/assignments/{web_assignment}/policy")
    page.fill("#due_at", "2030-01-15T18:00")
    page.fill("#penalty_percent_per_day", "10")
    page.fill("#max_per_day", "50")
    with page.expect_navigation():
        page.click("#policy-form button[type=submit]")
    assert "Saved." in page.inner_text("main")
    assert page.input_value("#due_at") == "2030-01-15T18:00"  # shown back in the viewer's time zone
    page.fill("#ext-user", "student2")
    page.fill("#ext-due", "2030-01-20T12:00")
    page.fill("#ext-reason", "medical")
    with page.expect_navigation():
        page.click("#extension-form button[type=submit]")
    assert "student2" in page.inner_text("#extensions table") and "medical" in page.inner_text("#extensions table")
    page.context.clear_cookies()
    sign_in(page, "student2")
    page.goto(f"/assignments/{web_assignment}")
    facts = page.inner_text(".facts").lower()  # badges are upper-cased by CSS
    assert "extended" in facts and "2030" in facts and "of 50" in facts
    assert "10% per day late" in facts


def test_an_instructor_downloads_the_gradebook(page, stack):
    stack.grade("solution.ipynb", (ODE / "solution.ipynb").read_bytes(), username="student1")
    sign_in(page, "prof")
    page.goto("/courses/1/gradebook")
    assert "student1" in page.inner_text("#gradebook")
    files = {}
    for label in ("Download CSV", "Canvas CSV", "JSON"):
        with page.expect_download() as download:
            page.click(f"a:has-text('{label}')")
        files[label] = download.value.path().read_text()
    rows = {r["username"]: r for r in csv.DictReader(io.StringIO(files["Download CSV"]))}
    assert rows["student1"]["ode-theta"] == "10"
    canvas = list(csv.reader(io.StringIO(files["Canvas CSV"])))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert json.loads(files["JSON"])["course"] == "mathdl"


def fill_manual_score(page, username: str, score: str, reason: str) -> None:
    for field, value in (("#ov-user", username), ("#ov-score", score), ("#ov-reason", reason)):
        page.fill(field, value)


def test_a_ta_records_a_manual_score_that_the_gradebook_shows(page, stack, web_assignment):
    sign_in(page, "ta1")
    page.goto(f"/assignments/{web_assignment}")
    page.click("a:has-text('Manual scores')")
    fill_manual_score(page, "student2", "7.5", "oral exam replaces the upload")
    with page.expect_navigation():
        page.click("#override-form button[type=submit]")
    assert "Saved." in page.inner_text("main")
    assert "oral exam replaces the upload" in page.inner_text("#override-log")
    page.fill("#ov-score", "70")
    assert not page.eval_on_selector("#ov-score", "e => e.checkValidity()")  # the browser stops it at once
    fill_manual_score(page, "nobody", "5", "typo")
    page.click("#override-form button[type=submit]")
    page.wait_for_selector("#override-error")
    assert "No student 'nobody'" in page.inner_text("#override-error")
    assert page.input_value("#ov-reason") == "typo"  # what was typed is kept
    page.goto("/courses/1/gradebook")
    row = page.locator("#gradebook tr", has_text="student2")
    assert "7.5" in row.inner_text() and "override" in row.inner_text().lower()


def test_staff_forms_need_the_csrf_token_and_students_are_kept_out(context, page, stack):  # noqa: F811
    sign_in(page, "prof")
    refused = context.request.post("/courses/1/roster", max_redirects=0,
                                   multipart={"text": "username\nmallory\n"})
    assert refused.status == 403
    page.context.clear_cookies()
    sign_in(page, "student1")
    for url in ("/courses/1/queue", "/courses/1/roster", "/courses/1/gradebook", "/courses/1/publish"):
        response = page.goto(url)
        assert response.status == 403, url
        assert "for the course's" in page.inner_text("[role=alert]")
