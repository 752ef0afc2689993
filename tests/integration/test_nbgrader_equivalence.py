"""gradeflow's scores equal nbgrader 0.9.6's own, grade cell by grade cell, and the starter equals nbgrader's
release version.

nbgrader==0.9.6 is installed from PyPI into its own venv (var/nbgrader-venv-0.9.6, kept for the next run). The
material (tests/integration/nbgrader_material.py) is released and autograded by nbgrader itself (`nbgrader
generate_assignment`, `nbgrader autograde`, scores read from its gradebook), imported with `gradeflow assignment
import nbgrader`: its two notebooks become one assignment, graded from a zip of both by gradeflow's harness in real
bubblewrap sandboxes, each notebook in a fresh kernel as nbgrader's autograde runs it.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from gradeflow_graders.importers.nbgrader import import_nbgrader
from gradeflow_protocol.bundles import read_config
from gradeflow_protocol.enums import SubmissionKind
from gradeflow_protocol.messages import JobSpec, Limits

from tests.conftest import require
from tests.integration import nbgrader_material as material
from tests.integration.test_otter_equivalence import by_question
from tests.tool_venvs import nbgrader_venv
from tests.zips import make_zip

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
SUBMISSIONS["two-edited-locked"] = (material.SUBMISSIONS_ONE["full"], material.SUBMISSIONS_TWO["edited-locked"])


def gradeflow_zip_result(folder: Path, notebooks: dict[str, dict], tmp_path: Path, number: int):
    """The assignment of several notebooks graded from a zip of them by the harness in bubblewrap."""
    from gradeflow_worker.harness import HarnessConfig, grade
    from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox
    from gradeflow_worker.settings import WorkerSettings

    data = make_zip([(name, json.dumps(nb)) for name, nb in notebooks.items()])
    job = JobSpec(submission_id=number, attempt=1, kind=SubmissionKind.NOTEBOOK, filename="ps1.zip",
                  submission_sha256=hashlib.sha256(data).hexdigest(), bundle_sha256="0" * 64,
                  assignment_slug=read_config(folder).id, limits=Limits(time_limit_s=120, cell_timeout_s=8,
                                                                        check_timeout_s=30, memory_mb=1024),
                  seed=1, environment="default")
    config = HarnessConfig(run_dir=tmp_path / "runs", python=sys.executable,
                           environments_dir=WorkerSettings().environments_path)
    return grade(job, submission=data, bundle_dir=folder, sandbox=BubblewrapSandbox(), config=config)


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
    with zipfile.ZipFile(dest / "starter.zip") as starter:
        assert sorted(starter.namelist()) == ["one.ipynb", "two.ipynb"]
        for nb in ("one", "two"):
            ours = json.loads(starter.read(f"{nb}.ipynb"))
            theirs = [("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                      for c in release[nb]["cells"]]
            assert [c["source"] for c in ours["cells"]] == theirs
            assert all("BEGIN SOLUTION" not in s and "HIDDEN" not in s for s in theirs)


def test_manual_cells_go_to_staff_not_to_zero(graded):
    _, _, _, dest, report, _ = graded
    assert any("explain" in line and "not scored automatically" in line for line in report.not_converted)
    assert "| one.ipynb | explain | 2 |" in (dest / "README.md").read_text()
    assert "points = 8\n" in (dest / "assignment.toml").read_text()  # 2 + 3 + 1 + 1 + 1 automatic; explain is manual


@pytest.mark.parametrize("name", sorted(SUBMISSIONS))
def test_scores_equal_nbgraders_cell_by_cell(graded, tmp_path, name):
    """Both notebooks in one zip, each run in a fresh kernel: every grade cell scores what nbgrader's autograde
    gave it (test_fresh in two.ipynb passes only if nothing of one.ipynb is defined there)."""
    release, scores, students, dest, _, _ = graded
    notebooks = {f"{nb}.ipynb": material.answered(release[nb], *answers)
                 for nb, answers in zip(("one", "two"), SUBMISSIONS[name])}
    result = gradeflow_zip_result(dest, notebooks, tmp_path, 7)
    expected = {f"{nb}.ipynb: {cell}": score for nb in ("one", "two")
                for cell, score in scores[f"{students[name]}/{nb}"].items() if cell.startswith("test_")}
    assert by_question(result) == pytest.approx(expected), (name, [c.message for c in result.checks], result.log[-3000:])
    assert expected["two.ipynb: test_fresh"] == 1  # nbgrader's kernels are fresh, and so are gradeflow's
    if name == "partial":
        assert scores[f"{students[name]}/one"]["test_mean"] == 2  # the cell's value, not all or nothing
    if name == "edited-test":
        assert scores[f"{students[name]}/one"]["test_square"] == 0  # the edit gained nothing, in either
    if name == "edited-locked":  # the locked cell came back before the student's cells ran, in both
        assert scores[f"{students[name]}/one"]["test_square"] == 2
        first, second = result.run.message.split("two.ipynb: ")
        assert first.startswith("one.ipynb: ") and "Locked cells of the assignment were changed" in first
        assert "edited: setup" in first and "Locked cells" not in second and "locked cell setup edited by the student (checksum " in result.log
    if name == "two-edited-locked":  # the second notebook's own locked cell, restored in its own run
        assert scores[f"{students[name]}/two"]["test_words"] == 0
        first, second = result.run.message.split("two.ipynb: ")
        assert "Locked cells" not in first and "Locked cells" in second and "edited: limits" in second


def test_a_missing_notebook_scores_zero_and_says_which(graded, tmp_path):
    release, _, _, dest, _, _ = graded
    one = material.answered(release["one"], *material.SUBMISSIONS_ONE["full"])
    result = gradeflow_zip_result(dest, {"one.ipynb": one}, tmp_path, 8)
    scores = by_question(result)
    assert scores["one.ipynb: test_square"] == 2 and scores["one.ipynb: test_mean"] == 3
    missing = [c for c in result.checks if c.name.startswith("two.ipynb: ")]
    assert len(missing) == 3 and all(c.score == 0 and "has no two.ipynb" in c.message for c in missing)
