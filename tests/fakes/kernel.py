"""A stand-in for SandboxedKernel: no sandbox, no Jupyter. Code runs with exec() in one namespace of this process,
so the worker's real KernelStudent, codec and kernel-side request server can be driven in-process (unit tests,
bench/gpu_handle.py). NOT a boundary: never for real submissions."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gradeflow_worker.kernel import ExecResult, ExecStatus, OutputSink


@dataclass
class _Process:
    ipc_inside: str


class ExecKernel:
    """Runs code with exec() in one namespace; the IPC directory is the host directory itself."""

    def __init__(self, ipc_dir: Path, source: str) -> None:
        self.ipc_dir = ipc_dir
        self.process = _Process(str(ipc_dir))
        self.namespace: dict = {"__name__": "__main__"}
        exec(source, self.namespace)

    def alive(self) -> bool:
        return True

    def execute(self, code: str, *, timeout: float, sink: OutputSink) -> ExecResult:
        try:
            exec(code, self.namespace)
        except Exception as exc:  # reported as the real kernel reports an error
            return ExecResult(ExecStatus.ERROR, ename=type(exc).__name__, evalue=str(exc))
        return ExecResult(ExecStatus.OK)
