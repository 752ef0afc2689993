"""Imported material through the real stack: `gradeflow assignment import`, `publish` (the API queues the reference
for validation; the worker grades it in bubblewrap), then a student's upload graded question by question.

Covers an otter master notebook, an otter autograder zip, an exception-based otter folder (also submitted as a
zip whose notebook imports a `student_file.py` shipped beside it; hostile zips refused at upload) and an nbgrader
assignment with two notebooks (one zip, each notebook in a fresh kernel). The expected per-question scores are the ones otter 7.0.0 and nbgrader 0.9.6 give
this material (asserted against the tools themselves in test_otter_equivalence.py / test_nbgrader_equivalence.py).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
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


def nbgrader_zip(release: dict[str, dict], answers: dict[str, tuple]) -> bytes:
    """A student's zip of the notebooks named in `answers`, each answered from its release version."""
    return make_zip([(name, json.dumps(nbgrader_material.answered(release[name], *answers[name])))
                     for name in answers])


def test_an_nbgrader_assignment_with_two_notebooks(stack, homes, tmp_path):
    source = nbgrader_material.source_folder(tmp_path)
    two = json.loads((source / "two.ipynb").read_text())  # its stderr test scores 0 even for the reference
    two["cells"] = [c for c in two["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "test_stderr"]
    (source / "two.ipynb").write_text(json.dumps(two))
    folder = tmp_path / "nb"
    done = cli(stack, "ta1", "assignment", "import", "nbgrader", str(source), str(folder), homes=homes)
    assert "2 notebooks became one assignment" in done.stdout and "explain" in done.stdout
    validated = cli(stack, "ta1", "assignment", "validate", str(folder), homes=homes, timeout=400)
    assert "ready to publish" in validated.stdout, validated.stdout
    publish(stack, homes, folder)
    with zipfile.ZipFile(folder / "starter.zip") as starter:
        release = {name: json.loads(starter.read(name)) for name in starter.namelist()}
    one, two_answers = nbgrader_material.SUBMISSIONS_ONE, nbgrader_material.SUBMISSIONS_TWO
    body = stack.grade("ps1.zip", nbgrader_zip(release, {"one.ipynb": one["partial"], "two.ipynb": two_answers["full"]}),
                       slug="ps1")
    assert body["status"] == "graded", body
    assert {c["name"]: c["score"] for c in body["checks"]} == pytest.approx(
        {"one.ipynb: test_square": 2.0, "one.ipynb: test_mean": 2.0, "two.ipynb: test_words": 1.0,
         "two.ipynb: test_fresh": 1.0}), body  # nbgrader's scores (test_nbgrader_equivalence.py)
    # an edited test cell in one notebook and an edited locked cell in the other: each restored in its own run
    body = stack.grade("ps1.zip", nbgrader_zip(release, {"one.ipynb": one["edited-test"],
                                                         "two.ipynb": two_answers["edited-locked"]}), slug="ps1")
    scores = {c["name"]: c["score"] for c in body["checks"]}
    assert scores["one.ipynb: test_square"] == 0 and scores["two.ipynb: test_words"] == 0, body
    assert "Your copy of this test cell was changed" in body["checks"][0]["message"]
    assert "(edited: limits)" in json.dumps(body) and "two.ipynb" in json.dumps(body)
    # a notebook left out: its test cells score 0, and the message names it
    body = stack.grade("ps1.zip", nbgrader_zip(release, {"one.ipynb": one["full"]}), slug="ps1")
    missing = [c for c in body["checks"] if c["name"].startswith("two.ipynb: ")]
    assert missing and all(c["score"] == 0 and "no two.ipynb" in c["message"] for c in missing), body
    # refused at upload, nothing stored: a notebook that is not one of the assignment's, and a lone notebook
    stranger = make_zip([("one.ipynb", json.dumps(release["one.ipynb"])), ("three.ipynb", json.dumps(release["one.ipynb"]))])
    refused = stack.submit("ps1.zip", stranger, slug="ps1")
    assert refused.status_code == 422 and "'three.ipynb' is not one of this assignment's notebooks" in refused.text
    assert stack.submit("one.ipynb", json.dumps(release["one.ipynb"]).encode(), slug="ps1").status_code == 422


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
