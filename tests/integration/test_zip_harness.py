"""A zip submission through the harness in bubblewrap, started cold and in a warm kernel: every member lands in
the home (subfolders too) and the notebook imports the module shipped beside it."""
from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest
from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import JobSpec, Limits
from gradeflow_worker.environments import resolve_environment
from gradeflow_worker.harness import HarnessConfig, grade
from gradeflow_worker.warm import KernelPool, WarmKey, start_slot

from tests.conftest import require
from tests.zips import make_zip, notebook

pytestmark = [pytest.mark.integration, pytest.mark.bwrap]

CHECKS = '''from gradeflow_graders import check, expect


@check(points=2, name="uses the support files")
def uses(student, rng):
    expect(student.get("ANSWER") == 42, f"ANSWER is {student.get('ANSWER')!r}")
'''
SUBMISSION = make_zip([
    ("hw/hw.ipynb", notebook("from student_file import half", "with open('inputs/deep/n.txt') as fh:\n"
                             "    ANSWER = half(int(fh.read()))")),
    ("hw/student_file.py", "def half(x):\n    return x // 2\n"), ("hw/inputs/deep/n.txt", "84\n")])


@pytest.fixture()
def bundle(tmp_path) -> Path:
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    folder = tmp_path / "bundle"
    (folder / "checks").mkdir(parents=True)
    (folder / "checks" / "zip_checks.py").write_text(CHECKS)
    return folder


def job(number: int) -> JobSpec:
    return JobSpec(submission_id=number, attempt=1, kind=SubmissionKind.NOTEBOOK, filename="hw.zip",
                   submission_sha256=hashlib.sha256(SUBMISSION).hexdigest(), bundle_sha256="0" * 64,
                   assignment_slug="zip", limits=Limits(time_limit_s=60, cell_timeout_s=30), seed=1)


def test_a_zip_runs_cold_and_warm_with_its_files_beside_the_notebook(bundle, tmp_path):
    from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox

    sandbox = BubblewrapSandbox()
    config = HarnessConfig(run_dir=tmp_path / "runs", python=sys.executable)
    cold = grade(job(1), submission=SUBMISSION, bundle_dir=bundle, sandbox=sandbox, config=config)
    assert cold.checks[0].score == 2, (cold.run, cold.output, cold.log[-2000:])
    assert "zip hw.zip: running hw.ipynb; beside it: inputs/deep/n.txt, student_file.py" in cold.log
    pool = KernelPool(lambda key: start_slot(sandbox, run_dir=tmp_path / "runs", key=key))
    try:
        pool.refill(WarmKey(job(2).limits, resolve_environment("default", environments_dir=None,
                                                                default_python=sys.executable)))
        assert pool.wait_ready(60)
        warm = grade(job(2), submission=SUBMISSION, bundle_dir=bundle, sandbox=sandbox, config=config, pool=pool)
    finally:
        pool.close()
    assert "warm kernel (started in" in warm.log and warm.checks[0].score == 2, (warm.run, warm.output)


def test_a_zip_the_worker_refuses_gets_a_verdict(bundle, tmp_path):
    from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox

    hostile = make_zip([("hw.ipynb", notebook("x = 1")), ("../evil.py", "x")])
    result = grade(job(3), submission=hostile, bundle_dir=bundle, sandbox=BubblewrapSandbox(),
                   config=HarnessConfig(run_dir=tmp_path / "runs", python=sys.executable))
    assert result.run.outcome is RunOutcome.CRASHED and "climb out" in result.run.message
    assert result.checks[0].score == 0 and result.checks[0].message.startswith("Not run: The zip hw.zip was refused")
