"""`gradeflow submissions list|show|retry` and `gradeflow queue` (staff)."""
from __future__ import annotations

import time

import typer

from gradeflow_cli.app import GradeflowTyper, out
from gradeflow_cli.client import Api
from gradeflow_cli.courses import CourseOpt
from gradeflow_cli.render import moment, score, table

submissions_app = GradeflowTyper(help="Students' submissions (staff).")


@submissions_app.command("list")
def list_submissions(assignment: str, course: str = CourseOpt,
                     user: str = typer.Option(None, "--user", help="one student's"),
                     status: str = typer.Option(None, "--status", help="queued | running | graded | failed"),
                     purpose: str = typer.Option("student", "--purpose", help="student | validation | regrade"),
                     limit: int = typer.Option(50, "--limit")) -> None:
    """An assignment's submissions, newest first."""
    params = {k: v for k, v in {"username": user, "status": status, "purpose": purpose, "limit": limit}.items() if v}
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        rows = client.get(f"/assignments/{found['id']}/submissions", params=params)
    table(f"{found['slug']} submissions", ["id", "user", "file", "status", "score", "version", "submitted", "worker"],
          [(s["id"], s["user"], s["filename"], s["status"], f"{score(s['score'])}/{score(s['max_score'])}",
            s["version"], moment(s["created_at"]), s["worker"]) for s in rows])


@submissions_app.command("show")
def show(submission_id: int, log: bool = typer.Option(False, "--log", help="print the full grader log")) -> None:
    """One submission with per-check results (staff also see logs)."""
    with Api() as client:
        sub = client.get(f"/submissions/{submission_id}")
    who = f" by {sub['user']}" if "user" in sub else ""
    out.print(f"submission {sub['id']}{who}: {sub['filename']} - {sub['status_text']} "
              f"score {score(sub['score'])}/{score(sub['max_score'])}")
    if sub.get("run"):
        out.print(sub["run"]["message"])
    table("checks", ["check", "score", "message"],
          [(c["name"], f"{score(c['score'])}/{score(c['max_score'])}", c["message"]) for c in sub["checks"]])
    if sub.get("error"):
        out.print(f"service error: {sub['error']}")
    if log and sub.get("log"):
        out.print(sub["log"], markup=False)


@submissions_app.command("retry")
def retry(submission_id: int) -> None:
    """Grade a failed submission again from scratch."""
    with Api() as client:
        row = client.post(f"/submissions/{submission_id}/retry")
    out.print(f"submission {row['id']} queued again (attempt {row['attempt']})")


def _print_queue(snap: dict) -> None:
    waiting = ", ".join(f"{q}: {n}" for q, n in sorted(snap["waiting"].items())) or "none"
    broker = ", ".join(f"{q}: {'?' if n is None else n}" for q, n in sorted(snap["broker"].items()))
    out.print(f"waiting: {waiting}   (messages in Redis: {broker or '-'})")
    table("running, per worker", ["worker", "running"], sorted(snap["running"].items()))
    columns = ["id", "user", "file", "purpose", "status", "worker", "progress", "since", "error"]
    for title, key in (("running (your courses)", "active"), ("waiting (your courses)", "queued"),
                       ("stuck", "stuck"), ("failed in the last 24 h", "failed")):
        if snap[key]:
            table(title, columns, [(s["id"], s["user"], s["filename"], s["purpose"], s["status"], s["worker"],
                                    s["progress"], moment(s["started_at"] or s["queued_at"]),
                                    (s["error"] or "")[-120:]) for s in snap[key]])


def queue(watch: float = typer.Option(0, "--watch", help="refresh every N seconds (Ctrl-C to stop)")) -> None:
    """What waits, what runs on which worker, what is stuck or failed."""
    with Api() as client:
        while True:
            _print_queue(client.get("/queue"))
            if not watch:
                return
            time.sleep(watch)
            out.clear()


def register(app: typer.Typer) -> None:
    app.add_typer(submissions_app, name="submissions")
    app.command("queue")(queue)
