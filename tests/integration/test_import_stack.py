"""Imported material through the real stack: `gradeflow assignment import`, `publish` (the API queues the reference
for validation; the worker grades it in bubblewrap), then a student's upload graded question by question.

Covers an otter master notebook, an otter autograder zip, an exception-based otter folder (also submitted as a
zip whose notebook imports a `student_file.py` shipped beside it; hostile zips refused at upload) and an nbgrader
assignment with two notebooks. The expected per-question scores are the ones otter 7.0.0 and nbgrader 0.9.6 give
this material (asserted against the tools themselves in test_otter_equivalence.py / test_nbgrader_equivalence.py).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import require
from tests.integration import nbgrader_material, otter_material
from tests.integration.test_cli import cli, login
from tests.stack import start_stack
from tests.tool_venvs import otter_venv
from tests.zips import hostile_zips, make_zip

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[2]
# otter's scores for otter_material.SUBMISSIONS["partial"] (q1 loses its hidden case, q2 its 2-point hidden case,
# q3 all-or-nothing, q4 its public case) and nbgrader's for the "partial" submission of nbgrader_material
PARTIAL_OTTER = {"q1": 1.0, "q2": 1.0, "q3": 0.0, "q4": 1.5}
PARTIAL_EXCEPTION = {"q1": 1.0, "q2": 0.0}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_stack(tmp_path_factory.mktemp("import"), redis_url=redis_url.rsplit("/", 1)[0] + "/8")
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    return tmp_path_factory.mktemp("import-homes")


def publish(stack, homes, folder: Path) -> str:
    login(stack, "ta1", homes)
    done = cli(stack, "ta1", "assignment", "publish", str(folder), "--course", "mathdl", homes=homes, timeout=400)
    assert " ok " in done.stdout and "MISMATCH" not in done.stdout, done.stdout
    return done.stdout


def grade(stack, slug: str, cells: list[dict]) -> dict[str, float]:
    data = json.dumps(otter_material.notebook(cells)).encode()
    body = stack.grade("hw.ipynb", data, slug=slug)
    assert body["status"] == "graded", body
    return {c["name"]: c["score"] for c in body["checks"]}


def test_an_otter_master_notebook(stack, homes, tmp_path):
    otter = otter_venv()  # built here when this file runs first
    master = otter_material.master(tmp_path / "hw.ipynb")
    folder = tmp_path / "master"
    cli(stack, "ta1", "assignment", "import", "otter", str(master), str(folder), "--otter", str(otter), homes=homes)
    publish(stack, homes, folder)
    assert grade(stack, "hw", otter_material.SUBMISSIONS["partial"]) == pytest.approx(PARTIAL_OTTER)


def test_an_otter_autograder_zip(stack, homes, tmp_path):
    otter = otter_venv()  # built here when this file runs first
    master = otter_material.master(tmp_path / "hw.ipynb")
    subprocess.run([str(otter), "assign", "--no-run-tests", "--no-pdfs", str(master), str(tmp_path / "dist")],
                   check=True, capture_output=True, cwd=tmp_path)
    autograder = max((tmp_path / "dist" / "autograder").glob("*.zip"))
    zipped = autograder.rename(tmp_path / "hwzip-autograder.zip")
    folder = tmp_path / "fromzip"
    done = cli(stack, "ta1", "assignment", "import", "otter", str(zipped), str(folder), homes=homes)
    assert "no reference solution" in done.stdout
    otter_material.write(folder / "solution.ipynb", otter_material.SUBMISSIONS["full"])
    publish(stack, homes, folder)
    assert grade(stack, "hwzip", otter_material.SUBMISSIONS["partial"]) == pytest.approx(PARTIAL_OTTER)


def test_an_exception_based_otter_folder(stack, homes, tmp_path):
    source = otter_material.exception_folder(tmp_path / "hwexc")
    folder = tmp_path / "exc"
    cli(stack, "ta1", "assignment", "import", "otter", str(source), str(folder), homes=homes)
    assert "in-kernel tests" in (folder / "assignment.toml").read_text()
    otter_material.write(folder / "solution.ipynb", otter_material.EXCEPTION_SUBMISSIONS["full"])
    publish(stack, homes, folder)
    assert grade(stack, "hwexc", otter_material.EXCEPTION_SUBMISSIONS["partial"]) == pytest.approx(PARTIAL_EXCEPTION)


def test_an_nbgrader_assignment_with_two_notebooks(stack, homes, tmp_path):
    source = nbgrader_material.source_folder(tmp_path)
    folder = tmp_path / "nb"
    done = cli(stack, "ta1", "assignment", "import", "nbgrader", str(source), str(folder), homes=homes)
    assert "2 notebooks became 2 assignments" in done.stdout and "explain" in done.stdout
    publish(stack, homes, folder / "one")
    starter = json.loads((folder / "one" / "starter.ipynb").read_text())
    answers, edits = nbgrader_material.SUBMISSIONS_ONE["partial"]
    cells = nbgrader_material.answered(starter, answers, edits)["cells"]
    assert grade(stack, "ps1-one", cells) == pytest.approx({"test_square": 2.0, "test_mean": 2.0})
    answers, edits = nbgrader_material.SUBMISSIONS_ONE["edited-test"]
    cells = nbgrader_material.answered(starter, answers, edits)["cells"]
    body = stack.grade("hw.ipynb", json.dumps(otter_material.notebook(cells)).encode(), slug="ps1-one")
    assert {c["name"]: c["score"] for c in body["checks"]} == pytest.approx({"test_square": 0.0, "test_mean": 3.0})
    assert "Your copy of this test cell was changed; the original test ran." in body["checks"][0]["message"]
    assert "changed" not in body["checks"][1]["message"]
    # a locked setup cell edited: restored before the student's cells ran (as nbgrader does), said in the message
    answers, edits = nbgrader_material.SUBMISSIONS_ONE["edited-locked"]
    cells = nbgrader_material.answered(starter, answers, edits)["cells"]
    body = stack.grade("hw.ipynb", json.dumps(otter_material.notebook(cells)).encode(), slug="ps1-one")
    assert {c["name"]: c["score"] for c in body["checks"]} == pytest.approx({"test_square": 2.0, "test_mean": 3.0})
    assert "restored to the assignment's version before your code ran (edited: setup)" in json.dumps(body), body
    # two.ipynb's reference cannot score full marks (a test that writes to stderr scores 0, as in nbgrader):
    # publishing says so rather than going live
    failed = cli(stack, "ta1", "assignment", "publish", str(folder / "two"), "--course", "mathdl", homes=homes,
                 check=False, timeout=400)
    assert failed.returncode != 0


def test_a_zip_submission_with_a_student_file_and_hostile_zips_refused(stack, homes, tmp_path):
    source = otter_material.exception_folder(tmp_path / "hwzipsub")
    folder = tmp_path / "zipsub"
    cli(stack, "ta1", "assignment", "import", "otter", str(source), str(folder), homes=homes)
    assert 'accepts = [".ipynb", ".zip"]' in (folder / "assignment.toml").read_text()
    otter_material.write(folder / "solution.ipynb", otter_material.EXCEPTION_SUBMISSIONS["full"])
    publish(stack, homes, folder)
    code = otter_material.code
    cells = [code("import otter\ngrader = otter.Notebook()"), code("from student_file import square"),
             code(otter_material.RIGHT["q2"] + "\nwith open('inputs/values.txt') as fh:\n"
                  "    total = add_all([int(v) for v in fh.read().split()])")]
    book = json.dumps(otter_material.notebook(cells))
    data = make_zip([("hw/hw.ipynb", book), ("hw/student_file.py", "def square(x):\n    return x * x\n"),
                     ("hw/inputs/values.txt", "1 2 3\n")])
    body = stack.grade("hw.zip", data, slug="hwzipsub")
    assert body["status"] == "graded", body
    assert {c["name"]: c["score"] for c in body["checks"]} == pytest.approx({"q1": 3.0, "q2": 2.0}), body
    # without the student file, the import fails in the sandbox: the file really came from the zip
    bare = stack.grade("hw.zip", make_zip([("hw.ipynb", book), ("inputs/values.txt", "1 2 3")]), slug="hwzipsub")
    assert bare["checks"][0]["score"] == 0 and "student_file" in json.dumps(bare)

    before = len(httpx.get(f"{stack.base_url}/api/v1/submissions", headers=stack.headers("student1")).json())
    for name, (hostile, words) in hostile_zips().items():
        refused = stack.submit("hw.zip", hostile, slug="hwzipsub")
        assert refused.status_code in (413, 422), (name, refused.text)
        assert "The zip was refused" in refused.text and words in refused.text, (name, refused.text)
    after = len(httpx.get(f"{stack.base_url}/api/v1/submissions", headers=stack.headers("student1")).json())
    assert after == before  # nothing stored
