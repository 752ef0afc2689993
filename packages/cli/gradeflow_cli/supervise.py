"""A small process supervisor for `gradeflow up`: start programs, restart any that exit, stop them all cleanly.

Why not supervisord: after `startretries` quick failures it marks a program FATAL and never tries again (a
worker that cannot reach Redis for a minute would stay down for good), and it needs a config file and its own
daemon. Honcho stops everything when one process exits. What is needed here is small: restart with
exponential backoff, forever, with a log line each time, and an orderly stop on Ctrl-C or SIGTERM.

Each child runs in its own session (its own process group), so Ctrl-C reaches only the supervisor, and a
child's leftovers (a Celery pool process, a sandbox) are killed with it. A child whose supervisor dies gets
SIGTERM (Linux PR_SET_PDEATHSIG), so nothing is left running behind a killed `gradeflow up`.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Program:
    """One supervised command."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None  # None: the supervisor's environment
    log: Path | None = None  # stdout and stderr go here (appended); None: the supervisor's own
    group: str = ""  # groups stop in the reverse order they start; a group stops all at once
    ready: Callable[[], bool] | None = None  # started programs wait for this before the next one starts


@dataclass(frozen=True)
class Backoff:
    """Delay before restart n of a program that keeps failing: first_s, then times factor, at most max_s."""

    first_s: float = 1.0
    factor: float = 2.0
    max_s: float = 30.0
    healthy_s: float = 30.0  # a run at least this long was healthy: the next restart waits first_s again

    def delay(self, failures: int) -> float:
        return min(self.max_s, self.first_s * self.factor ** max(0, failures - 1))


@dataclass
class Child:
    program: Program
    proc: subprocess.Popen | None = None
    started: float = 0.0
    failures: int = 0  # consecutive runs shorter than backoff.healthy_s
    restarts: int = 0
    restart_at: float | None = None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _say(line: str) -> None:
    print(f"{datetime.now():%H:%M:%S} [up] {line}", file=sys.stderr, flush=True)


@dataclass
class Supervisor:
    """Runs `programs` until `stop` is set (run) and keeps each one running, restarting it with backoff."""

    programs: Sequence[Program]
    backoff: Backoff = field(default_factory=Backoff)
    say: Callable[[str], None] = _say
    state_file: Path | None = None  # {name: {pid, restarts}}, rewritten on every start
    stop_timeout_s: float = 10.0  # SIGTERM, then this long, then SIGKILL
    ready_timeout_s: float = 20.0
    poll_s: float = 0.2

    def __post_init__(self) -> None:
        self.children = [Child(program) for program in self.programs]
        self.hurry = threading.Event()  # set by a second Ctrl-C: kill at once

    def run(self, stop: threading.Event) -> None:
        try:
            self.start_all(stop)
            while not stop.wait(self.poll_s):
                self.poll()
        finally:
            self.stop_all()

    def start_all(self, stop: threading.Event | None = None) -> None:
        for child in self.children:
            if stop is not None and stop.is_set():
                return
            self._spawn(child)
            self._wait_ready(child, stop)

    def poll(self, now: float | None = None) -> None:
        """Notice exits and schedule restarts; start what is due."""
        now = time.monotonic() if now is None else now
        for child in self.children:
            proc = child.proc
            if proc is not None and proc.poll() is not None:
                self._reap(child, now)
            elif child.proc is None and child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)

    def _reap(self, child: Child, now: float) -> None:
        proc = child.proc
        _kill_group(proc.pid, signal.SIGKILL)  # what it left behind goes with it
        lived = now - child.started
        child.failures = 1 if lived >= self.backoff.healthy_s else child.failures + 1
        delay = self.backoff.delay(child.failures)
        child.proc, child.restart_at = None, now + delay
        self.say(f"{child.program.name} (pid {proc.pid}) {describe_exit(proc.returncode)} after {lived:.1f} s; "
                 f"restarting in {delay:.1f} s")

    def _spawn(self, child: Child) -> None:
        program = child.program
        out = open(program.log, "ab") if program.log else None
        try:
            child.proc = subprocess.Popen(list(program.argv), env=dict(program.env) if program.env is not None else None,
                                          stdout=out, stderr=subprocess.STDOUT if out else None, stdin=subprocess.DEVNULL,
                                          start_new_session=True, preexec_fn=_die_with_parent)
        except OSError as exc:
            child.proc, child.failures = None, child.failures + 1
            child.restart_at = time.monotonic() + self.backoff.delay(child.failures)
            self.say(f"{program.name} could not start: {exc}; trying again in {self.backoff.delay(child.failures):.1f} s")
            return
        finally:
            if out:
                out.close()
        child.started, child.restart_at = time.monotonic(), None
        where = f", log {program.log}" if program.log else ""
        self.say(f"{program.name} started (pid {child.proc.pid}{where})")
        self._write_state()

    def _wait_ready(self, child: Child, stop: threading.Event | None) -> None:
        if child.program.ready is None or child.proc is None:
            return
        end = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < end and not (stop is not None and stop.is_set()):
            if child.program.ready():
                return
            if child.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.say(f"{child.program.name} is not ready yet; starting the others anyway")

    def stop_all(self) -> None:
        """SIGTERM each group (last started first), wait up to stop_timeout_s, then SIGKILL what is left."""
        groups: list[str] = []
        for child in self.children:
            if child.program.group not in groups:
                groups.append(child.program.group)
        for group in reversed(groups):
            members = [c for c in self.children if c.program.group == group and c.proc is not None]
            for child in members:
                _kill_group(child.proc.pid, signal.SIGTERM)
            end = time.monotonic() + self.stop_timeout_s
            for child in members:
                while child.proc.poll() is None and time.monotonic() < end and not self.hurry.is_set():
                    time.sleep(0.05)
                _kill_group(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
                self.say(f"{child.program.name} stopped ({describe_exit(child.proc.returncode)})")
                child.proc = None
        self._write_state()

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        state = {"supervisor": os.getpid(), "programs": {
            c.program.name: {"pid": c.proc.pid if c.proc else None, "restarts": c.restarts} for c in self.children}}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.state_file)


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_on_signals(stop: threading.Event, supervisor: Supervisor) -> None:
    """Ctrl-C or SIGTERM stops everything in order; a second one kills what is still stopping."""

    def handle(signum, _frame) -> None:
        if stop.is_set():
            supervisor.hurry.set()
        else:
            supervisor.say(f"{signal.Signals(signum).name}: stopping everything")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)
