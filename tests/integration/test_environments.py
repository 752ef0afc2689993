"""Student environments through real bubblewrap sandboxes (the harness in this process, no API or broker):
a kernel in the `numpy` environment sees NumPy and nothing of the harness's (no torch, no gradeflow, Celery or
SQLAlchemy, even by path), one in `pytorch` runs torch 2.13.0, and every run reports the environment's digest.

Needs the environments built (`python -m gradeflow_worker.environments build numpy pytorch`; `make test` does).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import sysconfig
from types import SimpleNamespace
from pathlib import Path

import pytest

from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import JobSpec, Limits
from gradeflow_worker.environments import EnvironmentMissing, read_stamp
from gradeflow_worker.harness import HarnessConfig, grade
from gradeflow_worker.settings import WorkerSettings
from gradeflow_worker.warm import KernelPool, WarmKey, start_slot
from tests.conftest import require

pytestmark = [pytest.mark.integration, pytest.mark.bwrap]

ENVIRONMENTS = WorkerSettings().environments_path
HARNESS_SITE = sysconfig.get_path("purelib")  # where the worker's own packages (celery, sqlalchemy...) live
HARNESS_MODULES = ("gradeflow_worker", "gradeflow_graders", "gradeflow_protocol", "celery", "sqlalchemy", "fastapi")

PROBE = f"""
import importlib.util, json, os, sys
FOUND = {{name: importlib.util.find_spec(name) is not None for name in {HARNESS_MODULES + ("torch",)!r}}}
HARNESS_SITE_FILES = len(os.listdir({HARNESS_SITE!r})) if os.path.isdir({HARNESS_SITE!r}) else 0
sys.path.append({HARNESS_SITE!r})  # even asked for by path, the harness's packages are not there
try:
    import celery
    BY_PATH = 'celery imported'
except ImportError:
    BY_PATH = 'no celery'
import numpy
NUMPY = numpy.__version__
PYTHON = sys.executable
print(json.dumps(dict(FOUND=FOUND, BY_PATH=BY_PATH, files=HARNESS_SITE_FILES, python=PYTHON)))
"""
TORCH = """
import torch
TORCH = str(torch.__version__)
VALUE = float((torch.arange(4.0) @ torch.ones(4)).item())
CUDA = torch.version.cuda
"""
CHECKS = '''
from gradeflow_graders import check, expect


@check(points=1, name="reports")
def reports(student, rng):
    names = ("FOUND", "BY_PATH", "HARNESS_SITE_FILES", "NUMPY", "PYTHON", "TORCH", "VALUE", "CUDA")
    seen = {name: student.get(name) for name in names if student.has(name)}
    expect(False, "SEEN=" + __import__("json").dumps(seen))
'''


@pytest.fixture()
def bundle(tmp_path) -> Path:
    folder = tmp_path / "bundle"
    (folder / "checks").mkdir(parents=True)
    (folder / "checks" / "probe_checks.py").write_text(CHECKS)
    return folder


def built(name: str) -> None:
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    require(read_stamp(ENVIRONMENTS / name) is not None,
            f"environment {name} is not built: python -m gradeflow_worker.environments build {name}")


def job_for(code: str, environment: str, number: int = 1) -> tuple[JobSpec, bytes]:
    data = code.encode()
    job = JobSpec(submission_id=number, attempt=1, kind=SubmissionKind.SCRIPT, filename="probe.py",
                  submission_sha256=hashlib.sha256(data).hexdigest(), bundle_sha256="0" * 64,
                  assignment_slug="probe", limits=Limits(time_limit_s=120, cell_timeout_s=90, memory_mb=2048),
                  seed=1, environment=environment)
    return job, data


def run(job: JobSpec, data: bytes, bundle: Path, tmp_path: Path, pool: KernelPool | None = None):
    from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox

    config = HarnessConfig(run_dir=tmp_path / "runs", python=sys.executable, environments_dir=ENVIRONMENTS)
    result = grade(job, submission=data, bundle_dir=bundle, sandbox=BubblewrapSandbox(), config=config, pool=pool)
    message = result.checks[0].message
    assert "SEEN=" in message, (result.run, result.output, result.log[-3000:])
    return result, json.loads(message.split("SEEN=", 1)[1])


def test_numpy_environment_sees_numpy_and_nothing_of_the_harness(bundle, tmp_path):
    built("numpy")
    result, seen = run(*job_for(PROBE, "numpy"), bundle, tmp_path)
    assert result.run.outcome is RunOutcome.COMPLETED, result.run
    assert seen["FOUND"] == {name: False for name in (*HARNESS_MODULES, "torch")}, seen
    assert seen["BY_PATH"] == "no celery" and seen["HARNESS_SITE_FILES"] == 0
    assert seen["PYTHON"].startswith(str(ENVIRONMENTS / "numpy")) and seen["NUMPY"]
    stamp = read_stamp(ENVIRONMENTS / "numpy")
    assert (result.run.environment, result.run.environment_digest) == ("numpy", stamp["digest"])
    assert f"environment: numpy (digest {stamp['digest']})" in result.log


def test_pytorch_environment_runs_torch_2_13_on_the_cpu(bundle, tmp_path):
    built("pytorch")
    result, seen = run(*job_for(TORCH, "pytorch"), bundle, tmp_path)
    assert result.run.outcome is RunOutcome.COMPLETED, (result.run, result.output)
    assert seen["TORCH"].startswith("2.13.0") and seen["VALUE"] == 6.0 and seen["CUDA"] is None, seen
    assert result.run.environment == "pytorch"
    assert result.run.environment_digest == read_stamp(ENVIRONMENTS / "pytorch")["digest"]


def test_the_default_environment_is_the_workers_own_interpreter_as_before(bundle, tmp_path):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    result, seen = run(*job_for(PROBE, "default"), bundle, tmp_path)
    assert seen["PYTHON"] == sys.executable and seen["FOUND"]["celery"]  # what it always saw
    assert result.run.environment == "default" and len(result.run.environment_digest) == 64


def test_a_warm_kernel_serves_its_environment_and_another_starts_cold(bundle, tmp_path):
    built("numpy")
    from gradeflow_worker.environments import resolve_environment
    from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox

    sandbox, job = BubblewrapSandbox(), job_for(PROBE, "numpy")[0]
    pool = KernelPool(lambda key: start_slot(sandbox, run_dir=tmp_path / "runs", key=key))
    numpy_env = resolve_environment("numpy", environments_dir=ENVIRONMENTS, default_python=sys.executable)
    try:
        pool.refill(WarmKey(job.limits, numpy_env))
        assert pool.wait_ready(60)
        result, seen = run(*job_for(PROBE, "numpy"), bundle, tmp_path, pool=pool)
        assert "warm kernel (started in" in result.log and not seen["FOUND"]["celery"]
        result, seen = run(*job_for(PROBE, "default", 2), bundle, tmp_path, pool=pool)
        assert "warm kernel" not in result.log and seen["FOUND"]["celery"]  # the numpy kernel never served it
    finally:
        pool.close()


def test_an_environment_that_is_not_built_is_a_clear_error(bundle, tmp_path):
    job, data = job_for(PROBE, "scientific")
    config = HarnessConfig(run_dir=tmp_path / "runs", python=sys.executable, environments_dir=tmp_path / "none")
    with pytest.raises(EnvironmentMissing, match="build scientific"):
        grade(job, submission=data, bundle_dir=bundle, config=config,
              sandbox=SimpleNamespace(name="bwrap", container_environment=lambda name: None))
