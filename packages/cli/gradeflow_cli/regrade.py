"""`gradeflow regrade ASSIGNMENT`: re-run students' counted work on a version, show the diff, then activate."""
from __future__ import annotations

import sys

import typer

from gradeflow_protocol.enums import VersionState

from gradeflow_cli.app import CliError, out
from gradeflow_cli.assignments import print_activation
from gradeflow_cli.client import Api
from gradeflow_cli.courses import CourseOpt
from gradeflow_cli.render import plural, score, table, wait_for


def _default_version(client: Api, assignment: dict) -> str:
    """The newest ready version that is not official yet, else the official one (a plain re-run)."""
    versions = client.get(f"/assignments/{assignment['id']}/versions")
    for version in versions:
        if version["state"] == VersionState.READY and not version["current"]:
            return version["sha256"]
    if assignment["current_version"]:
        return assignment["current_version"]
    raise CliError(f"{assignment['slug']} has no ready version; publish one first.")


def print_diff(run: dict) -> None:
    rows = sorted(run["students"], key=lambda s: (-abs(s["delta"]), s["username"]))
    table(f"regrade {run['id']} against {run['version'][:12]}", ["student", "before", "after", "change", "state", ""],
          [(s["username"], score(s["before"]), score(s["after"]), f"{s['delta']:+g}" if s["delta"] else "0",
            s["state"], "manual score in force" if s["overridden"] else "") for s in rows])
    same = run["done"] - run["up"] - run["down"]
    out.print(f"{plural(run['total'], 'student')}: {run['up']} up, {run['down']} down, {same} unchanged, "
              f"{run['failed']} failed, {run['pending']} pending")


def _decide(client: Api, assignment: dict, run: dict, *, yes: bool, activate: bool, course: str) -> None:
    command = (f"gradeflow assignment activate {assignment['slug']} {run['version'][:12]} --regrade {run['id']} "
               f"--course {course}")
    if run["activated_at"]:
        out.print("this regrade was already made official")
        return
    if not activate:
        out.print(f"nothing changed for students yet; to make it official: {command}")
        return
    if not yes and not (sys.stdin.isatty() and typer.confirm(f"Make version {run['version'][:12]} official and "
                                                             "update these students' scores?")):
        out.print(f"not activated; to make it official later: {command}")
        return
    done = client.post(f"/assignments/{assignment['id']}/versions/{run['version']}/activate",
                       json={"regrade_run_id": run["id"]})
    print_activation(assignment["slug"], done)


def regrade(assignment: str = typer.Argument(..., help="the assignment's slug or id"), course: str = CourseOpt,
            version: str = typer.Option(None, "--version", help="version hash or prefix (default: the newest "
                                                               "ready one not yet official)"),
            run_id: int = typer.Option(None, "--run", help="show (and wait for) an existing regrade instead"),
            yes: bool = typer.Option(False, "--yes", "-y", help="activate without asking"),
            activate: bool = typer.Option(True, "--activate/--no-activate", help="offer to make the version "
                                                                                 "official after the diff"),
            timeout: float = typer.Option(1800, help="seconds to wait for the re-runs")) -> None:
    """Re-run every student's counted submission on a version; print who goes up or down; then activate."""
    with Api() as client:
        slug = client.course(course)
        found = client.assignment(slug, assignment)
        if run_id is None:
            target = version or _default_version(client, found)
            run_id = client.post(f"/assignments/{found['id']}/versions/{target}/regrade")["id"]
            out.print(f"regrade {run_id} started")
        run = wait_for(lambda: client.get(f"/regrades/{run_id}"), describe="re-running",
                       progress=lambda r: (r["done"] + r["failed"], r["total"]), finished=lambda r: r["pending"] == 0,
                       timeout=timeout)
        print_diff(run)
        _decide(client, found, run, yes=yes, activate=activate, course=slug)


def register(app: typer.Typer) -> None:
    app.command("regrade")(regrade)
