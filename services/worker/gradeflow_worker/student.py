"""KernelStudent: the narrow handle checks use to reach the student's live kernel."""
from __future__ import annotations

import re
import secrets
import time
from typing import Any

from gradeflow_graders.api import KernelDied, Ref, StudentError, StudentTimeout, StudentValueError
from gradeflow_worker import codec
from gradeflow_worker.kernel import ExecStatus, OutputSink, SandboxedKernel
from gradeflow_worker.kernel_snippets import request_code

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
        nonce = secrets.token_hex(8)
        counter = [0]
        encoded_args = codec.encode_args(list(args), ipc_dir=self.kernel.ipc_dir, stem=f"in-{nonce}", counter=counter)
        encoded_kwargs = codec.encode_args(kwargs, ipc_dir=self.kernel.ipc_dir, stem=f"in-{nonce}", counter=counter)
        request = {"op": "call", "function": target, "args": encoded_args, "kwargs": encoded_kwargs}
        return self._request(request, nonce=nonce, label=f"{target}(...)")

    def _request(self, request: dict, *, nonce: str | None = None, label: str = "") -> Any:
        if not self.kernel.alive():
            raise KernelDied("the kernel is no longer running")
        nonce = nonce or secrets.token_hex(8)
        reply_path = self.kernel.ipc_dir / f"out-{nonce}.json"
        reply_path.unlink(missing_ok=True)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise StudentTimeout("the check ran out of time")
        code = request_code(request, ipc_inside=self.kernel.process.ipc_inside, nonce=nonce)
        result = self.kernel.execute(code, timeout=remaining, sink=self.sink)
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
            if not reply.ok:
                raise StudentError(reply.error or "the request failed")
            return codec.decode_value(reply.value, ipc_dir=self.kernel.ipc_dir)
        finally:
            self._clean(nonce)

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
