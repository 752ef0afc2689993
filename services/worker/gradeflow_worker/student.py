"""KernelStudent: the narrow handle checks use to reach the student's live kernel."""
from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from typing import Any

import numpy as np

from gradeflow_graders.api import KernelDied, Ref, StudentError, StudentTimeout, StudentValueError
from gradeflow_worker import codec
from gradeflow_worker.kernel import ExecStatus, OutputSink, SandboxedKernel
from gradeflow_worker.kernel_snippets import NEEDS_TORCH, SERVER_NAME, request_code

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FILENAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_PATH = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*|[0-9]{1,6})(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]{1,6}))*$")


class KernelStudent:
    """Implements graders.api.StudentHandle over a SandboxedKernel.

    Output printed while serving requests goes to `sink` (the TA's log), never
    to the student's feedback: it may carry the harness's inputs.
    """

    def __init__(self, kernel: SandboxedKernel, *, sink: OutputSink) -> None:
        self.kernel = kernel
        self.sink = sink
        self.deadline = float("inf")
        self._refs = 0
        self._server_defined = False  # the first request defines the server in the kernel; later ones call it

    def set_deadline(self, deadline: float) -> None:
        self.deadline = deadline

    def has(self, name: str) -> bool:
        return bool(self._request({"op": "has", "name": _checked_name(name)}))

    def get(self, name: str) -> Any:
        return self._request({"op": "get", "name": _checked_name(name)})

    def eval(self, expression: str) -> Any:
        return self._request({"op": "eval", "expr": expression})

    def define(self, expression: str) -> Ref:
        self._refs += 1
        ref = Ref(f"_gf_ref_{self._refs}_{secrets.token_hex(3)}")
        self._request({"op": "define", "name": ref.name, "expr": expression})
        return ref

    def call(self, function: str | Ref, *args: Any, **kwargs: Any) -> Any:
        target = function.name if isinstance(function, Ref) else _checked_name(function)
        return self._call({"op": "call", "function": target}, args, kwargs, label=f"{target}(...)")

    def call_method(self, obj: str | Ref, method: str, *args: Any, no_grad: bool = False, **kwargs: Any) -> Any:
        """obj.method(*args, **kwargs) in the kernel (see StudentHandle.call_method)."""
        target = _target(obj)
        request = {"op": "method", "target": target, "path": _checked_path(method), "no_grad": bool(no_grad)}
        return self._call(request, args, kwargs, label=f"{_label(obj, method)}(...)")

    def get_attr(self, obj: str | Ref, path: str) -> Any:
        """The attribute at dotted `path` of obj, as data (see StudentHandle.get_attr)."""
        return self._request({"op": "attr", "target": _target(obj), "path": _checked_path(path)},
                             label=f"reading {_label(obj, path)}")

    def seed(self, value: int) -> list[str]:
        """Seed random, NumPy's global generator and torch (where the environment has it) in the kernel; returns
        the names of what was seeded."""
        value = _checked_seed(value)
        return self._request({"op": "seed", "value": value}, label="seeding the random generators")

    def read_file(self, name: str, *, cap: int) -> bytes | None:
        """A file the student's code wrote in its working folder (else its home): at most cap + 1 bytes (more
        than cap: the caller reports it as too large), or None when there is none. The reply is hostile: base64
        text, length-checked before and after decoding."""
        value = self._request({"op": "file", "name": _checked_filename(name), "cap": int(cap)},
                              label=f"reading {name}")
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > 4 * ((cap + 1) // 3 + 1):
            raise StudentValueError(f"{name} did not come back as the file's bytes")
        try:
            data = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise StudentValueError(f"{name} did not come back as the file's bytes") from None
        return data[:cap + 1]

    def _call(self, request: dict, args: tuple, kwargs: dict, *, label: str) -> Any:
        nonce = secrets.token_hex(8)
        counter = [0]
        request["args"] = codec.encode_args(list(args), ipc_dir=self.kernel.ipc_dir, stem=f"in-{nonce}", counter=counter)
        request["kwargs"] = codec.encode_args(kwargs, ipc_dir=self.kernel.ipc_dir, stem=f"in-{nonce}", counter=counter)
        return self._request(request, nonce=nonce, label=label)

    def _request(self, request: dict, *, nonce: str | None = None, label: str = "") -> Any:
        if not self.kernel.alive():
            raise KernelDied("the kernel is no longer running")
        nonce = nonce or secrets.token_hex(8)
        reply_path = self.kernel.ipc_dir / f"out-{nonce}.json"
        reply_path.unlink(missing_ok=True)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise StudentTimeout("the check ran out of time")
        result = self._serve(request, nonce=nonce, timeout=remaining)
        try:
            if result.status is ExecStatus.TIMEOUT:
                raise StudentTimeout(f"{label or 'your code'} did not finish within the check's time limit")
            if result.status is ExecStatus.DIED or not self.kernel.alive():
                raise KernelDied("your code ended the Python process while the checks were running")
            if result.status is ExecStatus.OUTPUT_LIMIT:
                raise StudentValueError("your code printed too much while being checked")
            if result.status is ExecStatus.ERROR and not reply_path.exists():
                raise StudentError(f"{result.ename}: {result.evalue}"[:1000])
            reply = codec.parse_reply(codec.read_capped(reply_path))
            if not reply.ok and reply.ename == NEEDS_TORCH:  # the check asked for torch; the environment has none
                raise ValueError(f"{label or 'the request'} needs torch, which the student's environment lacks")
            if not reply.ok:
                raise StudentError(reply.error or "the request failed")
            return codec.decode_value(reply.value, ipc_dir=self.kernel.ipc_dir)
        finally:
            self._clean(nonce)

    def _serve(self, request: dict, *, nonce: str, timeout: float):
        """Run the request in the kernel: a one-line call of the server the first request defined, defining it
        again when the student's code removed it (a NameError naming it, and no reply)."""
        define = not self._server_defined
        code = request_code(request, ipc_inside=self.kernel.process.ipc_inside, nonce=nonce, define=define)
        result = self.kernel.execute(code, timeout=timeout, sink=self.sink)
        if (not define and result.status is ExecStatus.ERROR and result.ename == "NameError"
                and SERVER_NAME in (result.evalue or "")):
            code = request_code(request, ipc_inside=self.kernel.process.ipc_inside, nonce=nonce, define=True)
            result = self.kernel.execute(code, timeout=max(self.deadline - time.monotonic(), 0.001), sink=self.sink)
        self._server_defined = True
        return result

    def _clean(self, nonce: str) -> None:
        for path in self.kernel.ipc_dir.glob(f"*-{nonce}*"):
            try:
                path.unlink()
            except OSError:
                pass


def _checked_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a Python name: {name!r}")
    return name


def _checked_filename(name: str) -> str:
    """A plain file name (no folder, not '.' or '..')."""
    if not isinstance(name, str) or not _FILENAME.fullmatch(name) or set(name) == {"."}:
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def _checked_path(path: str) -> str:
    """A dotted attribute path ("fc.weight", "layers.0.bias"): names, or indices as in state_dict keys."""
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        raise ValueError(f"not a dotted attribute path: {path!r}")
    return path


def _target(obj: str | Ref) -> str:
    return obj.name if isinstance(obj, Ref) else _checked_name(obj)


def _label(obj: str | Ref, member: str) -> str:
    """How a timeout names the call to the student: a Ref's generated name means nothing to them."""
    return member if isinstance(obj, Ref) else f"{obj}.{member}"


def _checked_seed(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value < 2**32:
        raise ValueError(f"a kernel seed is an integer in [0, 2**32), not {value!r}")
    return int(value)
