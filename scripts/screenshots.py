#!/usr/bin/env python3
"""Regenerate docs/screenshots/: the main pages at phone and desktop widths, through a real stack.

Starts its own Redis, API, Celery worker (bubblewrap sandboxes) and demo course in a temporary folder, drives
Debian's chromium with Playwright, and writes PNGs named PAGE-phone.png and PAGE-desktop.png.

    python3 scripts/screenshots.py [--out docs/screenshots] [--only login,queue]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import ASSIGNMENTS, free_port, wait_port  # noqa: E402
from tests.stack import PASSWORD, start_stack  # noqa: E402

ODE = ASSIGNMENTS / "ode-theta"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                             "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, f"redis://127.0.0.1:{port}/0"


def login(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def upload(page, assignment_id: int, path: Path, *, name: str | None = None, data: bytes | None = None) -> int:
    page.goto(f"/assignments/{assignment_id}")
    if data is None:
        page.set_input_files("#file", str(path))
    else:
        page.set_input_files("#file", files=[{"name": name or path.name, "mimeType": "text/x-python", "buffer": data}])
    asks = page.locator("#upload[data-confirm-replace]").count() > 0  # it would replace a counted score
    page.click("#upload button[type=submit]")
    if asks:
        page.click("[data-confirm-yes]")
    page.wait_for_url("**/submissions/*")
    return int(page.url.rstrip("/").rsplit("/", 1)[-1])


def wait_graded(page) -> None:
    page.wait_for_selector("#status[data-status=graded], #status[data-status=failed]", timeout=180_000)


def set_policy(page, assignment_id: int) -> None:
    """A deadline a week ahead, a late penalty and a daily limit, so the pages show them."""
    login(page, "prof")
    page.goto(f"/assignments/{assignment_id}/policy")
    due = time.strftime("%Y-%m-%dT18:00", time.localtime(time.time() + 7 * 86400))
    page.fill("#due_at", due)
    page.fill("#penalty_percent_per_day", "10")
    page.fill("#penalty_cap_percent", "50")
    page.fill("#max_per_day", "5")
    with page.expect_navigation():
        page.click("#policy-form button[type=submit]")


def start_regrade(page, assignment_id: int) -> int:
    page.goto(f"/assignments/{assignment_id}/versions")
    with page.expect_navigation():
        page.click(".version button:has-text('Regrade')")
    return int(page.url.rstrip("/").rsplit("/", 1)[-1])


class Shooter:
    def __init__(self, browser, base_url: str, out: Path, only: set[str]) -> None:
        self.pages = {name: browser.new_context(base_url=base_url, viewport=size).new_page()
                      for name, size in SIZES.items()}
        self.out, self.only = out, only

    def login(self, username: str) -> None:
        for page in self.pages.values():
            login(page, username)

    def shoot(self, name: str, url: str, *, wait_for: str | None = None) -> None:
        if self.only and name not in self.only:
            return
        for size, page in self.pages.items():
            page.goto(url)
            if wait_for:
                page.wait_for_selector(wait_for, timeout=180_000)
            page.wait_for_timeout(150)  # local times and fonts settle
            page.screenshot(path=str(self.out / f"{name}-{size}.png"), full_page=True)
            print(f"  {name}-{size}.png")


def record_override(page, assignment_id: int) -> None:
    """A manual score in the log, so the overrides page shows one."""
    page.goto(f"/assignments/{assignment_id}/overrides")
    page.fill("#ov-user", "student2")
    page.fill("#ov-score", "6")
    page.fill("#ov-reason", "oral examination replaces the upload")
    with page.expect_navigation():
        page.click("#override-form button[type=submit]")


def predictions(correct_fraction: float) -> bytes:
    """A wafer-defects predictions file right on the first fraction of the test ids ('none' elsewhere)."""
    rows = (ASSIGNMENTS / "wafer-defects" / "hidden" / "solution.csv").read_text().splitlines()[1:]
    keep = int(len(rows) * correct_fraction)
    lines = [f"{r.split(',')[0]},{r.split(',')[1] if i < keep else 'none'}" for i, r in enumerate(rows)]
    return ("id,label\n" + "\n".join(lines) + "\n").encode()


def project_shots(shots: Shooter, stack) -> None:
    """The projects: the contest's leaderboard and picks, the team pages, a report graded with the rubric."""
    from tests.pdf_bytes import make_pdf

    wafer, project = stack.assignment_id("wafer-defects"), stack.assignment_id("project-features")
    for user, fraction in (("student1", 0.55), ("student2", 0.8), ("student3", 0.7), ("student1", 0.6)):
        stack.grade("predictions.csv", predictions(fraction), username=user, slug="wafer-defects")
    reports = [stack.grade(f"report-{user}.pdf", make_pdf(f"Features for digits, by {user}", pages=2),
                           username=user, slug="project-features")["id"] for user in ("student1", "student3")]
    shots.login("student1")
    driver = shots.pages["desktop"]
    driver.goto(f"/assignments/{wafer}/leaderboard")
    driver.locator("#my-entries button[value=pick]").first.click()
    driver.wait_for_load_state()
    shots.shoot("contest-leaderboard", f"/assignments/{wafer}/leaderboard")
    shots.shoot("contest-assignment", f"/assignments/{wafer}")
    shots.shoot("team", "/courses/1/team")
    shots.login("prof")
    shots.shoot("instructor-contest-private", f"/assignments/{wafer}/leaderboard?board=private")
    shots.shoot("instructor-teams", "/courses/1/teams")
    shots.login("ta1")
    shots.shoot("ta-rubric-grade", f"/submissions/{reports[0]}/grade")
    shots.shoot("ta-rubric-overview", f"/assignments/{project}/rubric")
    shots.shoot("ta-rubric-items", f"/assignments/{project}/rubric/items")


def run(out: Path, only: set[str]) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gradeflow-shots-"))
    redis, redis_url = start_redis(work)
    stack = start_stack(work, redis_url=redis_url, demo_only=("ode-theta", "wafer-defects", "project-features"))
    try:
        assignment = stack.assignment_id()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium")
            shots = Shooter(browser, stack.base_url, out, only)
            shots.shoot("login", "/login")
            set_policy(shots.pages["desktop"], assignment)
            shots.login("student1")
            driver = shots.pages["desktop"]
            wrong = upload(driver, assignment, ODE / "wrong" / "ignores_theta.py")
            wait_graded(driver)
            good = upload(driver, assignment, ODE / "solution.ipynb")
            shots.shoot("submission-live", f"/submissions/{good}")
            wait_graded(driver)
            shots.shoot("course", "/courses/1")
            shots.shoot("assignment", f"/assignments/{assignment}")
            shots.shoot("submission-graded", f"/submissions/{good}", wait_for="#status[data-status=graded]")
            shots.shoot("submission-wrong", f"/submissions/{wrong}", wait_for="#status[data-status=graded]")
            shots.shoot("history", "/history")
            broken = upload(driver, assignment, ODE / "solution.py", name="my_theta.py",
                            data=b"import numpy as np\n\ndef theta_method(f, y0, t0, t1, n, theta)\n    return None\n")
            shots.shoot("submission-syntax-error", f"/submissions/{broken}", wait_for="#status[data-status=graded]")
            shots.shoot("account", "/account")
            shots.login("ta1")
            shots.shoot("ta-course", "/courses/1")
            shots.shoot("ta-queue", "/courses/1/queue")
            shots.shoot("ta-submissions", "/courses/1/submissions")
            shots.shoot("ta-submission-log", f"/submissions/{wrong}", wait_for="#status[data-status=graded]")
            shots.shoot("ta-versions", f"/assignments/{assignment}/versions")
            record_override(driver, assignment)
            shots.shoot("ta-overrides", f"/assignments/{assignment}/overrides")
            run = start_regrade(driver, assignment)
            shots.shoot("ta-regrade", f"/regrades/{run}", wait_for="#diff[data-pending='0']")
            shots.shoot("ta-publish", "/courses/1/publish")
            shots.login("prof")
            shots.shoot("instructor-roster", "/courses/1/roster")
            shots.shoot("instructor-roster-remove", "/courses/1/roster/student2/remove")
            shots.shoot("instructor-policy", f"/assignments/{assignment}/policy")
            shots.shoot("instructor-gradebook", "/courses/1/gradebook")
            project_shots(shots, stack)
            browser.close()
    finally:
        stack.stop()
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--only", default="", help="comma-separated page names (default: all)")
    args = parser.parse_args()
    started = time.monotonic()
    run(args.out, {n for n in args.only.split(",") if n})
    print(f"screenshots in {args.out} ({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
