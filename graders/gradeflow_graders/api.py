"""Check declarations, the student handle's interface, and comparison helpers."""
from __future__ import annotations

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
class Ref:
    """A name in the student's kernel that the harness created (see StudentHandle.define)."""

    name: str


class StudentHandle(Protocol):
    """The narrow handle a check has on the student's live kernel.

    Arguments travel as JSON or .npy (numbers, strings, lists, dicts, numpy
    arrays, and Refs); results come back the same way, decoded without pickle.
    """

    def has(self, name: str) -> bool: ...
    def get(self, name: str) -> Any: ...
    def eval(self, expression: str) -> Any: ...
    def define(self, expression: str) -> Ref: ...
    def call(self, function: str | Ref, *args: Any, **kwargs: Any) -> Any: ...


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


def expect_close(actual: Any, expected: Any, *, rtol: float = 1e-7, atol: float = 1e-9, what: str = "the result") -> None:
    """Fail unless actual matches expected elementwise within tolerances (computed here, outside the kernel)."""
    want = np.asarray(expected, dtype=float)
    got = as_array(actual, what=what, shape=want.shape)
    if not np.all(np.isfinite(got)):
        raise CheckFailed(f"{what} contains NaN or infinity")
    err = np.abs(got - want)
    bad = err > atol + rtol * np.abs(want)
    if np.any(bad):
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape)) if err.ndim else ()
        raise CheckFailed(f"{what} is off by {float(np.max(err)):.3g}{f' at index {index}' if index else ''}")
