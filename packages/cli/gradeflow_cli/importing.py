"""`gradeflow assignment import otter|nbgrader SOURCE DEST`: a course's existing material as a gradeflow folder."""
from __future__ import annotations

from pathlib import Path

import typer
from gradeflow_graders.importers.common import ImportProblem, ImportReport

from gradeflow_cli.app import CliError, GradeflowTyper, out

import_app = GradeflowTyper(help="Bring otter-grader or nbgrader material as an ordinary assignment folder.")
SourceArg = typer.Argument(..., exists=True, help="what to import")
DestArg = typer.Argument(..., help="the new assignment folder (must not exist or be empty)")


def _print(report: ImportReport, dest: Path) -> None:
    for line in report.lines():
        out.print(line, markup=False, highlight=False)
    out.print(f"wrote {dest}; next: gradeflow assignment validate {dest}", markup=False, highlight=False)


@import_app.command("otter")
def otter(source: Path = SourceArg, dest: Path = DestArg,
          otter_cmd: str = typer.Option("otter", "--otter", help="the otter executable (for a master notebook)")
          ) -> None:
    """SOURCE: a folder with tests/ (OK-format or exception-based), an autograder zip, or an otter assign master
    notebook."""
    from gradeflow_graders.importers.otter import import_otter

    try:
        report = import_otter(source, dest, otter=otter_cmd)
    except ImportProblem as exc:
        raise CliError(str(exc)) from None
    _print(report, dest)


@import_app.command("nbgrader")
def nbgrader(source: Path = SourceArg, dest: Path = DestArg) -> None:
    """SOURCE: an nbgrader source assignment folder (source/ASSIGNMENT: notebooks with nbgrader cell metadata)."""
    from gradeflow_graders.importers.nbgrader import import_nbgrader

    try:
        report = import_nbgrader(source, dest)
    except ImportProblem as exc:
        raise CliError(str(exc)) from None
    _print(report, dest)
