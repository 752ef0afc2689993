"""Drive an ipykernel that runs inside a sandbox, from outside, over Unix sockets (ipc transport)."""
from __future__ import annotations

import json
import queue
import re
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from jupyter_client.blocking import BlockingKernelClient

from gradeflow_worker.sandbox.base import Sandbox, SandboxProcess, SandboxSpec
from gradeflow_worker.kernel_snippets import output_governor_code, preload_code

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
KERNEL_ARGV_TAIL = ["-m", "ipykernel_launcher", "-f", "{ipc}/kernel.json", "--HistoryManager.enabled=False",
                    "--IPKernelApp.no_stdout=False", "--Session.signature_scheme=hmac-sha256"]


class ExecStatus(StrEnum):
    OK = "ok"
    ERROR = "error"  # the code raised; the kernel is alive
    TIMEOUT = "timeout"  # interrupted; kernel state given in `alive`
    DIED = "died"  # the kernel process ended
    OUTPUT_LIMIT = "output_limit"


@dataclass
class ExecResult:
    status: ExecStatus
    alive: bool = True
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    seconds: float = 0.0


@dataclass
class OutputSink:
    """Collects what the kernel prints; counts every byte against the hard cap."""

    max_bytes: int
    total: int = 0
    chunks: list[str] = field(default_factory=list)

    def add(self, text: str) -> bool:
        """Record text; False once the hard cap is passed."""
        self.total += len(text.encode("utf-8", "replace"))
        if self.total <= self.max_bytes:
            self.chunks.append(text)
        return self.total <= self.max_bytes

    def text(self) -> str:
        return "".join(self.chunks)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class KernelStartError(RuntimeError):
    """The kernel never came up: an infrastructure problem, not the student's."""


class SandboxedKernel:
    """One kernel in one sandbox; `execute` runs code and collects its output into a sink."""

    def __init__(self, sandbox: Sandbox, spec: SandboxSpec, *, python: str, image: str | None = None) -> None:
        self.sandbox = sandbox
        self.spec = spec
        self.python = python
        self.image = image  # a container backend's image for the student environment; None: its default
        self.process: SandboxProcess | None = None
        self.client: BlockingKernelClient | None = None

    def start(self, timeout: float = 60.0) -> None:
        key = secrets.token_hex(32)
        ipc = self.spec.ipc_dir
        base = {"transport": "ipc", "shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5,
                "key": key, "signature_scheme": "hmac-sha256", "kernel_name": "python3"}
        # both sinks (cells, checks) may each fill to the cap before the harness stops the run
        governor = output_governor_code(2 * self.spec.limits.max_output_kb * 1024 + 1)
        argv = [self.python, *KERNEL_ARGV_TAIL, f"--IPKernelApp.exec_lines={governor}\n{preload_code()}"]
        spec = SandboxSpec(run_id=self.spec.run_id, argv=argv, ipc_dir=ipc, files=self.spec.files,
                           public_dir=self.spec.public_dir, limits=self.spec.limits,
                           env={"IPYTHONDIR": "/tmp/.ipython", "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter"} | self.spec.env,
                           python=self.python, image=self.image)
        ipc.mkdir(parents=True, exist_ok=True)
        (ipc / "kernel.json").write_text(json.dumps(base | {"ip": f"{self.sandbox.ipc_path(spec)}/k"}))
        (ipc / "kernel.json").chmod(0o644)
        self.process = self.sandbox.start(spec)
        client = BlockingKernelClient()
        client.load_connection_info(base | {"ip": str(ipc / "k")})
        client.start_channels()
        self.client = client
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        """Wait until the kernel has bound its sockets, then for its first kernel_info reply."""
        assert self.client is not None and self.process is not None
        deadline = time.monotonic() + timeout
        shell = self.spec.ipc_dir / "k-1"
        while not shell.exists():
            if self.process.poll() is not None:
                raise KernelStartError(f"kernel exited during start: {self.process.stderr_tail(2000)}")
            if time.monotonic() > deadline:
                raise KernelStartError(f"kernel not ready after {timeout:.0f} s: {self.process.stderr_tail(2000)}")
            time.sleep(0.01)
        try:
            self.client.wait_for_ready(timeout=max(1.0, deadline - time.monotonic()))
        except RuntimeError as exc:
            raise KernelStartError(f"kernel did not answer: {exc}; {self.process.stderr_tail(2000)}") from None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def execute(self, code: str, *, timeout: float, sink: OutputSink) -> ExecResult:
        """Run code; stream output into sink; interrupt on timeout; notice a dead kernel."""
        assert self.client is not None
        start = time.monotonic()
        msg_id = self.client.execute(code, silent=False, store_history=False, allow_stdin=False)
        result = ExecResult(ExecStatus.OK)
        deadline = start + timeout
        while True:
            if time.monotonic() > deadline:
                result = self._interrupt(result, msg_id)
                break
            try:
                msg = self.client.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                if not self.alive():
                    result.status, result.alive = ExecStatus.DIED, False
                    break
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if not self._collect(kind, content, sink, result):
                result.status = ExecStatus.OUTPUT_LIMIT
                break
        result.seconds = time.monotonic() - start
        return result

    @staticmethod
    def _collect(kind: str, content: dict, sink: OutputSink, result: ExecResult) -> bool:
        if kind == "stream":
            return sink.add(content.get("text", ""))
        if kind == "error":
            result.status = ExecStatus.ERROR
            result.ename, result.evalue = content.get("ename", ""), content.get("evalue", "")
            result.traceback = strip_ansi("\n".join(content.get("traceback", [])))
            return sink.add(result.traceback + "\n")
        if kind in ("display_data", "execute_result", "update_display_data"):
            data = content.get("data", {})
            size_ok = sink.add(str(data.get("text/plain", "")) + "\n")
            extra = sum(len(str(v)) for k, v in data.items() if k != "text/plain")
            sink.total += extra
            return size_ok and sink.total <= sink.max_bytes
        return True

    def _interrupt(self, result: ExecResult, msg_id: str) -> ExecResult:
        """Ask the kernel to interrupt itself (control channel); give up on it if it will not."""
        assert self.client is not None
        result.status = ExecStatus.TIMEOUT
        msg = self.client.session.msg("interrupt_request", {})
        self.client.control_channel.send(msg)
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            try:
                msg = self.client.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                if not self.alive():
                    break
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return result
        result.alive = False
        self.kill()
        return result

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def close(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        if self.process is not None:
            self.process.cleanup()

    @property
    def ipc_dir(self) -> Path:
        return self.spec.ipc_dir
