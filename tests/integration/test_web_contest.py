"""The wafer-defects contest through the real stack (API, Celery worker, Redis, SQLite) and a real browser: team
members' predictions scored in the worker, the public leaderboard updating with the team marked, a final pick,
the private board 403 until the instructor reveals it in the browser (after the close), then shown with
intervals, and every member of the team given the same points in the gradebook.

This module runs its own stack (Redis database 10) so its policy and reveal reach no other test."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import ASSIGNMENTS
from tests.integration.test_web import browser, context, page, sign_in, upload  # noqa: F401
from tests.stack import module_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]
WAFER = ASSIGNMENTS / "wafer-defects"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    yield from module_stack(tmp_path_factory, redis_url, name="contest", db=10, demo_only=("wafer-defects",))


def predictions(correct_fraction: float) -> bytes:
    """A predictions file right on the first `correct_fraction` of the test ids (the test reads the hidden
    solution: it plays a student who is that good), 'none' elsewhere."""
    rows = list(csv.DictReader(io.StringIO((WAFER / "hidden" / "solution.csv").read_text())))
    keep = int(len(rows) * correct_fraction)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "label"])
    for index, row in enumerate(rows):
        writer.writerow([row["id"], row["label"] if index < keep else "none"])
    return out.getvalue().encode()


def api(stack, method: str, path: str, user: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{stack.base_url}/api/v1{path}", headers=stack.headers(user), timeout=30, **kwargs)


def test_a_team_contest_from_upload_to_gradebook(page, stack):
    aid = stack.assignment_id("wafer-defects")
    sample = stack.grade("sample_submission.csv", (WAFER / "data/public/sample_submission.csv").read_bytes(),
                         slug="wafer-defects")
    assert sample["status"] == "graded" and 0 <= sample["score"] < 0.3  # the placeholder is a valid, poor entry
    loner = stack.grade("mine.csv", predictions(0.5), slug="wafer-defects", username="student3")
    assert loner["score"] > sample["score"]

    sign_in(page, "student2")  # student1's teammate sends the team's best file in the browser
    best = upload(page, aid, WAFER / "x.csv", name="good.csv", data=predictions(0.9))
    page.wait_for_selector("#status[data-status=graded]", timeout=120_000)

    public = api(stack, "GET", f"/assignments/{aid}/leaderboard", "student1").json()
    assert [e["team"] for e in public["entries"]] == ["Team Alpha", "student3"]
    assert public["entries"][0]["submissions"] == 2 and public["revealed"] is False
    hidden = api(stack, "GET", f"/assignments/{aid}/leaderboard", "student1", params={"board": "private"})
    assert hidden.status_code == 403

    page.goto(f"/assignments/{aid}")
    page.click("#leaderboard-link")
    assert "#1" in page.locator("#my-rank").inner_text()
    mine = page.locator("table.board tr.mine")
    assert "Team Alpha" in mine.inner_text() and mine.locator(".badge").text_content() == "you"
    assert page.locator("#private-hidden").count() == 1
    page.click(f"button[aria-label='Pick submission {best} as final']")
    assert page.locator("table.entries tr.picked").count() == 1
    assert "1 of 2 picked" in page.locator(".standing").inner_text()

    closed = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = api(stack, "PUT", f"/assignments/{aid}/policy", "prof", json={"due_at": closed})
    assert r.status_code == 200, r.text
    page.context.clear_cookies()
    sign_in(page, "prof")
    page.goto(f"/assignments/{aid}/leaderboard?board=private")
    assert "staff preview" in page.locator("nav.tabs").inner_text()
    page.click("#reveal button[value=reveal]")
    assert "is revealed" in page.locator("#reveal").inner_text()
    assert page.locator("table.board th", has_text="95% interval").count() == 1

    shown = api(stack, "GET", f"/assignments/{aid}/leaderboard", "student3", params={"board": "private"}).json()
    assert shown["revealed"] and shown["entries"][0]["team"] == "Team Alpha"
    low, high = shown["entries"][0]["interval"]
    assert low <= shown["entries"][0]["score"] <= high
    book = api(stack, "GET", "/courses/mathdl/gradebook", "prof").json()
    cells = {row["username"]: row["cells"]["wafer-defects"]["final"] for row in book["rows"]}
    assert cells["student1"] == cells["student2"] > cells["student3"] > 0
