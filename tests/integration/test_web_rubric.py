"""Reports graded with a rubric, in a real browser through the real stack (issue 10): two reports uploaded (one by
a team), a TA grades both on the grading page (items, a comment, an adjustment), edits an item's points and both
scores change, releases; each student sees their applied items and score; student3 also sends the code, and the
gradebook's CSV shows the sum of the code's score and the released rubric score.

This module runs its own stack (Redis database 14) with the demo's project-features alone."""
from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.conftest import ASSIGNMENTS
from tests.integration.test_web import GRADED, GRADING_TIMEOUT_MS, browser, sign_in, upload  # noqa: F401
from tests.pdf_bytes import make_pdf
from tests.stack import module_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]
SLUG = "project-features"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    yield from module_stack(tmp_path_factory, redis_url, name="rubric", db=14, demo_only=(SLUG,))


class Items(dict):
    """Item text -> id, from the staff's rubric API; looked up by the start of the text (which must be unique)."""

    def __missing__(self, start: str) -> int:
        found = [iid for text, iid in self.items() if text.startswith(start)]
        assert len(found) == 1, f"{start!r} names {len(found)} items"
        return found[0]


def item_ids(stack, aid: int) -> Items:
    r = httpx.get(f"{stack.base_url}/api/v1/assignments/{aid}/rubric", headers=stack.headers("ta1"))
    assert r.status_code == 200, r.text
    return Items({i["text"]: i["id"] for q in r.json()["questions"] for i in q["items"]})


def send_report(page, aid: int, text: str) -> int:
    sid = upload(page, aid, None, name=f"{text.lower()}.pdf", data=make_pdf(text))  # type: ignore[arg-type]
    page.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    assert "Report received: 1 page" in page.inner_text("#live")
    return sid


def grade_in_browser(page, items: Items, ticks: list[str], *, comment: tuple[int, str] | None = None,
                     adjustment: tuple[int, str] | None = None) -> str:
    for words in ticks:
        page.check(f"#item-{items[words]}")
    questions = [int(q) for q in page.locator("fieldset[data-question]").evaluate_all(
        "els => els.map(e => e.dataset.question)")]
    if comment:
        page.fill(f"#comment-{questions[comment[0]]}", comment[1])
    if adjustment:
        page.fill(f"#adjustment-{questions[adjustment[0]]}", adjustment[1])
    page.click("#rubric-save")
    return page.inner_text("#grade-saved")


def overview_scores(page, aid: int) -> dict[int, str]:
    page.goto(f"/assignments/{aid}/rubric")
    rows = page.locator("#rubric-reports tbody tr[data-submission]")
    return {int(r.get_attribute("data-submission")): r.locator("td[data-label=Score]").inner_text()
            for r in rows.all()}


def test_a_ta_grades_two_reports_edits_an_item_and_releases(browser, stack):  # noqa: F811
    aid = stack.assignment_id(SLUG)
    tabs = {}
    for who in ("student1", "student2", "student3", "ta1"):
        tabs[who] = browser.new_context(base_url=stack.base_url).new_page()
        tabs[who].set_default_timeout(20_000)
        sign_in(tabs[who], who)
    alpha = send_report(tabs["student1"], aid, "Alpha")  # student1 is in Team Alpha with student2
    solo = send_report(tabs["student3"], aid, "Solo")
    # the mixed part: student3 also sends the code, graded by the checks while the TA grades the reports
    code = stack.submit("solution.ipynb", (ASSIGNMENTS / SLUG / "solution.ipynb").read_bytes(), username="student3",
                        slug=SLUG)
    assert code.status_code == 202, code.text
    items = item_ids(stack, aid)

    ta = tabs["ta1"]
    ta.goto(f"/assignments/{aid}")
    ta.click("#rubric-link")
    assert "Graded 0 of 2" in ta.inner_text("#rubric-progress")
    ta.click("#grade-next")
    first = int(ta.url.split("/submissions/")[1].split("/")[0])
    frame = ta.locator("#report-frame")
    assert frame.get_attribute("sandbox") == "allow-scripts" and frame.get_attribute("src") == "/report-viewer"
    assert frame.get_attribute("data-pdf") == f"/submissions/{first}/report.pdf"  # test_web_pdf_viewer.py draws it
    served = ta.request.get(f"/submissions/{first}/report.pdf")
    assert served.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert served.headers["content-disposition"].startswith("inline;") and served.headers["x-content-type-options"] == "nosniff"
    assert served.body() == make_pdf("Alpha" if first == alpha else "Solo")
    saved = grade_in_browser(ta, items, ["Clear statement of", "Each family of", "A single accuracy", "Clear, well organised,"],
                             comment=(2, "Add a confusion matrix."), adjustment=(2, "0.5"))
    assert saved == "Saved: 17.5 / 20."
    ta.click("#next-ungraded")
    second = int(ta.url.split("/submissions/")[1].split("/")[0])
    assert {first, second} == {alpha, solo}
    saved = grade_in_browser(ta, items, ["The task is", "The features are listed and", "A single accuracy", "Readable but disorganised"])
    assert saved == "Saved: 11 / 20." and ta.locator("#all-graded").count() == 1

    ta.click("#edit-items")
    single = items["A single accuracy"]
    assert ta.inner_text(f"#note-{single}") == "Changes 2 submissions (applied to them)."
    ta.fill(f"#points-{single}", "2")
    ta.click(f"#edit-item-{single} button[value=save]")
    assert ta.locator("#items-saved").count() == 1
    assert overview_scores(ta, aid) == {first: "16.5 / 20", second: "10 / 20"}  # both changed
    assert "Graded 2 of 2" in ta.inner_text("#rubric-progress")

    student = tabs["student1"]
    student.goto(f"/submissions/{alpha}")
    assert student.locator("#report-pending").is_visible() and student.locator("#report-score").count() == 0
    assert "A single accuracy" not in student.inner_text("main")  # nothing of the rubric before release
    ta.click("#release")
    assert "Released" in ta.text_content("#release-state") and ta.locator("#unrelease").count() == 1

    expected = {alpha: "16.5" if first == alpha else "10", solo: "16.5" if first == solo else "10"}
    for who, sid in (("student1", alpha), ("student2", alpha), ("student3", solo)):  # student2: Team Alpha's
        tab = tabs[who]
        tab.goto(f"/submissions/{sid}")
        assert tab.inner_text("#report-score") == f"Rubric score: {expected[sid]} / 20", who
        shown = tab.inner_text("#report")
        assert "A single accuracy figure, little discussion." in shown
        assert ("Each family of features" in shown) == (sid == first)  # only the items applied to this one
        assert "Readable but disorganised" in shown if sid == second else "Readable but disorganised" not in shown
        assert tab.get_attribute("#report-pdf", "href") == f"/submissions/{sid}/report.pdf"
    commented = tabs["student1" if first == alpha else "student3"]
    assert "Add a confusion matrix." in commented.inner_text("#report")
    other = tabs["student3"].request.get(f"/submissions/{alpha}/report.pdf")
    assert other.status == 404  # never another's PDF
    own = tabs["student3"].request.get(f"/submissions/{solo}/report.pdf")
    assert own.headers["content-disposition"].startswith("attachment;") and own.body() == make_pdf("Solo")

    graded = stack.wait(code.json()["id"], username="student3", timeout=300)
    assert graded["status"] == "graded" and graded["score"] == 10, graded  # the code's checks: 10 of the 30 points
    r = httpx.get(f"{stack.base_url}/api/v1/courses/mathdl/gradebook?format=csv", headers=stack.headers("prof"))
    rows = {row[0]: row for row in csv.reader(io.StringIO(r.text))}
    column = rows["username"].index(SLUG)
    solo_total = f"{10 + float(expected[solo]):g}"  # the sum: code (10) + the released rubric score
    assert (rows["student1"][column], rows["student2"][column], rows["student3"][column]) == \
        (expected[alpha], expected[alpha], solo_total)
    for tab in tabs.values():
        tab.context.close()
