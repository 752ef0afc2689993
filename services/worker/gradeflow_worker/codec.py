"""Data across the sandbox boundary: JSON and .npy only, never pickle; size-capped and validated.

Harness -> kernel: arguments written as files in the IPC directory.
Kernel -> harness: a JSON reply file (a KernelReply) whose value may name .npy files beside it.
Every file the kernel wrote is opened without following links, must be a
regular file and is read up to a cap.
"""
from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from gradeflow_graders.api import Ref, StudentValueError, Tensor
from gradeflow_protocol.messages import KernelReply

MAX_REPLY_BYTES = 16 * 1024 * 1024
MAX_ARRAY_ELEMENTS = 2_000_000
MAX_DEPTH = 8
_NPY_NAME = re.compile(r"^out-[0-9a-f]{16}-\d{1,6}\.npy$")
_NUMERIC_KINDS = "biufc"


def encode_args(value: Any, *, ipc_dir: Path, stem: str, counter: list[int]) -> Any:
    """Arguments to JSON-able structure; arrays become .npy files the kernel loads, with their dtype.

    A Tensor is an array the kernel turns into a torch.Tensor (dtype, device, requires_grad as asked)."""
    if isinstance(value, Ref):
        return {"__gf_ref__": value.name}
    if isinstance(value, Tensor):
        return {"__gf_tensor__": _save_arg(value.array, ipc_dir=ipc_dir, stem=stem, counter=counter),
                "dtype": value.dtype, "requires_grad": bool(value.requires_grad), "device": value.device}
    if isinstance(value, np.ndarray | np.generic) and np.asarray(value).ndim > 0:
        return {"__gf_npy__": _save_arg(np.asarray(value), ipc_dir=ipc_dir, stem=stem, counter=counter)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [encode_args(v, ipc_dir=ipc_dir, stem=stem, counter=counter) for v in value]
    if isinstance(value, dict):
        return {str(k): encode_args(v, ipc_dir=ipc_dir, stem=stem, counter=counter) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} into the kernel (use numbers, strings, lists, dicts, arrays, Tensors, Refs)")


def _save_arg(array: np.ndarray, *, ipc_dir: Path, stem: str, counter: list[int]) -> str:
    """An argument array as an .npy file in the IPC directory (never pickled: object arrays are refused)."""
    if array.dtype.kind in "OV":
        raise TypeError(f"cannot send an array of dtype {array.dtype} into the kernel (numbers, bools or strings)")
    counter[0] += 1
    name = f"{stem}-{counter[0]}.npy"
    path = ipc_dir / name
    np.save(path, array, allow_pickle=False)
    path.chmod(0o644)
    return name


def read_capped(path: Path, cap: int = MAX_REPLY_BYTES) -> bytes:
    """Read a file the sandbox wrote: no symlinks, no FIFOs, at most `cap` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise StudentValueError(f"no usable reply ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StudentValueError("the reply is not a regular file")
        if info.st_size > cap:
            raise StudentValueError(f"the value is too large to send back ({info.st_size} bytes; limit {cap})")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(cap + 1)[:cap]
    finally:
        os.close(fd)


def load_npy(data: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise StudentValueError(f"an array could not be read back: {exc}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in _NUMERIC_KINDS:
        raise StudentValueError("only numeric arrays can be sent back")
    if array.size > MAX_ARRAY_ELEMENTS:
        raise StudentValueError(f"an array with {array.size} elements is too large to check")
    return array


def decode_value(value: Any, *, ipc_dir: Path, depth: int = 0) -> Any:
    """Turn a reply's JSON value back into Python/numpy values, validating as we go."""
    if depth > MAX_DEPTH:
        raise StudentValueError("the value is nested too deeply")
    if isinstance(value, dict):
        if set(value) == {"__gf_npy__"}:
            name = value["__gf_npy__"]
            if not isinstance(name, str) or not _NPY_NAME.match(name):
                raise StudentValueError("malformed array reference in the reply")
            return load_npy(read_capped(ipc_dir / name))
        return {str(k): decode_value(v, ipc_dir=ipc_dir, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v, ipc_dir=ipc_dir, depth=depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise StudentValueError(f"unexpected {type(value).__name__} in the reply")


def parse_reply(data: bytes) -> KernelReply:
    """The kernel's reply file as a validated KernelReply (its value still to be decoded), or a StudentValueError.

    Parsed by pydantic's JSON parser, which bounds nesting (json.loads would raise RecursionError instead)."""
    try:
        return KernelReply.model_validate_json(data)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors(include_input=False)):
            raise StudentValueError("the reply is not valid JSON") from None
        raise StudentValueError("the reply has the wrong shape") from None
