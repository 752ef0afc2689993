"""The student handle through a real bubblewrap kernel: dtypes, method calls and seeding (no API or broker).

The default interpreter (the worker's own) always; torch through the `pytorch` student environment when it is
built (`python -m gradeflow_worker.environments build pytorch`), skipped otherwise.
"""
from __future__ import annotations

import dataclasses
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from gradeflow_graders.api import StudentError, Tensor
from gradeflow_graders.runner import kernel_seed
from gradeflow_protocol.messages import Limits
from gradeflow_worker.kernel import ExecStatus, OutputSink, SandboxedKernel
from gradeflow_worker.sandbox.base import SandboxSpec
from gradeflow_worker.settings import WorkerSettings
from gradeflow_worker.student import KernelStudent
from tests.conftest import require

pytestmark = [pytest.mark.integration, pytest.mark.bwrap]

SOURCE = """
import numpy as np

class Scaler:
    def __init__(self, k):
        self.k = np.float32(k)
        self.weight = np.arange(3, dtype=np.float32)

    def apply(self, x):
        return x * self.k

def noise(n):
    return np.random.rand(n)
"""

TORCH_SOURCE = """
import torch

class Net(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = torch.nn.Linear(n, 2)

    def forward(self, x):
        return self.fc(x)

def kind(t):
    return [str(t.dtype), bool(t.requires_grad)]

def noise(n):
    return torch.rand(n)
"""


@pytest.fixture
def kernel_for(tmp_path):
    """Start a kernel (default interpreter, or `python`) in bubblewrap, run `source` in it, hand back a handle."""
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox

    kernels: list[SandboxedKernel] = []

    def start(source: str, python: str | None = None) -> KernelStudent:
        run = tmp_path / uuid.uuid4().hex[:10]
        (run / "ipc").mkdir(parents=True)
        extra = {"python": python} if python else {}
        spec = SandboxSpec(run_id=f"data-{run.name}", argv=[], ipc_dir=run / "ipc", files={}, public_dir=None,
                           limits=Limits(memory_mb=2048, time_limit_s=120, cell_timeout_s=90), **extra)
        kernel = SandboxedKernel(BubblewrapSandbox(), spec, python=python or sys.executable)
        kernels.append(kernel)
        kernel.start()
        sink = OutputSink(100_000)
        result = kernel.execute(source, timeout=90, sink=sink)
        assert result.status is ExecStatus.OK, (result, sink.text())
        student = KernelStudent(kernel, sink=sink)
        student.set_deadline(float("inf"))
        return student

    yield start
    for kernel in kernels:
        kernel.close()


def test_a_float32_array_and_a_method_call_cross_with_their_dtypes(kernel_for):
    student = kernel_for(SOURCE)
    scaler = student.define("Scaler(2)")
    x = np.linspace(0, 1, 4, dtype=np.float32)
    out = student.call_method(scaler, "apply", x)
    assert out.dtype == np.float32 and np.array_equal(out, 2 * x)
    assert student.call_method(scaler, "apply", np.arange(3, dtype=np.int64)).dtype == np.float64  # numpy's rule
    weight = student.get_attr(scaler, "weight")
    assert weight.dtype == np.float32 and np.array_equal(weight, [0, 1, 2])
    assert student.call("noise", 2).dtype == np.float64
    with pytest.raises(StudentError, match="AttributeError"):
        student.get_attr(scaler, "bias")


def test_seeding_the_kernel_reproduces_a_run(kernel_for):
    student = kernel_for(SOURCE)
    seed = kernel_seed(1234, 1)
    assert student.seed(seed)[:2] == ["random", "numpy"]
    first = student.call("noise", 3)
    student.seed(seed)
    assert np.array_equal(student.call("noise", 3), first)
    student.seed(kernel_seed(1234, 2))
    assert not np.array_equal(student.call("noise", 3), first)
    other = kernel_for(SOURCE)  # a second kernel, as a rerun of the submission would have
    other.seed(seed)
    assert np.array_equal(other.call("noise", 3), first)


def pytorch_python() -> str:
    root = getattr(WorkerSettings(), "environments_path", None)
    python = Path(root or "var/environments") / "pytorch" / "bin" / "python"
    has_field = "python" in {f.name for f in dataclasses.fields(SandboxSpec)}
    require(has_field and python.is_file(), "the pytorch environment is not built")
    return str(python)


def test_torch_modules_and_tensors_through_the_pytorch_environment(kernel_for):
    student = kernel_for(TORCH_SOURCE, python=pytorch_python())
    net = student.define("Net(4)")
    x = np.ones((3, 4), dtype=np.float32)
    y = student.call_method(net, "forward", Tensor(x), no_grad=True)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (3, 2)
    weight, bias = student.get_attr(net, "fc.weight"), student.get_attr(net, "fc.bias")
    assert weight.dtype == np.float32 and np.allclose(y, x @ weight.T + bias, atol=1e-6)
    assert student.call("kind", Tensor(np.arange(3), dtype="float64", requires_grad=True)) == ["torch.float64", True]
    assert student.seed(7) == ["random", "numpy", "torch"]
    first = student.call("noise", 3)
    student.seed(7)
    assert first.dtype == np.float32 and np.array_equal(student.call("noise", 3), first)
