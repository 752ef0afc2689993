"""Teams in a real browser through the real stack: the instructor sets how teams form on the staff page, a student
starts a team and invites a classmate who accepts; a member's upload to a team assignment is the team's: the
other member sees it and its score, the gradebook gives both members the score, and a student outside the team
gets 404.

This module runs its own stack (Redis database 13) and publishes its own team assignment: a copy of ode-theta with
`teams = true`."""
from __future__ import annotations

import csv
import io
import shutil

import httpx
import pytest
from gradeflow_protocol.bundles import pack

from tests.integration.test_staff import wait_version
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
from tests.stack import module_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.browser]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    yield from module_stack(tmp_path_factory, redis_url, name="teams", db=13)


@pytest.fixture(scope="module")
def team_assignment(stack, tmp_path_factory) -> int:
    """ode-theta copied as 'ode-team' with `teams = true`, published by ta1 and live once validated."""
    folder = shutil.copytree(ODE, tmp_path_factory.mktemp("bundle") / "ode-team")
    toml = (folder / "assignment.toml").read_text()
    assert 'id = "ode-theta"' in toml and 'kind = "notebook"\n' in toml
    toml = toml.replace('id = "ode-theta"', 'id = "ode-team"').replace('kind = "notebook"\n',
                                                                      'kind = "notebook"\nteams = true\n')
    (folder / "assignment.toml").write_text(toml)
    r = httpx.post(f"{stack.base_url}/api/v1/courses/mathdl/assignments", headers=stack.headers("ta1"),
                   files={"bundle": ("b.tar.gz", pack(folder))}, timeout=60)
    assert r.status_code == 202, r.text
    version = wait_version(stack, r.json())
    assert version["state"] == "ready" and version["current"], version["problems"]
    return version["assignment_id"]


def student_page(browser, stack, username):  # noqa: F811
    tab = browser.new_context(base_url=stack.base_url).new_page()
    tab.set_default_timeout(20_000)
    sign_in(tab, username)
    return tab


def test_a_team_formed_in_the_browser_shares_its_submission_and_its_score(page, browser, stack,  # noqa: F811
                                                                         team_assignment):
    sign_in(page, "prof")
    page.goto("/courses/1")
    page.click("nav.course a:has-text('Teams')")
    assert "Team Alpha" in page.inner_text("#teams")  # the demo's team
    page.fill("#max_size", "3")
    page.check("#students_form")
    page.click("#team-settings-form button[type=submit]")
    assert "saved=1" in page.url and page.input_value("#max_size") == "3"

    inviter = student_page(browser, stack, "student3")
    inviter.goto("/courses/1")
    inviter.click("#team-link a")
    assert "No team" in inviter.inner_text("#my-team")
    inviter.fill("#team-name", "Team Gamma")
    inviter.click("#create-team-form button[type=submit]")
    inviter.fill("#invite-username", "student4")
    inviter.click("#invite-form button[type=submit]")
    assert "done=1" in inviter.url, inviter.inner_text("main")

    invitee = student_page(browser, stack, "student4")
    invitee.goto("/courses/1/team")
    assert "student3 invites you to Team Gamma" in invitee.inner_text("#invitations")
    invitee.click("#invitations button:has-text('Accept')")
    assert "Team Gamma" in invitee.inner_text("#my-team") and "student3" in invitee.inner_text("#my-team")

    inviter.goto(f"/assignments/{team_assignment}")
    assert "you submit for Team Gamma (student3, student4)" in inviter.inner_text("#team-note")
    sid = upload(inviter, team_assignment, ODE / "solution.ipynb")
    inviter.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)

    invitee.goto(f"/submissions/{sid}")
    invitee.wait_for_selector(GRADED, timeout=GRADING_TIMEOUT_MS)
    assert "Team Gamma · sent by student3" in invitee.inner_text("#team-fact")
    assert stack.get(sid, username="student4").json()["score"] == 10
    invitee.goto("/history")
    assert f"/submissions/{sid}" in invitee.content()

    book = httpx.get(f"{stack.base_url}/api/v1/courses/mathdl/gradebook?format=csv", headers=stack.headers("prof"))
    rows = {row["username"]: row for row in csv.DictReader(io.StringIO(book.text))}
    assert rows["student3"]["ode-team"] == rows["student4"]["ode-team"] == "10"
    assert rows["student1"]["ode-team"] == ""  # outside the team

    assert stack.get(sid, username="student1").status_code == 404  # a student outside the team
    outsider = student_page(browser, stack, "student1")
    assert outsider.goto(f"/submissions/{sid}").status == 404
