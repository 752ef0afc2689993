"""Static checks of an assignment folder: every problem reported, each with its fix; nothing executed."""
from __future__ import annotations

import pytest

from gradeflow_core.bundle_lint import lint_folder
from gradeflow_protocol.bundles import BundleError
from tests.conftest import ASSIGNMENTS
from tests.unit.core.world import write_bundle


def problems(folder) -> str:
    with pytest.raises(BundleError) as info:
        lint_folder(folder)
    return str(info.value)


def test_the_real_assignment_lints_clean():
    result = lint_folder(ASSIGNMENTS / "ode-theta")
    assert [r.label for r in result.references] == ["solution.ipynb", "wrong/explicit_everywhere.py",
                                                    "wrong/ignores_theta.py", "wrong/off_by_one.py"]
    assert [r.expected for r in result.references] == [10, 4.5, 4.5, 4.0]


def test_toy_bundle(tmp_path):
    result = lint_folder(write_bundle(tmp_path))
    assert [(r.label, r.expected) for r in result.references] == [("solution.py", 2), ("wrong/zero.py", 0)]


def test_bad_toml_schema_says_which_field(tmp_path):
    folder = write_bundle(tmp_path)
    (folder / "assignment.toml").write_text('id = "Bad Id"\ntitle = "t"\nkind = "script"\npoints = -1\n')
    text = problems(folder)
    assert "assignment.toml" in text and "id" in text and "points" in text


def test_syntax_error_in_checks_names_file_and_line_and_is_not_executed(tmp_path):
    folder = write_bundle(tmp_path)
    (folder / "checks" / "broken.py").write_text("import os\nos.system('touch /tmp/pwned')\ndef f(:\n")
    assert "checks/broken.py line 3" in problems(folder)


def test_a_misplaced_future_import_is_caught_without_running_anything(tmp_path):
    folder = write_bundle(tmp_path)
    text = (folder / "checks" / "checks.py").read_text()
    (folder / "checks" / "checks.py").write_text("import os\nfrom __future__ import annotations\n" + text)
    assert "checks/checks.py line 2: from __future__ imports must occur at the beginning" in problems(folder)


def test_checks_without_any_check_decorator(tmp_path):
    folder = write_bundle(tmp_path)
    (folder / "checks" / "checks.py").write_text("def helper():\n    return 1\n")
    assert "declare no @check" in problems(folder)


def test_no_checks_at_all(tmp_path):
    folder = write_bundle(tmp_path)
    (folder / "checks" / "checks.py").unlink()
    assert "no checks" in problems(folder)


def test_missing_reference(tmp_path):
    folder = write_bundle(tmp_path)
    (folder / "solution.py").unlink()
    assert "no reference solution: add solution.py" in problems(folder)


def test_invalid_reference_notebook(tmp_path):
    folder = write_bundle(tmp_path)
    (folder / "assignment.toml").write_text('id = "toy"\ntitle = "T"\nkind = "notebook"\npoints = 2\n')
    (folder / "solution.ipynb").write_text("{not json")
    assert "solution.ipynb: This is not a Jupyter notebook" in problems(folder)


@pytest.mark.parametrize(("expected", "message"), [
    ('[scores]\n"zero.py" = 2\n', "cannot score full marks"),
    ('[scores]\n"zero.py" = "x"\n', "must be a number"),
    ('[scores]\n', "zero.py: no recorded score"),
    ('[scores]\n"zero.py" = 0\n"ghost.py" = 1\n', "there is no wrong/ghost.py"),
    ('scores = 3\n', "needs a [scores] table"),
    ('[scores\n', "not valid TOML"),
])
def test_expected_scores_problems(tmp_path, expected, message):
    folder = write_bundle(tmp_path)
    (folder / "wrong" / "expected.toml").write_text(expected)
    assert message in problems(folder)


def test_wrong_files_without_expected_toml(tmp_path):
    folder = write_bundle(tmp_path)
    (folder / "wrong" / "expected.toml").unlink()
    assert "no wrong/expected.toml" in problems(folder)


def test_every_problem_is_reported_at_once(tmp_path):
    folder = write_bundle(tmp_path)
    (folder / "solution.py").unlink()
    (folder / "wrong" / "expected.toml").write_text("[scores]\n")
    text = problems(folder)
    assert "no reference solution" in text and "no recorded score" in text
