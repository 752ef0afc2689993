"""Warm sandboxes: kernels started inside fresh sandboxes ahead of demand, each used for exactly one submission.

A warm kernel is started with the limits and the student environment the next job is expected to have (the
settings' defaults and the default environment at first, then those of the job just taken: the next job is most
often for the same assignment) and with nothing of any student's in it. When a job arrives whose limits and
environment are the same (its WarmKey), the harness takes the kernel, hands it the submission and the
assignment's public files (written into directories the sandbox already binds), and the kernel is destroyed
after that one run. A job with other limits or another environment starts a kernel cold, as before. Limits
and the per-run enforcement report are exactly those of a cold start: the sandbox is started the same way.

One pool per worker process (Celery's prefork children each grade one job at a time), so the pool is sized
to the worker's concurrency: while a job runs, the next kernel starts beside it.
"""
from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gradeflow_protocol.messages import Limits
from gradeflow_worker.environments import StudentEnvironment
from gradeflow_worker.kernel import ExecStatus, OutputSink, SandboxedKernel
from gradeflow_worker.sandbox.base import Sandbox, SandboxSpec

log = logging.getLogger(__name__)
INBOX = "inbox"  # inside the run's IPC directory: where a taken kernel's submission file is handed over


@dataclass(frozen=True)
class WarmKey:
    """What a warm kernel must share with a job to serve it: the limits it was started with and its environment."""

    limits: Limits
    environment: StudentEnvironment


@dataclass
class Slot:
    """One started kernel and the host directories of its sandbox (removed with it)."""

    kernel: SandboxedKernel
    run_root: Path
    public_dir: Path
    key: WarmKey  # the limits and environment it was started with
    started_s: float  # how long the start took

    def close(self) -> None:
        self.kernel.close()
        shutil.rmtree(self.run_root, ignore_errors=True)


def new_run_root(run_dir: Path) -> Path:
    """A fresh directory for one run; the worker's pid in its name lets orphans of a dead worker be reaped."""
    root = run_dir / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    (root / "ipc").mkdir(parents=True)
    return root


def start_slot(sandbox: Sandbox, *, run_dir: Path, key: WarmKey) -> Slot:
    """Start a kernel in a fresh sandbox holding no submission: an empty public directory is bound where the
    assignment's public files go, so they can be written after the start."""
    root = new_run_root(run_dir)
    public = root / "public"
    public.mkdir()
    spec = SandboxSpec(run_id=root.name, argv=[], ipc_dir=root / "ipc", files={}, public_dir=public,
                       limits=key.limits)
    kernel = SandboxedKernel(sandbox, spec, python=key.environment.python, image=key.environment.image)
    began = time.monotonic()
    try:
        kernel.start()
    except BaseException:
        kernel.close()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Slot(kernel=kernel, run_root=root, public_dir=public, key=key, started_s=time.monotonic() - began)


def hand_over(slot: Slot, *, files: dict[str, bytes], public_src: Path | None, timeout: float = 10.0) -> None:
    """Give a taken kernel its one submission: public files into the bound directory, the submission's files
    (relative paths, subfolders allowed: a zip's members) into the kernel's home (as a cold start places them).
    Only plain file copies run in the kernel."""
    if public_src is not None and public_src.is_dir():
        shutil.copytree(public_src, slot.public_dir, dirs_exist_ok=True)
    inbox = slot.kernel.spec.ipc_dir / INBOX
    inbox.mkdir(exist_ok=True)
    inbox.chmod(0o755)
    for name, data in files.items():
        target = inbox / name
        if inbox.resolve() not in target.resolve().parents:  # names come from safezip; checked again anyway
            raise ValueError(f"submission file name escapes the home: {name!r}")
        for parent in reversed(target.relative_to(inbox).parents[:-1]):
            (inbox / parent).mkdir(exist_ok=True)
            (inbox / parent).chmod(0o755)
        target.write_bytes(data)
        target.chmod(0o644)
    inside = f"{slot.kernel.sandbox.ipc_path(slot.kernel.spec)}/{INBOX}"
    code = ("def _gf_place(src):\n    import os, shutil\n    for folder, _, names in os.walk(src):\n"
            "        to = os.path.relpath(folder, src)\n        os.makedirs(to, exist_ok=True)\n"
            "        for name in names:\n            shutil.copyfile(os.path.join(folder, name), os.path.join(to, name))\n"
            f"_gf_place({inside!r})\ndel _gf_place")
    result = slot.kernel.execute(code, timeout=timeout, sink=OutputSink(64 * 1024))
    if result.status is not ExecStatus.OK:
        raise RuntimeError(f"could not hand the submission to the warm kernel: {result.status} {result.evalue}")


class KernelPool:
    """Warm kernels for one worker process: `take` one whose key (limits and environment) matches, `refill` in
    the background.

    Each kernel is used once: `take` removes it from the pool; the harness closes it after its run.
    """

    def __init__(self, start: Callable[[WarmKey], Slot], *, size: int = 1,
                 on_change: Callable[[int, bool | None], None] = lambda size, hit: None) -> None:
        self._start = start
        self._size = size
        self._ready: list[Slot] = []
        self._starting: list[WarmKey] = []  # the keys of the kernels being started
        self._lock = threading.Lock()
        self._closed = False
        self._requests: queue.Queue[WarmKey | None] = queue.Queue()
        self._starter: threading.Thread | None = None
        self._on_change = on_change  # (warm kernels ready, hit? / None for a size change): for metrics
        self.hits = self.misses = 0

    def take(self, key: WarmKey) -> Slot | None:
        """A ready kernel started with exactly these limits in this environment, or None (a miss: start one cold)."""
        with self._lock:
            found = next((slot for slot in self._ready if slot.key == key and slot.kernel.alive()), None)
            if found is not None:
                self._ready.remove(found)
            stale = [slot for slot in self._ready if slot.key != key or not slot.kernel.alive()]
            for slot in stale:  # the next jobs are likely like this one: make room for kernels that fit them
                self._ready.remove(slot)
            self.hits += found is not None
            self.misses += found is None
            ready = len(self._ready)
        for slot in stale:
            slot.close()
        log.info("warm pool: %s (%d discarded, %d still ready)", "hit" if found else "miss", len(stale), ready)
        self._on_change(ready, found is not None)
        return found

    def refill(self, key: WarmKey) -> None:
        """Start kernels with these limits and environment in the background until the pool is full."""
        with self._lock:
            fitting = sum(slot.key == key for slot in self._ready) + self._starting.count(key)
            # kernels started for other keys do not count, but never more than twice the pool is in flight
            missing = min(self._size - fitting, 2 * self._size - len(self._starting))
            if self._closed or missing <= 0:
                return
            self._starting += [key] * missing
        for _ in range(missing):
            self._requests.put(key)
        self._ensure_starter()

    def _ensure_starter(self) -> None:
        """One long-lived thread starts every kernel: a sandbox dies with the thread that spawned it (bwrap's
        --die-with-parent is a parent-death signal, which Linux ties to the spawning thread), so it must not be a
        thread that ends after the start."""
        with self._lock:
            if self._starter is None or not self._starter.is_alive():
                self._starter = threading.Thread(target=self._serve, daemon=True, name="warm-kernels")
                self._starter.start()

    def _serve(self) -> None:
        while True:
            key = self._requests.get()
            if key is None:
                return
            self._start_one(key)

    def _start_one(self, key: WarmKey) -> None:
        slot = None
        try:
            slot = self._start(key)
        except Exception:
            log.exception("a warm kernel did not start; the next job starts its own")
        with self._lock:
            self._starting.remove(key)
            keep = slot is not None and not self._closed
            if keep:
                self._ready.append(slot)
                log.info("warm pool: a kernel is ready (started in %.2f s)", slot.started_s)
            ready = len(self._ready)
        if slot is not None and not keep:
            slot.close()
        self._on_change(ready, None)

    def wait_ready(self, timeout: float) -> bool:
        """For tests and benchmarks: True once a kernel is ready."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._ready:
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            slots, self._ready = self._ready, []
        self._requests.put(None)
        for slot in slots:
            slot.close()


_PROCESS_POOL: tuple[int, KernelPool] | None = None
_PROCESS_LOCK = threading.Lock()


def process_pool(make: Callable[[], KernelPool]) -> KernelPool:
    """This worker process's pool, made on first use (a forked child never inherits its parent's kernels)."""
    global _PROCESS_POOL
    with _PROCESS_LOCK:
        if _PROCESS_POOL is None or _PROCESS_POOL[0] != os.getpid():
            _PROCESS_POOL = (os.getpid(), make())
        return _PROCESS_POOL[1]
