"""gradeflow's scores equal otter-grader 7.0.0's own, question by question.

otter-grader==7.0.0 is installed from PyPI into its own venv (var/otter-venv-7.0.0, kept: a second run reuses it;
the first takes a few minutes). The material (tests/integration/otter_material.py) is converted by otter itself
(`otter assign`, `otter generate`), graded by `otter run`, imported with `gradeflow assignment import otter`, and
graded by gradeflow's harness in real bubblewrap sandboxes.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gradeflow_graders.importers.otter import import_otter
from gradeflow_protocol.bundles import read_config
from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import JobSpec, Limits

from tests.conftest import require
from tests.tool_venvs import otter_venv
from tests.integration import otter_material as material

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def otter() -> Path:
    """otter-grader 7.0.0 in a throwaway venv of its own, built once and kept under var/."""
    return otter_venv()


def otter_scores(otter: Path, autograder: Path, notebook: Path, out: Path) -> dict[str, float]:
    out.mkdir(parents=True)
    subprocess.run([str(otter), "run", "-a", str(autograder), "-o", str(out), str(notebook)], check=True,
                   capture_output=True, timeout=600, cwd=notebook.parent)
    results = json.loads((out / "results.json").read_text())
    return {t["name"]: float(t["score"]) for t in results["tests"] if "score" in t}


def gradeflow_result(folder: Path, cells: list[dict], tmp_path: Path, number: int):
    from gradeflow_worker.harness import HarnessConfig, grade
    from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox
    from gradeflow_worker.settings import WorkerSettings

    data = json.dumps(material.notebook(cells)).encode()
    job = JobSpec(submission_id=number, attempt=1, kind=SubmissionKind.NOTEBOOK, filename="hw.ipynb",
                  submission_sha256=hashlib.sha256(data).hexdigest(), bundle_sha256="0" * 64,
                  assignment_slug=read_config(folder).id, limits=Limits(time_limit_s=120, cell_timeout_s=8,
                                                                        check_timeout_s=30, memory_mb=1024),
                  seed=1, environment="default")
    config = HarnessConfig(run_dir=tmp_path / "runs", python=sys.executable,
                           environments_dir=WorkerSettings().environments_path)
    return grade(job, submission=data, bundle_dir=folder, sandbox=BubblewrapSandbox(), config=config)


def by_question(result) -> dict[str, float]:
    return {check.name: check.score for check in result.checks}


@pytest.fixture(scope="module")
def master_material(otter, tmp_path_factory):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    root = tmp_path_factory.mktemp("otter-master")
    master = material.master(root / "hw.ipynb")
    dist = root / "dist"
    subprocess.run([str(otter), "assign", "--no-run-tests", "--no-pdfs", str(master), str(dist)], check=True,
                   capture_output=True, cwd=root)
    autograder = max((dist / "autograder").glob("*.zip"))
    folder = root / "imported"
    report = import_otter(master, folder, otter=str(otter))
    assert not [n for n in report.not_converted], report.lines()
    return autograder, folder


@pytest.mark.parametrize("name", sorted(material.SUBMISSIONS))
def test_ok_format_scores_equal_otters(master_material, otter, tmp_path, name):
    autograder, folder = master_material
    cells = material.SUBMISSIONS[name]
    expected = otter_scores(otter, autograder, material.write(tmp_path / "hw.ipynb", cells), tmp_path / "out")
    result = gradeflow_result(folder, cells, tmp_path, 1)
    assert by_question(result) == pytest.approx(expected), (name, [c.message for c in result.checks])
    if name == "full":
        assert {c.message for c in result.checks} == {f"{q} results: All test cases passed!" for q in expected}
    if name == "partial":  # partial credit, all-or-nothing, and hidden cases both ways
        assert 0 < expected["q1"] < 2 and expected["q3"] == 0 and 0 < expected["q2"] < 3


def test_an_infinite_loop_gets_a_verdict_equal_to_otter_on_the_notebook_cut_before_it(master_material, otter,
                                                                                      tmp_path):
    autograder, folder = master_material
    cut = material.write(tmp_path / "hw.ipynb", material.LOOP_CUT)
    expected = otter_scores(otter, autograder, cut, tmp_path / "out")
    result = gradeflow_result(folder, material.LOOP, tmp_path, 2)
    assert result.run.outcome is RunOutcome.TIMEOUT
    assert by_question(result) == pytest.approx(expected), [c.message for c in result.checks]
    assert expected["q1"] == 2 and expected["q3"] == 0


def test_the_solution_validates_and_the_stand_in_otter_runs_check_cells(master_material, tmp_path):
    _, folder = master_material
    result = gradeflow_result(folder, material.SUBMISSIONS["full"], tmp_path, 3)
    assert "No module named 'otter'" not in (result.output or "") + result.log
    assert "q1: the tests run when you submit on gradeflow" in (result.output or "")


@pytest.fixture(scope="module")
def exception_material(otter, tmp_path_factory):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    source = material.exception_folder(tmp_path_factory.mktemp("otter-exc") / "src")
    subprocess.run([str(otter), "generate"], check=True, capture_output=True, cwd=source)
    folder = source.parent / "imported"
    import_otter(source, folder)
    assert "in-kernel tests" in (folder / "assignment.toml").read_text()
    assert "in-kernel tests" in (folder / "README.md").read_text()
    return source / "autograder.zip", folder


@pytest.mark.parametrize("name", sorted(material.EXCEPTION_SUBMISSIONS))
def test_exception_based_scores_equal_otters(exception_material, otter, tmp_path, name):
    autograder, folder = exception_material
    cells = material.EXCEPTION_SUBMISSIONS[name]
    expected = otter_scores(otter, autograder, material.write(tmp_path / "hw.ipynb", cells), tmp_path / "out")
    result = gradeflow_result(folder, cells, tmp_path, 4)
    assert by_question(result) == pytest.approx(expected), (name, [c.message for c in result.checks])


def test_an_autograder_zip_imports_and_grades_as_otter(master_material, otter, tmp_path):
    autograder, _ = master_material
    folder = tmp_path / "from-zip"
    report = import_otter(autograder, folder)
    assert any("no reference solution" in line for line in report.not_converted)
    cells = material.SUBMISSIONS["partial"]
    expected = otter_scores(otter, autograder, material.write(tmp_path / "hw.ipynb", cells), tmp_path / "out")
    assert by_question(gradeflow_result(folder, cells, tmp_path, 5)) == pytest.approx(expected)
