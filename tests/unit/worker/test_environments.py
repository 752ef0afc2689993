"""Student environments on the worker without building one: the registry, digests, the idempotent build (its
steps faked), a missing environment's message, the sandbox binds of a venv, and what the service does."""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_protocol.environments import ENVIRONMENTS, NAMED_ENVIRONMENTS, unknown_environment
from gradeflow_protocol.messages import JobSpec, Limits
from gradeflow_worker import environments, service
from gradeflow_worker.environments import (STAMP, EnvironmentMissing, build_environment, freeze_digest,
                                           requirements_file, resolve_environment)
from gradeflow_worker.sandbox import bwrap
from gradeflow_worker.sandbox.base import SandboxSpec
from gradeflow_worker.settings import WorkerSettings
from tests.unit.worker.test_service import FakeClient, TASK, use

PIN = re.compile(r"^[A-Za-z0-9_.\-]+==[0-9][^\s#]*(\s+#.*)?$")


def test_every_named_environment_has_a_fully_pinned_requirements_file_with_the_kernel():
    assert set(NAMED_ENVIRONMENTS) == {"numpy", "scientific", "pytorch"} and "default" in ENVIRONMENTS
    for name in NAMED_ENVIRONMENTS:
        lines = [ln for ln in requirements_file(name).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
        assert all(PIN.match(line) for line in lines), [line for line in lines if not PIN.match(line)]
        packages = {line.split("==")[0].lower() for line in lines}
        assert {"numpy", "ipykernel", "pyzmq", "jupyter_client"} <= packages, name
        assert not packages & {"celery", "sqlalchemy", "fastapi", "gradeflow-worker"}  # nothing of the harness
    torch = [ln for ln in requirements_file("pytorch").read_text().splitlines() if ln.startswith("torch")]
    assert [ln.split()[0] for ln in torch] == ["torch==2.13.0"]  # exactly pinned: unpinned pulls a CUDA build
    assert {"scipy", "scikit-learn", "matplotlib"} <= {ln.split("==")[0] for ln in
                                                         requirements_file("scientific").read_text().splitlines()}


def test_an_unknown_environment_is_refused_with_every_valid_name():
    assert unknown_environment("numpy") is None
    assert unknown_environment("tf") == "unknown environment 'tf'; use one of: default, numpy, scientific, pytorch"
    with pytest.raises(ValueError, match="use one of: default, numpy"):
        AssignmentConfig(id="a", title="A", kind="script", points=1, environment="tf")
    assert AssignmentConfig(id="a", title="A", kind="script", points=1).environment == "default"


def test_the_digest_is_of_the_package_list_not_its_order():
    assert freeze_digest("b==1\na==2\n") == freeze_digest("a==2\n\nb==1") != freeze_digest("a==2\nb==1.1")
    assert len(freeze_digest("")) == 64


def fake_build(monkeypatch, freeze: str = "numpy==2.4.6\n") -> list[list[str]]:
    """Build steps recorded, not run: `venv` makes the directory and a python, `pip freeze` answers `freeze`."""
    steps: list[list[str]] = []

    def run(argv, *, quiet=False):
        steps.append(argv)
        if argv[1:3] == ["-m", "venv"]:
            (Path(argv[3]) / "bin").mkdir(parents=True)
            (Path(argv[3]) / "bin" / "python").write_text("")
        return freeze if "freeze" in argv else ""

    monkeypatch.setattr(environments, "_run", run)
    return steps


def test_a_build_is_skipped_while_its_requirements_are_unchanged(tmp_path, monkeypatch, capsys):
    steps = fake_build(monkeypatch)
    stamp = build_environment("numpy", environments_dir=tmp_path)
    assert [s[1:3] for s in steps] == [["-m", "venv"], ["-m", "pip"], ["-m", "pip"]]
    assert "--system-site-packages" not in steps[0] and str(requirements_file("numpy")) in steps[1]
    assert stamp["digest"] == freeze_digest("numpy==2.4.6\n")
    assert json.loads((tmp_path / "numpy" / STAMP).read_text())["digest"] == stamp["digest"]
    assert build_environment("numpy", environments_dir=tmp_path) == stamp and len(steps) == 3  # nothing ran
    assert "environment numpy: up to date" in capsys.readouterr().out
    stale = json.loads((tmp_path / "numpy" / STAMP).read_text()) | {"requirements_sha256": "old"}
    (tmp_path / "numpy" / STAMP).write_text(json.dumps(stale))
    build_environment("numpy", environments_dir=tmp_path)
    assert len(steps) == 6  # the requirements changed: built again


def test_a_built_environment_resolves_to_its_venv_and_digest(tmp_path, monkeypatch):
    fake_build(monkeypatch)
    stamp = build_environment("pytorch", environments_dir=tmp_path)
    env = resolve_environment("pytorch", environments_dir=tmp_path, default_python=sys.executable)
    assert (env.name, env.python, env.digest) == ("pytorch", str(tmp_path / "pytorch" / "bin" / "python"),
                                                  stamp["digest"])
    default = resolve_environment("default", environments_dir=tmp_path, default_python=sys.executable)
    assert default.python == sys.executable and default.is_default and len(default.digest) == 64


def test_an_environment_that_is_not_built_names_the_command_that_builds_it(tmp_path):
    with pytest.raises(EnvironmentMissing) as missing:
        resolve_environment("scientific", environments_dir=tmp_path, default_python=sys.executable)
    assert "sandbox_error" in str(missing.value)
    assert "python -m gradeflow_worker.environments build scientific" in str(missing.value)
    with pytest.raises(EnvironmentMissing, match="unknown student environment 'tf'"):
        resolve_environment("tf", environments_dir=tmp_path, default_python=sys.executable)


def test_the_environments_of_the_demo_assignments(tmp_path):
    for slug, env in (("a", "numpy"), ("b", "default"), ("c", "pytorch")):
        (tmp_path / slug).mkdir()
        (tmp_path / slug / "assignment.toml").write_text(
            f'id = "{slug}"\ntitle = "T"\nkind = "script"\npoints = 1\nenvironment = "{env}"\n')
    assert environments.environments_of(tmp_path) == ["numpy", "pytorch"]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_a_venv_kernel_sees_the_venv_and_its_base_read_only_and_not_the_base_site_packages(tmp_path, monkeypatch):
    venv, base = Path("/srv/envs/numpy"), Path("/opt/py/3.11")
    layout = bwrap.PythonLayout(venv, base, (base / "lib/python3.11/site-packages",))
    monkeypatch.setattr(bwrap, "python_layout", lambda python: layout)
    spec = SandboxSpec(run_id="1-x", argv=[str(venv / "bin/python"), "-f", "{ipc}/k.json"], ipc_dir=tmp_path / "ipc",
                       files={}, public_dir=None, limits=Limits(), python=str(venv / "bin/python"))
    sandbox = bwrap.BubblewrapSandbox()
    argv = sandbox.bwrap_argv(spec, {})
    ro = [argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"]
    assert str(venv) in ro and str(base) in ro and str(sandbox.prefix) not in ro  # not the worker's installation
    masked = [argv[i + 1] for i, a in enumerate(argv) if a == "--tmpfs"]
    assert str(base / "lib/python3.11/site-packages") in masked
    assert f"PATH={venv}/bin:/usr/bin:/bin" in "|".join(f"{argv[i + 1]}={argv[i + 2]}"
                                                         for i, a in enumerate(argv) if a == "--setenv")
    default = sandbox.bwrap_argv(SandboxSpec(**{**spec.__dict__, "python": sys.executable}), {})
    assert not [default[i + 1] for i, a in enumerate(default) if a == "--tmpfs" and "site-packages" in default[i + 1]]
    assert str(sandbox.prefix) in [default[i + 1] for i, a in enumerate(default) if a == "--ro-bind"]  # as before


def test_a_missing_environment_releases_the_attempt_with_its_message(tmp_path, monkeypatch):
    settings = WorkerSettings(var_dir=tmp_path, warm_kernels=0)
    monkeypatch.setattr(service, "unpack", lambda data, where: where)
    monkeypatch.setattr(service, "make_sandbox", lambda settings: None)

    def missing(job, **kwargs):
        raise EnvironmentMissing("sandbox_error: the student environment 'pytorch' is not built on this worker")

    released: list[str] = []

    class Client(FakeClient):
        def release(self, error):
            released.append(error)
            return True

    monkeypatch.setattr(service, "grade", missing)
    use(monkeypatch, Client())
    assert service.run_task(TASK, settings) == "released after an error"
    assert released == ["sandbox_error: the student environment 'pytorch' is not built on this worker"]


def test_the_job_carries_its_environment_and_an_old_job_means_default():
    job = dict(submission_id=1, attempt=1, kind="script", filename="a.py", submission_sha256="0" * 64,
               bundle_sha256="0" * 64, assignment_slug="a", limits=Limits(), seed=1)
    assert JobSpec(**job).environment == "default" and JobSpec(**job, environment="numpy").environment == "numpy"
