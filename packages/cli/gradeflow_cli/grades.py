"""Instructors' rules and grades: `gradeflow policy|extension|override|gradebook ...`."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from gradeflow_cli.app import GradeflowTyper, out
from gradeflow_cli.client import Api
from gradeflow_cli.courses import CourseOpt
from gradeflow_cli.render import moment, parse_moment, score, table

policy_app = GradeflowTyper(help="Deadlines, late penalty or cutoff, which submission counts, daily limit.")
extension_app = GradeflowTyper(help="One student's own deadline.")
override_app = GradeflowTyper(help="Manual scores, kept in an audit log.")
gradebook_app = GradeflowTyper(help="Export the course's gradebook.")


def _print_policy(view: dict) -> None:
    p = view["policy"]
    late = "hard cutoff" if p["late_mode"] == "cutoff" else \
        f"-{p['penalty_percent_per_day']:g}% per day late, at most -{p['penalty_cap_percent']:g}%"
    out.print(f"opens: {moment(p['opens_at'])}\ndue: {moment(p['due_at'])} (grace {p['grace_minutes']} min)\n"
              f"late work: {late}\ncounts: the {p['counted']} graded submission\n"
              f"submissions per 24 h: {p['max_per_day'] or 'no limit'}")


@policy_app.command("show")
def show(assignment: str, course: str = CourseOpt) -> None:
    """The assignment's policy."""
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        _print_policy(client.get(f"/assignments/{found['id']}/policy"))


@policy_app.command("set")
def set_policy(assignment: str, course: str = CourseOpt,
               opens: str = typer.Option(None, "--opens", help="date-time, or 'none'"),
               due: str = typer.Option(None, "--due", help="date-time (local time unless an offset is given), "
                                                           "or 'none'"),
               grace: int = typer.Option(None, "--grace", help="minutes of lateness forgiven"),
               late_mode: str = typer.Option(None, "--late", help="penalty | cutoff"),
               penalty: float = typer.Option(None, "--penalty", help="percent lost per started day late"),
               cap: float = typer.Option(None, "--cap", help="the most percent a late submission can lose"),
               counted: str = typer.Option(None, "--counts", help="last | best | chosen"),
               max_per_day: int = typer.Option(None, "--max-per-day", help="uploads per 24 h; 0 for no limit")) -> None:
    """Change some of the policy; what you leave out stays as it is (instructors)."""
    changes = {"grace_minutes": grace, "late_mode": late_mode, "penalty_percent_per_day": penalty,
               "penalty_cap_percent": cap, "counted": counted}
    changes = {k: v for k, v in changes.items() if v is not None}
    for key, text in (("opens_at", opens), ("due_at", due)):
        if text is not None:
            changes[key] = None if text.lower() == "none" else parse_moment(text)
    if max_per_day is not None:
        changes["max_per_day"] = max_per_day or None
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        current = client.get(f"/assignments/{found['id']}/policy")["policy"]
        _print_policy(client.put(f"/assignments/{found['id']}/policy", json=current | changes))


@extension_app.command("grant")
def grant(assignment: str, username: str, until: str = typer.Option(..., "--until", help="the new deadline"),
          reason: str = typer.Option("", "--reason"), course: str = CourseOpt) -> None:
    """Give USERNAME until UNTIL (instructors)."""
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        row = client.put(f"/assignments/{found['id']}/extensions/{username}",
                         json={"due_at": parse_moment(until), "reason": reason})
    out.print(f"{row['username']} now has until {moment(row['due_at'])} for {found['slug']}")


@extension_app.command("revoke")
def revoke(assignment: str, username: str, course: str = CourseOpt) -> None:
    """Take USERNAME's extension back (instructors)."""
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        client.delete(f"/assignments/{found['id']}/extensions/{username}")
    out.print(f"{username}'s extension on {found['slug']} removed")


@extension_app.command("list")
def list_extensions(assignment: str, course: str = CourseOpt) -> None:
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        rows = client.get(f"/assignments/{found['id']}/extensions")
    table(f"extensions on {found['slug']}", ["student", "until", "reason", "by"],
          [(r["username"], moment(r["due_at"]), r["reason"], r["granted_by"]) for r in rows])


def _override(assignment: str, username: str, value: float | None, reason: str, course: str | None) -> None:
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        row = client.post(f"/assignments/{found['id']}/overrides",
                          json={"username": username, "score": value, "reason": reason})
    out.print(f"{username} on {found['slug']}: {score(row['previous_score'])} -> "
              f"{score(row['score']) if row['score'] is not None else 'computed score'} ({row['reason']})")


@override_app.command("set")
def set_override(assignment: str, username: str, value: float = typer.Argument(..., metavar="SCORE"),
                 reason: str = typer.Option(..., "--reason"), course: str = CourseOpt) -> None:
    """Record SCORE for USERNAME instead of the computed one (staff)."""
    _override(assignment, username, value, reason, course)


@override_app.command("clear")
def clear_override(assignment: str, username: str, reason: str = typer.Option(..., "--reason"),
                   course: str = CourseOpt) -> None:
    """Go back to the computed score (staff)."""
    _override(assignment, username, None, reason, course)


@override_app.command("log")
def override_log(assignment: str, course: str = CourseOpt) -> None:
    """Every manual score set or cleared: who, when, old, new, why."""
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        rows = client.get(f"/assignments/{found['id']}/overrides")
    table(f"overrides on {found['slug']}", ["when", "by", "student", "old", "new", "reason"],
          [(moment(r["at"]), r["by"], r["username"], score(r["previous_score"]),
            "cleared" if r["score"] is None else score(r["score"]), r["reason"]) for r in rows])


@gradebook_app.command("export")
def export(course: str = CourseOpt, fmt: str = typer.Option("csv", "--format", "-f", help="csv | canvas | json"),
           output: Path = typer.Option(None, "--output", "-o", help="file to write ('-': standard output; "
                                                                   "default: the name the API suggests)")) -> None:
    """Download the gradebook: one row per student, one column per assignment, the total (staff)."""
    with Api() as client:
        slug = client.course(course)
        response = client.get(f"/courses/{slug}/gradebook", params={"format": fmt}, raw=True)
    suggested = response.headers.get("content-disposition", "").partition('filename="')[2].rstrip('"')
    if str(output) == "-":
        sys.stdout.write(response.text)
        return
    target = output or Path(suggested or f"{slug}-gradebook.json")
    target.write_bytes(response.content)
    out.print(f"wrote {target} ({fmt})")


def register(app: typer.Typer) -> None:
    for name, sub in (("policy", policy_app), ("extension", extension_app), ("override", override_app),
                      ("gradebook", gradebook_app)):
        app.add_typer(sub, name=name)
