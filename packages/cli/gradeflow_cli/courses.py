"""Courses and the roster: `gradeflow course create|list`, `gradeflow roster import|show`."""
from __future__ import annotations

from pathlib import Path

import typer

from gradeflow_cli.app import CliError, GradeflowTyper, out
from gradeflow_cli.client import Api
from gradeflow_cli.render import table

course_app = GradeflowTyper(help="Courses (site admins create them).")
roster_app = GradeflowTyper(help="Who is in a course, with which role.")
CourseOpt = typer.Option(None, "--course", "-c", help="course slug (default: GRADEFLOW_COURSE or the saved one)")


@course_app.command("create")
def create(slug: str, title: str = typer.Option("", "--title")) -> None:
    """Create a course (site admins)."""
    with Api() as client:
        course = client.post("/courses", json={"slug": slug, "title": title})
    out.print(f"course {course['slug']} created (id {course['id']}); import its roster with "
              f"`gradeflow roster import FILE --course {course['slug']}`")


@course_app.command("list")
def list_courses() -> None:
    """Your courses and your role in each."""
    with Api() as client:
        rows = client.get("/courses")
    table("courses", ["slug", "title", "your role"], [(c["slug"], c["title"], c["role"]) for c in rows])


def _print_report(report: dict) -> None:
    rows = [(line["line"], line["username"], line["action"], "; ".join(line["changes"]) or line["message"],
             line["invite_token"]) for line in report["lines"] if line["action"] != "unchanged"]
    if rows:
        table("roster", ["line", "username", "action", "changes", "invitation token"], rows)
    counts = ", ".join(f"{n} {action}" for action, n in report["counts"].items() if n)
    out.print(f"{counts or 'empty file'}{'' if report['applied'] else ' (nothing written)'}")
    if report["not_in_file"]:
        out.print(f"enrolled but not in the file (kept): {', '.join(report['not_in_file'])}")
    if report["ignored_columns"]:
        out.print(f"ignored columns: {', '.join(report['ignored_columns'])}")


@roster_app.command("import")
def import_file(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
                course: str = CourseOpt,
                dry_run: bool = typer.Option(False, "--dry-run", help="show what would change; write nothing")) -> None:
    """Import a CSV roster (username,name,email,section,role): idempotent, all or nothing (instructors).

    New accounts get no password: the report lists an invitation token for each; they run
    `gradeflow account set-password --token TOKEN` (or use the web page) to choose one."""
    with Api() as client:
        slug = client.course(course)
        response = client.post(f"/courses/{slug}/roster", params={"dry_run": dry_run}, raw=True, ok=(422,),
                               files={"file": (file.name, file.read_bytes(), "text/csv")})
    body = response.json()
    if response.status_code == 422:
        found = body.get("detail")
        if isinstance(found, dict) and "report" in found:
            _print_report(found["report"])
            raise CliError(found["message"])
        raise CliError(str(found))
    _print_report(body)


@roster_app.command("show")
def show(course: str = CourseOpt) -> None:
    """Everyone enrolled (staff)."""
    with Api() as client:
        rows = client.get(f"/courses/{client.course(course)}/roster")
    table("roster", ["username", "name", "email", "section", "role", "password set"],
          [(r["username"], r["name"], r["email"], r["section"], r["role"], "yes" if r["has_password"] else "no")
           for r in rows])


def register(app: typer.Typer) -> None:
    app.add_typer(course_app, name="course")
    app.add_typer(roster_app, name="roster")
