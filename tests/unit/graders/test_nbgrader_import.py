"""nbgrader material: the student version as generate_assignment makes it, test cells scored as nbgrader scores
them (errors, stderr, partial credit from the cell's value), manual cells listed for staff, checks that load."""
import json
import zipfile

import pytest
from gradeflow_graders.importers.common import ImportProblem
from gradeflow_graders.importers.nbgrader import import_nbgrader, student_version
from gradeflow_graders.nbgrader_cells import (
    GradeCell,
    GradeCellError,
    grade_cell,
    load_cell,
    score_reply,
)
from gradeflow_graders.runner import load_checks
from gradeflow_protocol.bundles import read_config

from tests.integration import nbgrader_material as material
from tests.unit.graders.otter_fakes import InProcessStudent


def test_solutions_become_stubs_and_hidden_tests_disappear():
    student = student_version(material.notebook(material.ONE))
    sources = [c["source"] for c in student["cells"]]
    assert sources[2] == "def square(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert sources[3] == "assert square(3) == 9"
    assert sources[6] == "YOUR ANSWER HERE"  # a manually graded markdown answer, whole cell
    assert all(c.get("outputs", []) == [] for c in student["cells"])


def test_nested_or_unclosed_regions_are_refused():
    with pytest.raises(ImportProblem, match="without"):
        student_version(material.notebook([material.cell("code", "### BEGIN SOLUTION\nx = 1", grade_id="a",
                                                         solution=True)]))


@pytest.mark.parametrize(("reply", "score"), [
    ({"error": None, "value": None, "stderr": False}, 3),
    ({"error": "AssertionError", "value": None, "stderr": False}, 0),
    ({"error": None, "value": None, "stderr": True}, 0),
    ({"error": None, "value": "2", "stderr": False}, 2),
    ({"error": None, "value": "1.5", "stderr": False}, 1.5),
    ({"error": None, "value": "'done'", "stderr": False}, 3),  # not a number: full credit
    ({"error": None, "value": "-1", "stderr": False}, 3),  # negative: nbgrader gives full credit
])
def test_a_test_cell_scores_as_nbgrader_determine_grade(reply, score):
    assert score_reply(reply, 3)[0] == score


def test_the_source_cell_runs_in_the_kernel_with_its_own_error_handling():
    cell = GradeCell(notebook="one.ipynb", grade_id="t", points=2,
                     source="assert square(3) == 9\nassert square(-4) == 16")
    assert grade_cell(cell, InProcessStudent("def square(x):\n    return x * x\n")).fraction == 1
    # replacing IPython's showtraceback hides nothing here: the runner catches the error itself
    wrong = grade_cell(cell, InProcessStudent("def square(x):\n    return x * abs(x)\nshowtraceback = None\n"))
    assert wrong.fraction == 0 and "AssertionError" in wrong.message
    partial = GradeCell(notebook="one.ipynb", grade_id="p", points=3, source="x = 1\nx + 1")
    assert grade_cell(partial, InProcessStudent()).fraction == pytest.approx(2 / 3)


def test_an_nbgrader_folder_imports_with_manual_cells_left_to_staff(tmp_path):
    source = material.source_folder(tmp_path)
    report = import_nbgrader(source, tmp_path / "dest")
    dest = tmp_path / "dest"
    config = read_config(dest)
    assert config.points == 8 and "in-kernel tests" in (dest / "assignment.toml").read_text()  # 2 + 3 + 1 + 1 + 1
    assert config.notebooks == ["one.ipynb", "two.ipynb"] and config.accepted_extensions() == [".zip"]
    assert [(s.name, s.points) for s in load_checks(dest / "checks")] == [
        ("one.ipynb: test_square", 2), ("one.ipynb: test_mean", 3), ("two.ipynb: test_words", 1),
        ("two.ipynb: test_fresh", 1), ("two.ipynb: test_stderr", 1)]
    assert any("explain" in line for line in report.not_converted)
    assert "| one.ipynb | explain | 2 |" in (dest / "README.md").read_text()
    assert json.loads((dest / "nbgrader_source" / "one.ipynb").read_text()) == material.notebook(material.ONE)
    with pytest.raises(GradeCellError, match="worth 2 points but its check says 3"):
        load_cell(dest / "nbgrader_source" / "one.ipynb", "test_square", points=3)


def test_several_notebooks_become_one_zip_assignment_with_a_plan_per_notebook(tmp_path):
    import_nbgrader(material.source_folder(tmp_path), tmp_path / "dest")
    dest = tmp_path / "dest"
    with zipfile.ZipFile(dest / "starter.zip") as starter:
        assert sorted(starter.namelist()) == ["one.ipynb", "two.ipynb"]
        assert json.loads(starter.read("two.ipynb")) == student_version(material.notebook(material.TWO))
    with zipfile.ZipFile(dest / "solution.zip") as solution:
        assert "### BEGIN SOLUTION" in json.dumps(json.loads(solution.read("one.ipynb")))
    plan = json.loads((dest / "notebooks.json").read_text())["notebooks"]
    assert [(p["file"], p["checks"]) for p in plan] == [
        ("one.ipynb", ["one.ipynb: test_square", "one.ipynb: test_mean"]),
        ("two.ipynb", ["two.ipynb: test_words", "two.ipynb: test_fresh", "two.ipynb: test_stderr"])]
    assert [c["grade_id"] for c in plan[1]["restore"]["cells"]] == ["limits", "test_words", "test_fresh", "test_stderr"]
    assert "setup" in [c["grade_id"] for c in plan[0]["restore"]["cells"]]
    assert not (dest / "restore_cells.json").exists() and not (dest / "starter.ipynb").exists()
    # the reference zip passes the upload check the API applies (both notebooks, under their names)
    from gradeflow_core.uploads import check_upload

    checked = check_upload(filename="solution.zip", data=(dest / "solution.zip").read_bytes(), accepted=[".zip"],
                           max_bytes=10**7, notebooks=read_config(dest).notebooks)
    assert checked.filename == "solution.zip"


def test_one_notebook_stays_a_notebook_assignment(tmp_path):
    (tmp_path / "ps").mkdir()
    (tmp_path / "ps" / "one.ipynb").write_text(json.dumps(material.notebook(material.ONE)))
    import_nbgrader(tmp_path / "ps", tmp_path / "dest")
    config = read_config(tmp_path / "dest")
    assert config.notebooks == [] and config.accepted_extensions() == [".ipynb", ".zip"]
    assert [s.name for s in load_checks(tmp_path / "dest" / "checks")] == ["test_square", "test_mean"]
    assert (tmp_path / "dest" / "starter.ipynb").is_file() and (tmp_path / "dest" / "restore_cells.json").is_file()


def test_a_folder_without_test_cells_is_refused(tmp_path):
    (tmp_path / "ps").mkdir()
    (tmp_path / "ps" / "a.ipynb").write_text(json.dumps(material.notebook([material.cell("code", "x = 1")])))
    with pytest.raises(ImportProblem, match="no autograder test cells"):
        import_nbgrader(tmp_path / "ps", tmp_path / "dest")


def test_an_edited_or_deleted_test_cell_is_noticed_and_the_original_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    cell = GradeCell(notebook="one.ipynb", grade_id="test_square", points=2,
                     source="assert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-4) == 16\n### END HIDDEN TESTS")
    student_copy = student_version(material.notebook(material.ONE))
    wrong = "def square(x):\n    return 0\n"
    (tmp_path / "hw.ipynb").write_text(json.dumps(student_copy))
    assert grade_cell(cell, InProcessStudent(wrong)).message == "The test cell failed: AssertionError"
    student_copy["cells"][3]["source"] = "pass"
    (tmp_path / "hw.ipynb").write_text(json.dumps(student_copy))
    verdict = grade_cell(cell, InProcessStudent(wrong))
    assert verdict.fraction == 0 and verdict.message.endswith("Your copy of this test cell was changed; the original test ran.")
    del student_copy["cells"][3]
    (tmp_path / "hw.ipynb").write_text(json.dumps(student_copy))
    assert "no longer has this test cell" in grade_cell(cell, InProcessStudent(wrong)).message
