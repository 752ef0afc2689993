"""A course's requirements.txt: mapped to a built-in environment when one holds it, else written as a new, fully
pinned environment (resolved by pip; a fake resolver here) that the closed set then knows, with the build command."""
import pytest
from gradeflow_graders.importers.common import ImportReport, choose_environment
from gradeflow_graders.importers.environment import (
    ResolveError,
    pinned_environment,
    requirement_name,
)
from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_protocol.environments import named_environments, unknown_environment
from gradeflow_worker.environments import (
    EnvironmentMissing,
    requirements_file,
    resolve_environment,
)


class FakeResolver:
    def __init__(self, pins):
        self.pins, self.asked = pins, []

    def __call__(self, lines):
        self.asked.append(lines)
        return self.pins


def requirements(tmp_path, text):
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("line", "name"), [("six>=1.16  # ok", "six"), ("Typing_Extensions==4", "typing-extensions"),
                                            ("-r other.txt", ""), ("# c", ""), ("pkg[extra]; python_version>'3'", "pkg")])
def test_requirement_names(line, name):
    assert requirement_name(line) == name


def test_requirements_a_named_environment_holds_map_to_it(tmp_path):
    report = ImportReport()
    resolver = FakeResolver(["x==1"])
    assert choose_environment(requirements(tmp_path, "numpy>=1.2\nscipy\notter-grader==7.0.0\n"), report,
                              resolve=resolver) == "scientific"
    assert resolver.asked == [] and "maps to the environment 'scientific'" in report.notes[0]


def test_other_requirements_become_a_new_pinned_environment(tmp_path, monkeypatch):
    local = tmp_path / "envs"
    monkeypatch.setenv("GRADEFLOW_LOCAL_ENVIRONMENTS", str(local))
    assert unknown_environment("ps1-x") is not None
    resolver = FakeResolver(["ipykernel==7.4.0", "six==1.17.0", "traitlets==5.16.1"])
    report = ImportReport()
    name = choose_environment(requirements(tmp_path, "six\nnbgrader==0.9.6\n"), report, name="ps1", resolve=resolver)
    assert resolver.asked == [["six", "ipykernel"]]  # the grading tool left out, the kernel added
    assert name.startswith("ps1-") and len(name) == len("ps1-") + 8
    written = (local / name / "requirements.txt").read_text()
    assert written.splitlines()[-3:] == ["ipykernel==7.4.0", "six==1.17.0", "traitlets==5.16.1"]
    assert f"python -m gradeflow_worker.environments build {name}" in written
    assert any(f"python -m gradeflow_worker.environments build {name}" in n for n in report.notes)
    # the closed set now holds it: assignment.toml may name it, the worker knows its requirements, unbuilt it is refused
    assert unknown_environment(name) is None and name in named_environments()
    assert AssignmentConfig(id="ps1", title="t", kind="notebook", points=1, environment=name).environment == name
    assert requirements_file(name) == local / name / "requirements.txt"
    with pytest.raises(EnvironmentMissing, match=f"build it with `python -m gradeflow_worker.environments build {name}`"):
        resolve_environment(name, environments_dir=tmp_path / "venvs", default_python="python3")
    # the same requirements give the same environment
    assert choose_environment(requirements(tmp_path, "six\n"), ImportReport(), name="ps1", resolve=resolver) == name


def test_without_a_folder_or_exact_pins_nothing_is_written_and_the_ta_is_told(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADEFLOW_LOCAL_ENVIRONMENTS", raising=False)
    report = ImportReport()
    assert choose_environment(requirements(tmp_path, "six\n"), report, resolve=FakeResolver(["six==1"])) == "pytorch"
    assert "set GRADEFLOW_LOCAL_ENVIRONMENTS" in report.not_converted[0]
    with pytest.raises(ResolveError, match="no exact pins"):
        pinned_environment(["six"], slug="ps1", resolve=FakeResolver(["six>=1"]), folder=tmp_path / "envs")
    assert not (tmp_path / "envs").exists() or not any((tmp_path / "envs").rglob("requirements.txt"))
