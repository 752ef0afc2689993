"""Assignments: `gradeflow assignment validate|publish|list|versions|activate`."""
from __future__ import annotations

from pathlib import Path

import typer

from gradeflow_protocol.enums import VersionState

from gradeflow_cli.app import CliError, GradeflowTyper, out
from gradeflow_cli.client import Api
from gradeflow_cli.courses import CourseOpt
from gradeflow_cli.importing import import_app
from gradeflow_cli.render import moment, plural, score, table, wait_for
from gradeflow_cli.validate import validate

assignment_app = GradeflowTyper(help="Write, check, publish and activate assignments.")
assignment_app.command("validate")(validate)
assignment_app.add_typer(import_app, name="import")
FolderArg = typer.Argument(..., exists=True, file_okay=False, help="the assignment folder (has assignment.toml)")


def _pack(folder: Path) -> bytes:
    from gradeflow_core.bundle_lint import lint_folder
    from gradeflow_protocol.bundles import BundleError, pack

    try:
        lint_folder(folder)
        return pack(folder)
    except BundleError as exc:
        raise CliError(f"{folder} is not ready to publish: {exc}") from None


def print_runs(version: dict) -> None:
    table(f"validation of {version['assignment']} {version['sha256'][:12]}",
          ["file", "expected", "got", "", "what failed"],
          [(r["label"], score(r["expected"]), score(r["score"]), "ok" if r["matches"] else r["status"],
            r["error"] or "; ".join(r["failed_checks"])[:300]) for r in version["runs"]])


def _final_runs(version: dict) -> tuple[int, int]:
    return sum(r["status"] in ("graded", "failed") for r in version["runs"]), len(version["runs"])


@assignment_app.command("publish")
def publish(folder: Path = FolderArg, course: str = CourseOpt,
            activate: bool = typer.Option(False, "--activate", help="make it official as soon as it validates "
                                                                    "(a first version always is)"),
            wait: bool = typer.Option(True, "--wait/--no-wait", help="wait for the validation runs"),
            timeout: float = typer.Option(600, help="seconds to wait")) -> None:
    """Publish FOLDER as a new version; the server grades its reference and known-wrong files in the sandbox."""
    data = _pack(folder)
    with Api() as client:
        slug = client.course(course)
        version = client.post(f"/courses/{slug}/assignments", data={"activate_when_ready": str(activate).lower()},
                              files={"bundle": (f"{folder.name}.tar.gz", data, "application/gzip")})
        out.print(f"published {version['assignment']} version {version['sha256'][:12]} ({version['state']})")
        path = f"/assignments/{version['assignment_id']}/versions/{version['sha256']}"
        if wait and version["state"] == VersionState.VALIDATING:
            version = wait_for(lambda: client.get(path), describe="validating", progress=_final_runs,
                               finished=lambda v: v["state"] != VersionState.VALIDATING, timeout=timeout)
    _conclude(version, slug)


def _conclude(version: dict, course: str) -> None:
    if version["runs"]:
        print_runs(version)
    if version["state"] == VersionState.BROKEN:
        raise CliError("the version is broken and cannot be used:\n  - " + "\n  - ".join(version["problems"]))
    if version["state"] == VersionState.VALIDATING:
        out.print(f"still validating; see `gradeflow assignment versions {version['assignment']} --course {course}`")
    elif version["current"]:
        out.print(f"version {version['sha256'][:12]} is ready and official: new submissions are graded against it")
    else:
        out.print(f"version {version['sha256'][:12]} is ready. See what it changes for students: `gradeflow regrade "
                  f"{version['assignment']} --course {course} --version {version['sha256'][:12]}`")


@assignment_app.command("list")
def list_assignments(course: str = CourseOpt) -> None:
    """The course's assignments, published or not (staff)."""
    with Api() as client:
        rows = client.get(f"/courses/{client.course(course)}/assignments")
    table("assignments", ["id", "slug", "title", "points", "official version", "versions", "due"],
          [(a["id"], a["slug"], a["title"], score(a["max_score"]), (a["current_version"] or "-")[:12], a["versions"],
            moment(a["due_at"])) for a in rows])


def _assignment_get(assignment: str, course: str, what: str) -> tuple[dict, list[dict]]:
    """(the assignment, GET /assignments/{id}/{what}) for a slug in a course."""
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        return found, client.get(f"/assignments/{found['id']}/{what}")


@assignment_app.command("versions")
def versions(assignment: str, course: str = CourseOpt) -> None:
    """An assignment's versions and their validation (staff)."""
    found, rows = _assignment_get(assignment, course, "versions")
    table(f"versions of {found['slug']}", ["version", "state", "official", "published", "problems"],
          [(v["sha256"][:12], v["state"], "yes" if v["current"] else "", moment(v["created_at"]),
            "; ".join(v["problems"])[:300]) for v in rows])


@assignment_app.command("history")
def history(assignment: str, course: str = CourseOpt) -> None:
    """Who made which version official, when and why, newest first (staff)."""
    found, rows = _assignment_get(assignment, course, "activations")
    table(f"official versions of {found['slug']}", ["when", "version", "before", "who", "how"],
          [(moment(e["at"]), e["version"][:12], (e["previous_version"] or "-")[:12], e["by"] or "the service",
            e["text"]) for e in rows])


@assignment_app.command("activate")
def activate(assignment: str, version: str, course: str = CourseOpt,
             regrade: int = typer.Option(None, "--regrade", help="the regrade whose results to adopt "
                                                                 "(default: the newest of this version)"),
             skip_regrade: bool = typer.Option(False, "--skip-regrade", help="adopt no regrade results"),
             force: bool = typer.Option(False, "--force", help="even with unfinished re-runs or newer submissions"),
             ) -> None:
    """Make VERSION the official one (staff)."""
    with Api() as client:
        found = client.assignment(client.course(course), assignment)
        done = client.post(f"/assignments/{found['id']}/versions/{version}/activate",
                           json={"regrade_run_id": regrade, "skip_regrade": skip_regrade, "force": force})
    print_activation(found["slug"], done)


def print_activation(slug: str, done: dict) -> None:
    adopted = f"; {plural(done['adopted'], 'submission')} updated from regrade {done['regrade_run_id']}" \
        if done["regrade_run_id"] else ""
    kept = f"; {plural(done['kept'], 'submission')} kept the previous score (re-run failed or unfinished)" \
        if done["kept"] else ""
    out.print(f"{slug} version {done['version'][:12]} is now official{adopted}{kept}")
