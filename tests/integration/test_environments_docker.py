"""Student environments through real Docker sandboxes: each named environment is its own image
(build_image.sh --environment NAME, from the venv the worker builds), and a kernel in it sees that venv's
packages and nothing else; the run records the same digest as under bubblewrap.

Needs the venvs built (`python -m gradeflow_worker.environments build numpy pytorch`; `make test` does).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradeflow_protocol.enums import RunOutcome
from gradeflow_worker.environments import EnvironmentMissing, environment_image, read_stamp
from gradeflow_worker.harness import HarnessConfig, grade
from tests.conftest import REPO, require
from tests.docker_env import IMAGE, docker_host  # noqa: F401  (fixture)
from tests.integration.test_environments import (ENVIRONMENTS, HARNESS_MODULES, PROBE, TORCH, bundle,  # noqa: F401
                                                 job_for)

pytestmark = [pytest.mark.integration, pytest.mark.docker]
BUILD = REPO / "services" / "worker" / "sandbox_image" / "build_image.sh"


def build_environment_image(host: str, name: str) -> str:
    """The environment's image on the test engine (reused when its fingerprint is unchanged)."""
    require(read_stamp(ENVIRONMENTS / name) is not None,
            f"environment {name} is not built: python -m gradeflow_worker.environments build {name}")
    env = dict(os.environ) | {"DOCKER_HOST": host, "GRADEFLOW_ENVIRONMENTS_DIR": str(ENVIRONMENTS)}
    env.pop("GRADEFLOW_SANDBOX_IMAGE", None)
    out = subprocess.run(["bash", str(BUILD), "--environment", name], env=env, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, f"environment image build failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return environment_image(IMAGE, name)


def run_in_docker(host: str, job, data: bytes, bundle: Path, tmp_path: Path):
    import json

    from gradeflow_worker.sandbox.docker import DockerSandbox

    config = HarnessConfig(run_dir=tmp_path / "runs", python=sys.executable, environments_dir=ENVIRONMENTS)
    result = grade(job, submission=data, bundle_dir=bundle, sandbox=DockerSandbox(IMAGE, docker_host=host),
                   config=config)
    message = result.checks[0].message
    assert "SEEN=" in message, (result.run, result.output, result.log[-3000:])
    return result, json.loads(message.split("SEEN=", 1)[1])


def test_the_numpy_image_holds_its_venv_and_nothing_of_the_harness(docker_host, bundle, tmp_path):  # noqa: F811
    image = build_environment_image(docker_host, "numpy")
    assert image == "gradeflow-sandbox-numpy:latest"
    result, seen = run_in_docker(docker_host, *job_for(PROBE, "numpy"), bundle, tmp_path)
    assert result.run.outcome is RunOutcome.COMPLETED, result.run
    assert seen["FOUND"] == {name: False for name in (*HARNESS_MODULES, "torch")}, seen
    assert seen["PYTHON"].startswith("/opt/gradeflow-env/"), seen
    digest = read_stamp(ENVIRONMENTS / "numpy")["digest"]  # the venv's: the same as under bubblewrap
    assert (result.run.environment, result.run.environment_digest) == ("numpy", digest)
    assert f"environment: numpy (digest {digest}, image {image})" in result.log
    assert result.run.enforced["network"] == "docker --network none"


def test_the_pytorch_image_runs_torch_2_13(docker_host, bundle, tmp_path):  # noqa: F811
    build_environment_image(docker_host, "pytorch")
    result, seen = run_in_docker(docker_host, *job_for(TORCH, "pytorch"), bundle, tmp_path)
    assert result.run.outcome is RunOutcome.COMPLETED, (result.run, result.output)
    assert seen["TORCH"].startswith("2.13.0") and seen["VALUE"] == 6.0, seen
    assert result.run.environment_digest == read_stamp(ENVIRONMENTS / "pytorch")["digest"]


def test_an_environment_without_its_image_is_a_clear_error(docker_host, bundle, tmp_path):  # noqa: F811
    from gradeflow_worker.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox("gradeflow-sandbox-missing:latest", docker_host=docker_host)
    with pytest.raises(EnvironmentMissing, match=r"gradeflow-sandbox-missing-scientific:latest .*"
                                                 r"build_image.sh --environment scientific"):
        sandbox.container_environment("scientific")
