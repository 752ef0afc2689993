"""Check declarations, the student handle's interface, and comparison helpers."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class CheckFailed(AssertionError):
    """Raised by a check; its message is shown to the student."""


class StudentError(Exception):
    """The student's code raised inside the kernel (type and message are in the text)."""


class StudentTimeout(Exception):
    """A call into the kernel ran past the check's time limit."""


class KernelDied(Exception):
    """The student's kernel ended during a check; nothing more can be asked of it."""


class StudentValueError(Exception):
    """What came back from the kernel could not be decoded (wrong type, too large, not data)."""


@dataclass(frozen=True)
class Verdict:
    """What a check may return to give partial credit and a message at once (the message is shown whatever
    the score: "q1 results: All test cases passed!")."""

    fraction: float
    message: str = ""


@dataclass(frozen=True)
class Ref:
    """A name in the student's kernel that the harness created (see StudentHandle.define)."""

    name: str


TORCH_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64", "complex64", "complex128", "bool", "uint8",
                          "int8", "int16", "int32", "int64"})
_DEVICE = re.compile(r"^(cpu|cuda|mps)(:\d{1,2})?$")


@dataclass(frozen=True, eq=False)
class Tensor:
    """An argument that arrives in the kernel as a torch.Tensor (it travels as .npy, like any array).

    >>> student.call("forward", Tensor(x))                          # x's dtype kept: float32 stays float32
    >>> student.call("loss", Tensor(x, dtype="float32", requires_grad=True))

    `dtype` names a torch dtype ("float32", "torch.int64", np.float32 ...; None keeps the array's), `device` a
    torch device ("cpu", "cuda", "cuda:1"; None: cpu). A student environment without torch makes the call raise
    ValueError (a check that needs torch on an assignment whose environment lacks it), not StudentError.
    """

    array: Any
    dtype: Any = None
    requires_grad: bool = False
    device: str | None = None

    def __post_init__(self) -> None:
        array = np.asarray(self.array)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"a Tensor needs a numeric array, not dtype {array.dtype}")
        object.__setattr__(self, "array", array)
        object.__setattr__(self, "dtype", _torch_dtype_name(self.dtype))
        if self.device is not None and not _DEVICE.match(str(self.device)):
            raise ValueError(f"not a torch device: {self.device!r}")
        if self.requires_grad and not (self.dtype or array.dtype.name).startswith(("float", "bfloat", "complex")):
            raise ValueError("only floating-point and complex tensors can require gradients")


def _torch_dtype_name(dtype: Any) -> str | None:
    if dtype is None:
        return None
    name = str(dtype).removeprefix("torch.")
    if name not in TORCH_DTYPES:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            pass
    if name not in TORCH_DTYPES:
        raise ValueError(f"not a torch dtype a Tensor can have: {dtype!r} (one of {', '.join(sorted(TORCH_DTYPES))})")
    return name


class StudentHandle(Protocol):
    """The narrow handle a check has on the student's live kernel.

    Arguments travel as JSON or .npy (numbers, strings, lists, dicts, numpy arrays, Tensors and Refs); results
    come back the same way, decoded without pickle. Arrays keep their dtype both ways (float32 stays float32,
    int64 int64, bool and complex too); a torch.Tensor the student returns comes back as a numpy array of the
    tensor's dtype (detached, on the cpu; bfloat16 widened to float32); object arrays are refused.
    """

    def has(self, name: str) -> bool: ...
    def get(self, name: str) -> Any: ...
    def eval(self, expression: str) -> Any: ...
    def define(self, expression: str) -> Ref: ...
    def call(self, function: str | Ref, *args: Any, **kwargs: Any) -> Any: ...

    def call_method(self, obj: str | Ref, method: str, *args: Any, no_grad: bool = False, **kwargs: Any) -> Any:
        """Call `obj.method(*args, **kwargs)` in the kernel and return the result as data.

        `obj` is a Ref from define() or one of the student's names; `method` may be a dotted path
        ("encoder.forward"; a numeric part indexes, as in "layers.0.forward"); "__call__" runs the object itself
        (for a torch module: with its hooks). `no_grad=True` runs the call under torch.no_grad().

        >>> model = student.define("Net(4)")
        >>> y = student.call_method(model, "forward", Tensor(x), no_grad=True)   # a float32 numpy array
        """
        ...

    def get_attr(self, obj: str | Ref, path: str) -> Any:
        """The attribute at dotted `path` of `obj`, as data (a parameter comes back as a numpy array).

        >>> w = student.get_attr(model, "fc.weight")          # numpy, the parameter's dtype
        >>> first = student.get_attr(model, "layers.0.bias")  # numeric parts index, as state_dict keys do
        """
        ...

    def seed(self, value: int) -> list[str]:
        """Seed `random`, NumPy's global generator (np.random.seed) and, when the environment has it, torch
        (torch.manual_seed, all devices) in the kernel; returns what was seeded (["random", "numpy", "torch"]).

        The harness does this before every check with a value in [0, 2**32) derived from the run's seed and the
        check (runner.kernel_seed), so a run can be repeated; a check may call it again to repeat a random call.
        Generators the student made themselves (np.random.default_rng() without a seed) are not reached.

        >>> student.seed(7); a = student.call("sample", 3); student.seed(7)
        >>> expect_close(student.call("sample", 3), a, what="sample(3) under the same seed")
        """
        ...


@dataclass(frozen=True)
class CheckSpec:
    name: str
    points: float
    function: Callable[..., Any]
    timeout_s: float | None = None
    order: int = 0


_counter = [0]


def check(*, points: float, name: str | None = None, timeout: float | None = None):
    """Declare a check worth `points`; the harness discovers decorated functions in order."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        _counter[0] += 1
        function.__gradeflow_check__ = CheckSpec(  # type: ignore[attr-defined]
            name=name or function.__name__.replace("_", " "),
            points=float(points),
            function=function,
            timeout_s=timeout,
            order=_counter[0],
        )
        return function

    return decorate


def expect(condition: Any, message: str) -> None:
    """Fail the check with `message` unless condition holds."""
    if not condition:
        raise CheckFailed(message)


def as_array(value: Any, *, what: str = "the result", shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The value as a finite float array, or a CheckFailed saying what is wrong."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be numeric, got {type(value).__name__}") from None
    if shape is not None and array.shape != tuple(shape):
        raise CheckFailed(f"{what} should have shape {tuple(shape)}, got {array.shape}")
    return array


def expect_close(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None,
                 what: str = "the result") -> None:
    """Fail unless actual matches expected elementwise within tolerances (computed here, outside the kernel).

    >>> expect_close(student.call("f", 2.0), 4.0, what="f(2)")

    Tolerances left as None follow the dtype (see numerics.default_tolerances); the message names the worst
    entry, its expected and actual values and how many entries are off (see numerics.compare).
    """
    from gradeflow_graders.numerics import compare  # numerics imports this module

    compare(actual, expected, rtol=rtol, atol=atol, what=what)
