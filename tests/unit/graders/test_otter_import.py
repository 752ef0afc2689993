"""`gradeflow assignment import otter`: a folder or an autograder zip becomes an ordinary assignment folder whose
checks load, one per question, with otter's points; hostile zips and unreadable tests are reported."""
import io
import json
import zipfile

import pytest
from gradeflow_graders.importers.common import ImportProblem
from gradeflow_graders.importers.otter import import_otter
from gradeflow_graders.runner import load_checks
from gradeflow_protocol.bundles import read_config

from tests.unit.graders.otter_fakes import EXCEPTION_Q2, OK_Q1, InProcessStudent

NOTEBOOK = json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "import otter"}]})


def source_folder(tmp_path, *, extra_tests=None, requirements=None):
    folder = tmp_path / "src"
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "q1.py").write_text(OK_Q1)
    (folder / "tests" / "q2.py").write_text(EXCEPTION_Q2)
    for name, text in (extra_tests or {}).items():
        (folder / "tests" / name).write_text(text)
    (folder / "hw.ipynb").write_text(NOTEBOOK)
    (folder / "files").mkdir()
    (folder / "files" / "helpers.py").write_text("def helper():\n    return 1\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[core]\n")
    if requirements:
        (folder / "requirements.txt").write_text(requirements)
    return folder


def test_a_folder_becomes_an_assignment_with_one_check_per_question(tmp_path):
    report = import_otter(source_folder(tmp_path), tmp_path / "dest")
    dest = tmp_path / "dest"
    config = read_config(dest)
    assert (config.points, config.environment) == (7, "default")
    specs = load_checks(dest / "checks")
    assert [(s.name, s.points) for s in specs] == [("q1", 3), ("q2", 4)]
    assert (dest / "otter_tests" / "q1.py").read_text() == OK_Q1  # kept unchanged, outside data/public
    assert (dest / "starter.ipynb").read_text() == NOTEBOOK
    assert (dest / "data" / "public" / "python" / "otter" / "__init__.py").is_file()
    assert (dest / "data" / "public" / "python" / "helpers.py").is_file()
    assert not (dest / "data" / "public" / ".git").exists()  # hidden folders are not course material
    assert "in-kernel tests" in (dest / "assignment.toml").read_text() and "in-kernel tests" in (dest / "README.md").read_text()
    assert any("no reference solution" in line for line in report.not_converted)
    student = InProcessStudent("def square(x):\n    return x * x\ndef cube(x):\n    return x ** 3\n")
    assert [s.function(student, None).fraction for s in specs] == [1.0, 1.0]


def test_unreadable_tests_are_reported_and_the_rest_converted(tmp_path):
    folder = source_folder(tmp_path, extra_tests={"q3.py": "x = 1\n", "q4.py": "test = {'name': 'q4', 'suites': []}"})
    report = import_otter(folder, tmp_path / "dest")
    assert [line.split(":")[0] for line in report.not_converted[:2]] == ["tests/q3.py", "tests/q4.py"]
    assert "exactly one suite" in report.not_converted[1]
    assert [s.name for s in load_checks(tmp_path / "dest" / "checks")] == ["q1", "q2"]


@pytest.mark.parametrize(("requirements", "environment"), [
    ("numpy==1.26\notter-grader\n", "numpy"), ("scipy\nmatplotlib>=3\n", "scientific"), ("torch\n", "pytorch")])
def test_requirements_map_to_a_named_environment(tmp_path, requirements, environment):
    import_otter(source_folder(tmp_path, requirements=requirements), tmp_path / "dest")
    assert read_config(tmp_path / "dest").environment == environment


def test_an_unknown_requirement_is_reported(tmp_path):
    report = import_otter(source_folder(tmp_path, requirements="datascience\n"), tmp_path / "dest")
    assert any("no named environment has datascience" in line for line in report.not_converted)


def zip_of(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_an_autograder_zip_is_imported(tmp_path):
    path = tmp_path / "hw-autograder_2024.zip"
    path.write_bytes(zip_of({"tests/q1.py": OK_Q1, "run_autograder": "#!/bin/sh", "otter_config.json": "{}",
                             "requirements.txt": "numpy\n"}))
    import_otter(path, tmp_path / "dest")
    config = read_config(tmp_path / "dest")
    assert (config.id, config.points, config.environment) == ("hw", 3, "numpy")
    assert not (tmp_path / "dest" / "data" / "public" / "run_autograder").exists()


def test_a_hostile_zip_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "evil.zip"
    path.write_bytes(zip_of({"tests/q1.py": OK_Q1, "../../escape.py": "x"}))
    with pytest.raises(ImportProblem, match="evil.zip: '../../escape.py': paths may not climb out"):
        import_otter(path, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_a_missing_tests_folder_and_a_full_destination_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportProblem, match="no tests/ folder"):
        import_otter(tmp_path / "empty", tmp_path / "dest")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ImportProblem, match="not empty"):
        import_otter(source_folder(tmp_path), tmp_path / "full")


def test_a_master_notebook_without_otter_says_how_to_get_it(tmp_path):
    (tmp_path / "hw.ipynb").write_text(NOTEBOOK)
    with pytest.raises(ImportProblem, match="pip install otter-grader==7.0.0"):
        import_otter(tmp_path / "hw.ipynb", tmp_path / "dest", otter="no-such-otter-here")
