"""The handle's data contract, held by the worker's KernelStudent and the tests' InProcessStudent alike.

KernelStudent runs here over ExecKernel, which exec()s the request snippet in a namespace of this process
(so the real codec, snippet and reply parsing are used, without a sandbox); the bubblewrap round trip is in
tests/integration/test_student_data.py.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from gradeflow_graders.api import Ref, StudentError, StudentValueError, Tensor
from gradeflow_worker.kernel import ExecResult, ExecStatus, OutputSink
from gradeflow_worker.student import KernelStudent
from tests.conftest import require
from tests.fakes.kernel import ExecKernel
from tests.fakes.student import InProcessStudent

PYTORCH_SITE = Path(__file__).resolve().parents[3] / "var" / "environments" / "pytorch" / "lib" / \
    f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


@pytest.fixture
def torch_importable():
    """The harness has no torch of its own: borrow the built `pytorch` environment's (same interpreter version),
    after the harness's own packages so its numpy stays the one in use."""
    if importlib.util.find_spec("torch") is None and PYTORCH_SITE.is_dir() and str(PYTORCH_SITE) not in sys.path:
        sys.path.append(str(PYTORCH_SITE))
        importlib.invalidate_caches()
    require(importlib.util.find_spec("torch") is not None,
            "torch is not importable: build the pytorch environment (python -m gradeflow_worker.environments build pytorch)")


needs_torch = pytest.mark.usefixtures("torch_importable")

SOURCE = """
import numpy as np

def ident(x):
    return x

def dtype_of(x):
    return str(x.dtype)

def rand():
    return float(np.random.rand())

def objects():
    return np.array([object()], dtype=object)

class Affine:
    def __init__(self, scale):
        self.scale = scale
        self.params = {"w": np.arange(3, dtype=np.int64)}
        self.layers = [np.float32(2.0) * np.ones(2, dtype=np.float32)]

    def apply(self, x, shift=0.0):
        return x * self.scale + shift
"""

TORCH_SOURCE = """
import torch

class Net(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = torch.nn.Linear(n, 2)
        self.layers = torch.nn.Sequential(torch.nn.Linear(2, 2))

    def forward(self, x):
        return self.layers(self.fc(x))

def kind(t):
    return [type(t).__module__, str(t.dtype), bool(t.requires_grad)]

def grad_enabled(x):
    return torch.is_grad_enabled()

def half():
    return torch.ones(2, dtype=torch.bfloat16)
"""


@pytest.fixture(params=["kernel", "fake"])
def handle(request, tmp_path):
    def make(source: str = SOURCE):
        if request.param == "fake":
            return InProcessStudent([source])
        return KernelStudent(ExecKernel(tmp_path, source), sink=OutputSink(100_000))
    return make


@pytest.mark.parametrize("array", [np.linspace(0, 1, 5, dtype=np.float32), np.arange(4, dtype=np.int64),
                                   np.array([True, False]), np.array([1 + 2j, -1j], dtype=np.complex64),
                                   np.eye(2, dtype=np.float16)], ids=lambda a: str(a.dtype))
def test_arrays_keep_their_dtype_both_ways(handle, array):
    student = handle()
    assert student.call("dtype_of", array) == str(array.dtype)
    back = student.call("ident", array)
    assert back.dtype == array.dtype and np.array_equal(back, array)


def test_object_arrays_are_refused_both_ways(handle):
    student = handle()
    with pytest.raises(TypeError, match="object"):
        student.call("ident", np.array([object()], dtype=object))
    with pytest.raises((StudentError, StudentValueError), match="object"):
        student.call("objects")


def test_a_method_of_an_object_the_check_built(handle):
    student = handle()
    affine = student.define("Affine(2.0)")
    out = student.call_method(affine, "apply", np.ones(3, dtype=np.float32), shift=1.0)
    assert out.dtype == np.float32 and np.array_equal(out, [3.0, 3.0, 3.0])
    assert student.call_method(affine, "apply", 2.0) == 4.0
    with pytest.raises(StudentError, match="AttributeError"):
        student.call_method(affine, "missing")


def test_attributes_read_as_data_by_dotted_path(handle):
    student = handle()
    affine = student.define("Affine(2.5)")
    assert student.get_attr(affine, "scale") == 2.5
    assert student.get_attr(affine, "params").keys() == {"w"}
    first = student.get_attr(affine, "layers.0")
    assert first.dtype == np.float32 and np.array_equal(first, [2.0, 2.0])
    with pytest.raises(ValueError, match="dotted"):
        student.get_attr(affine, "scale; import os")
    with pytest.raises(StudentError, match="NameError"):
        student.get_attr("nothing_here", "x")


def test_seeding_repeats_the_global_generators_and_seeds_differ(handle):
    student = handle()
    seeded = student.seed(7)
    has_torch = importlib.util.find_spec("torch") is not None  # torch is seeded exactly when it can be imported
    assert seeded[:2] == ["random", "numpy"] and ("torch" in seeded) == has_torch
    first = student.call("rand")
    student.seed(7)
    assert student.call("rand") == first
    student.seed(8)
    assert student.call("rand") != first
    with pytest.raises(ValueError, match="2\\*\\*32"):
        student.seed(2**32)


def test_a_tensor_argument_without_torch_is_a_check_error(handle, monkeypatch):
    student = handle()
    monkeypatch.setitem(sys.modules, "torch", None)  # as if not installed: `import torch` raises ImportError
    with pytest.raises(ValueError, match="needs torch"):
        student.call("ident", Tensor(np.ones(2)))
    with pytest.raises(ValueError, match="needs torch"):
        student.call_method("rand", "__call__", no_grad=True)
    assert student.seed(3) == ["random", "numpy"]


@needs_torch
def test_a_tensor_result_comes_back_as_numpy_of_its_dtype(handle):
    student = handle(TORCH_SOURCE)
    net = student.define("Net(4)")
    x = np.ones((3, 4), dtype=np.float32)
    y = student.call_method(net, "forward", Tensor(x))
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (3, 2)
    assert np.array_equal(student.call(net, Tensor(x)), y)  # the module called itself, hooks included
    assert student.get_attr(net, "fc.weight").dtype == np.float32
    assert student.get_attr(net, "layers.0.bias").shape == (2,)
    assert student.call("half").dtype == np.float32  # bfloat16 has no numpy dtype: widened


@needs_torch
def test_tensor_arguments_arrive_as_torch_with_the_asked_dtype(handle):
    student = handle(TORCH_SOURCE)
    assert student.call("kind", Tensor(np.arange(3))) == ["torch", "torch.int64", False]
    assert student.call("kind", Tensor(np.ones(2), dtype="float32", requires_grad=True)) == \
        ["torch", "torch.float32", True]
    assert student.call("grad_enabled", 1.0) is True
    net = student.define("Net(1)")
    assert student.call_method("grad_enabled", "__call__", 1.0, no_grad=True) is False
    out = student.call_method(net, "forward", Tensor(np.ones((1, 1)), dtype="float32"), no_grad=True)
    assert out.dtype == np.float32  # float64 in, float32 by the Tensor's dtype: the module's own dtype
    with pytest.raises(StudentError, match="dtype"):  # dtypes are kept, so a mismatch is the student's to see
        student.call_method(net, "forward", Tensor(np.ones((1, 1))))


def test_a_timeout_names_the_method_not_the_generated_ref(tmp_path):
    student = KernelStudent(ExecKernel(tmp_path, SOURCE), sink=OutputSink(100_000))
    affine = student.define("Affine(1.0)")
    student.kernel.execute = lambda code, timeout, sink: ExecResult(ExecStatus.TIMEOUT)
    with pytest.raises(Exception, match=r"^apply\(\.\.\.\) did not finish"):
        student.call_method(affine, "apply", 1.0)
    assert isinstance(affine, Ref)


def test_the_server_is_defined_once_and_again_when_the_students_code_removed_it(tmp_path):
    kernel = ExecKernel(tmp_path, SOURCE + "\ndef vandal():\n    del globals()['__gf_serve']\n")
    sent = []
    execute = kernel.execute
    kernel.execute = lambda code, timeout, sink: (sent.append(code), execute(code, timeout=timeout, sink=sink))[1]
    student = KernelStudent(kernel, sink=OutputSink(100_000))
    assert student.call("ident", 1.5) == 1.5
    assert student.call("ident", 2.5) == 2.5
    assert "def __gf_serve" in sent[0] and sent[1].count("\n") == 1  # the second request is one line
    student.call("vandal")  # the student's code deletes the server while a check calls it
    assert student.call("ident", 3.5) == 3.5  # a NameError naming the server: defined again, asked again
    assert "def __gf_serve" in sent[-1] and "def __gf_serve" not in sent[-2]
