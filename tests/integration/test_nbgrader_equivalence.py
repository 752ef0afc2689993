"""gradeflow's scores equal nbgrader 0.9.6's own, grade cell by grade cell, and the starter equals nbgrader's
release version.

nbgrader==0.9.6 is installed from PyPI into its own venv (var/nbgrader-venv-0.9.6, kept for the next run). The
material (tests/integration/nbgrader_material.py) is released and autograded by nbgrader itself (`nbgrader
generate_assignment`, `nbgrader autograde`, scores read from its gradebook), imported with `gradeflow assignment
import nbgrader`, and graded by gradeflow's harness in real bubblewrap sandboxes.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from gradeflow_graders.importers.nbgrader import import_nbgrader

from tests.conftest import require
from tests.tool_venvs import nbgrader_venv
from tests.integration import nbgrader_material as material
from tests.integration.test_otter_equivalence import by_question, gradeflow_result

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.timeout(1800)]

READ_GRADES = """
import json, sys
from nbgrader.api import Gradebook
gb = Gradebook("sqlite:///gradebook.db")
out = {}
for student in json.loads(sys.argv[1]):
    for nb in ("one", "two"):
        sub = gb.find_submission_notebook(nb, "ps1", student)
        out[f"{student}/{nb}"] = {g.name: g.score for g in sub.grades if g.auto_score is not None or g.cell_type == "code"}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def nbgrader() -> Path:
    return nbgrader_venv()


def run(bin_dir: Path, *args: str, cwd: Path) -> str:
    env = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}"}  # nbgrader runs `alembic` and kernels from PATH
    done = subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=900, check=False, env=env)
    assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-6000:])
    return done.stdout


SUBMISSIONS = {f"{name}": (one, material.SUBMISSIONS_TWO["full" if name != "unanswered" else "wrong"])
               for name, one in material.SUBMISSIONS_ONE.items()}


@pytest.fixture(scope="module")
def graded(nbgrader, tmp_path_factory):
    """nbgrader's release and its autograded scores for every submission, and the imported gradeflow folders."""
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    course = tmp_path_factory.mktemp("nbgrader-course")
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'course'\n")
    source = material.source_folder(course / "source")
    run(nbgrader, "nbgrader", "generate_assignment", "ps1", "--create", "--force", cwd=course)
    release = {nb: json.loads((course / "release" / "ps1" / f"{nb}.ipynb").read_text()) for nb in ("one", "two")}
    students = {}
    for name, (one, two) in SUBMISSIONS.items():
        student = name.replace("-", "_")
        folder = course / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        for nb, (answers, edits) in (("one", one), ("two", two)):
            (folder / f"{nb}.ipynb").write_text(json.dumps(material.answered(release[nb], answers, edits)))
        students[name] = student
    run(nbgrader, "nbgrader", "autograde", "ps1", "--create", "--force", cwd=course)
    scores = json.loads(run(nbgrader, "python", "-c", READ_GRADES, json.dumps(list(students.values())), cwd=course))
    dest = course / "gradeflow"
    report = import_nbgrader(source, dest)
    return release, scores, students, dest, report, course


def test_the_starter_is_nbgraders_release_version(graded):
    release, _, _, dest, _, _ = graded
    for nb in ("one", "two"):
        ours = json.loads((dest / nb / "starter.ipynb").read_text())
        theirs = [("".join(c["source"]) if isinstance(c["source"], list) else c["source"]) for c in release[nb]["cells"]]
        assert [c["source"] for c in ours["cells"]] == theirs
        assert all("BEGIN SOLUTION" not in s and "HIDDEN" not in s for s in theirs)


def test_manual_cells_go_to_staff_not_to_zero(graded):
    _, _, _, dest, report, _ = graded
    assert any("explain" in line and "not scored automatically" in line for line in report.not_converted)
    assert "| explain | 2 |" in (dest / "one" / "README.md").read_text()
    assert "points = 5\n" in (dest / "one" / "assignment.toml").read_text()  # 2 + 3 automatic; explain is manual


@pytest.mark.parametrize("name", sorted(SUBMISSIONS))
def test_scores_equal_nbgraders_cell_by_cell(graded, tmp_path, name):
    release, scores, students, dest, _, _ = graded
    one, two = SUBMISSIONS[name]
    for nb, (answers, edits) in (("one", one), ("two", two)):
        expected = {k: v for k, v in scores[f"{students[name]}/{nb}"].items() if k.startswith("test_")}
        cells = material.answered(release[nb], answers, edits)["cells"]
        result = gradeflow_result(dest / nb, cells, tmp_path / nb, 7)
        assert by_question(result) == pytest.approx(expected), (name, nb, [c.message for c in result.checks])
    if name == "partial":
        assert scores[f"{students[name]}/one"]["test_mean"] == 2  # the cell's value, not all or nothing
    if name == "edited-test":
        assert scores[f"{students[name]}/one"]["test_square"] == 0  # the edit gained nothing, in either
    if name == "edited-locked":  # the locked cell came back before the student's cells ran, in both
        assert scores[f"{students[name]}/one"]["test_square"] == 2
        cells = material.answered(release["one"], *one)["cells"]
        result = gradeflow_result(dest / "one", cells, tmp_path / "again", 7)
        assert "Locked cells of the assignment were changed" in result.run.message and "edited: setup" in result.run.message
        assert "locked cell setup edited by the student (checksum " in result.log
