"""A fake StudentHandle for unit tests of check suites: no kernel, no sandbox.

InProcessStudent exec()s a submission in a dict namespace in this process and
serves has/get/eval/define/call/call_method/get_attr/seed from it. It is NOT a security boundary and must
never grade real submissions; it exists so check suites can be tested quickly
against reference and known-wrong submissions.

To keep the tests honest about what the real boundary allows, every argument
and result makes the same trip the worker's codec makes: arrays through
np.save / np.load(allow_pickle=False), everything else through json.dumps /
json.loads (so tuples come back as lists and numpy scalars as Python numbers; arrays keep their dtype, a
torch tensor comes back as a numpy array of its dtype, a Tensor argument arrives as a torch tensor).
Errors are reported as the real handle reports them: an exception in the
student's code becomes StudentError("Type: message"), a result that cannot
cross the boundary becomes StudentValueError.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import random
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from gradeflow_graders.api import (
    Ref,
    StudentError,
    StudentValueError,
    Tensor,
)

_NUMERIC_KINDS = "biufc"
_MAX_DEPTH = 8
_BLOB = "__gf_npy__"
_TENSOR = "__gf_tensor__"
_PATH = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*|[0-9]{1,6})(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]{1,6}))*$")


class InProcessStudent:
    """Implements graders.api.StudentHandle over a submission exec()ed in this process (tests only)."""

    def __init__(self, cells: list[str], *, filename: str = "<submission>") -> None:
        # Like a Jupyter kernel: __name__ is "__main__", and a failing cell is noted and the next one still runs.
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        self.cell_errors: list[str] = []
        self._refs = 0
        for number, source in enumerate(cells, start=1):
            try:
                with _quiet():
                    exec(compile(source, f"{filename} cell {number}", "exec"), self.namespace)
            except Exception as exc:  # the student's problem, not the test's
                self.cell_errors.append(f"cell {number}: {type(exc).__name__}: {exc}")

    @classmethod
    def from_path(cls, path: Path) -> InProcessStudent:
        """A .py script runs as one cell; an .ipynb runs code cell by code cell (magics and shell lines dropped)."""
        text = Path(path).read_text("utf-8")
        if Path(path).suffix == ".ipynb":
            notebook = nbformat.reads(text, as_version=4)
            cells = [_drop_magics(c.source) for c in notebook.cells if c.cell_type == "code" and c.source.strip()]
        else:
            cells = [text]
        return cls(cells, filename=Path(path).name)

    # ------------------------------------------------------------ StudentHandle

    def has(self, name: str) -> bool:
        return name in self.namespace

    def get(self, name: str) -> Any:
        if name not in self.namespace:
            raise StudentError(f"NameError: name '{name}' is not defined")
        return _result(self.namespace[name])

    def eval(self, expression: str) -> Any:
        return _result(self._student(eval, expression, self.namespace))

    def define(self, expression: str) -> Ref:
        self._refs += 1
        ref = Ref(f"_gf_ref_{self._refs}")
        self.namespace[ref.name] = self._student(eval, expression, self.namespace)
        return ref

    def call(self, function: str | Ref, *args: Any, **kwargs: Any) -> Any:
        target = function.name if isinstance(function, Ref) else function
        if target not in self.namespace:
            raise StudentError(f"NameError: name '{target}' is not defined")
        arguments = _arguments([list(args), kwargs], self.namespace)
        return _result(self._student(self.namespace[target], *arguments[0], **arguments[1]))

    def call_method(self, obj: str | Ref, method: str, *args: Any, no_grad: bool = False, **kwargs: Any) -> Any:
        function = self._member(obj, method)
        arguments = _arguments([list(args), kwargs], self.namespace)
        if not no_grad:
            return _result(self._student(function, *arguments[0], **arguments[1]))
        with _torch().no_grad():
            return _result(self._student(function, *arguments[0], **arguments[1]))

    def get_attr(self, obj: str | Ref, path: str) -> Any:
        return _result(self._member(obj, path))

    def seed(self, value: int) -> list[str]:
        """As the real handle: random, NumPy's global generator and torch where importable (here, in this process)."""
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value < 2**32:
            raise ValueError(f"a kernel seed is an integer in [0, 2**32), not {value!r}")
        random.seed(int(value))
        np.random.seed(int(value))
        try:
            torch = _torch() if sys.modules.get("torch") or importlib.util.find_spec("torch") else None
        except ValueError:
            torch = None
        if torch is None:
            return ["random", "numpy"]
        torch.manual_seed(int(value))
        return ["random", "numpy", "torch"]

    # ------------------------------------------------------------ internals

    def _member(self, obj: str | Ref, path: str) -> Any:
        """obj's attribute at a dotted path; numeric parts index where no attribute has that name."""
        if not isinstance(path, str) or not _PATH.fullmatch(path):
            raise ValueError(f"not a dotted attribute path: {path!r}")
        target = obj.name if isinstance(obj, Ref) else obj
        if target not in self.namespace:
            raise StudentError(f"NameError: name '{target}' is not defined")
        return self._student(_walk, self.namespace[target], path)

    @staticmethod
    def _student(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run student code; its exceptions become StudentError, its warnings are dropped (the real harness sends
        them to the TA's log, never to the check)."""
        try:
            with _quiet():
                return function(*args, **kwargs)
        except (Exception, SystemExit) as exc:
            raise StudentError(f"{type(exc).__name__}: {exc}"[:1000]) from None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the student's warnings (numpy overflow and the like), as the real harness keeps them out of checks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _drop_magics(source: str) -> str:
    """IPython-only lines (%magic, !shell) cannot be exec()ed; the real kernel runs them, the fake skips them."""
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


# ---------------------------------------------------------------- the boundary, both ways

def _arguments(value: Any, namespace: dict[str, Any]) -> Any:
    """Harness -> kernel: encode as the worker's codec would, round-trip, and resolve Refs in the namespace."""
    blobs: list[bytes] = []
    wire = json.loads(json.dumps(_encode_argument(value, blobs, depth=0)))
    return _decode(wire, blobs, namespace)


def _encode_argument(value: Any, blobs: list[bytes], *, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise TypeError("argument nested too deeply")
    if isinstance(value, Ref):
        return {"__gf_ref__": value.name}
    if isinstance(value, Tensor):
        return {_TENSOR: _save_argument(value.array, blobs)[_BLOB], "dtype": value.dtype,
                "requires_grad": bool(value.requires_grad), "device": value.device}
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return _save_argument(value, blobs)
    if isinstance(value, np.ndarray | np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_encode_argument(v, blobs, depth=depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode_argument(v, blobs, depth=depth + 1) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    # A check bug, not the student's: the real codec refuses the same values.
    raise TypeError(f"cannot send a {type(value).__name__} into the kernel")


def _result(value: Any) -> Any:
    """Kernel -> harness: what the student returned, as the harness would decode it, or StudentValueError."""
    blobs: list[bytes] = []
    try:
        wire = json.dumps(_encode_result(value, blobs, depth=0))
    except (TypeError, ValueError) as exc:
        raise StudentValueError(str(exc)) from None
    return _decode(json.loads(wire), blobs, namespace=None)


def _encode_result(value: Any, blobs: list[bytes], *, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise StudentValueError("the value is nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if sys.modules.get("torch") is not None and isinstance(value, sys.modules["torch"].Tensor):
        value = _untensor(value)
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        return value.item() if value.dtype.kind != "c" else [value.real.item(), value.imag.item()]
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _NUMERIC_KINDS:
            raise StudentValueError(f"an array of dtype {value.dtype} cannot be sent back; use numbers")
        return _save(value, blobs)
    if isinstance(value, list | tuple):
        return [_encode_result(v, blobs, depth=depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode_result(v, blobs, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, bool | int | float):  # subclasses of the JSON numbers
        return float(value) if isinstance(value, float) else int(value)
    raise StudentValueError(f"a value of type {type(value).__name__} cannot be sent back")


def _save_argument(array: np.ndarray, blobs: list[bytes]) -> dict[str, int]:
    if array.dtype.kind in "OV":  # as the real codec: never pickled
        raise TypeError(f"cannot send an array of dtype {array.dtype} into the kernel")
    return _save(array, blobs)


def _untensor(tensor: Any) -> np.ndarray:
    """A torch tensor as the kernel sends it back: detached, dense, on the cpu, bfloat16 widened to float32."""
    torch = sys.modules["torch"]
    tensor = tensor.detach()
    tensor = tensor.to_dense() if tensor.layout != torch.strided else tensor
    tensor = tensor.float() if tensor.dtype == torch.bfloat16 or "float8" in str(tensor.dtype) else tensor
    return tensor.cpu().resolve_conj().resolve_neg().numpy()


def _tensor(spec: dict[str, Any], blobs: list[bytes]) -> Any:
    torch = _torch()
    tensor = torch.tensor(_load(blobs[spec[_TENSOR]]))
    tensor = tensor.to(getattr(torch, spec["dtype"])) if spec["dtype"] else tensor
    tensor = tensor.to(spec["device"]) if spec["device"] else tensor
    return tensor.requires_grad_(True) if spec["requires_grad"] else tensor


def _torch() -> Any:
    """torch, or the ValueError the real handle raises when a check needs torch where the environment has none."""
    try:
        import torch
    except ImportError:
        raise ValueError("the request needs torch, which the student's environment lacks") from None
    return torch


def _walk(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() and not hasattr(obj, part) else getattr(obj, part)
    return obj


def _save(array: np.ndarray, blobs: list[bytes]) -> dict[str, int]:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    blobs.append(buffer.getvalue())
    return {_BLOB: len(blobs) - 1}


def _decode(value: Any, blobs: list[bytes], namespace: dict[str, Any] | None) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BLOB}:
            return _load(blobs[value[_BLOB]])
        if namespace is not None and set(value) == {"__gf_ref__"}:
            return namespace[value["__gf_ref__"]]
        if namespace is not None and set(value) == {_TENSOR, "dtype", "requires_grad", "device"}:
            return _tensor(value, blobs)
        return {k: _decode(v, blobs, namespace) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, blobs, namespace) for v in value]
    return value


def _load(data: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise StudentValueError(f"an array could not be read back: {exc}") from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise StudentValueError("only numeric arrays can be sent back")
    return array
