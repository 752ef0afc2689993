"""Private "machines" for integration tests: network namespaces joined by veth links (iproute2, root only).

A `Lab` owns everything it makes (namespaces, links, processes) under one random prefix, so two runs never
collide, and `close()` takes it all down again, also after a failure. A process joins a machine with
`nsenter --net` plus its own UTS and IPC namespaces (a hostname of its own, private SysV memory); the mount
namespace is left alone, unlike `ip netns exec`, which remounts /sys and would hide the cgroup mounts from a
worker's sandbox.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

NETNS_DIR = Path("/run/netns")
_PROBE = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `ip ARGS`; raise with its stderr when it fails and `check` is set."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def unavailable_reason() -> str | None:
    """Why this host cannot run a Lab (None when it can): root, iproute2, util-linux, a working `ip netns add`."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [tool for tool in ("ip", "nsenter", "unshare", "hostname") if shutil.which(tool) is None]
    if missing:
        return f"missing {', '.join(missing)} (packages iproute2, util-linux, hostname)"
    probe = f"gfprobe{secrets.token_hex(3)}"
    made = ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    ip("netns", "del", probe, check=False)
    return None


@dataclass(frozen=True)
class Machine:
    """One network namespace, named `<prefix>-<role>`."""

    name: str
    role: str

    @property
    def path(self) -> Path:
        return NETNS_DIR / self.name

    def argv(self, command: list[str], *, hostname: str | None = None) -> list[str]:
        """`command` run on this machine: its network, a fresh UTS (hostname) and IPC namespace."""
        name = hostname or self.name
        return ["nsenter", f"--net={self.path}", "--", "unshare", "--uts", "--ipc", "--",
                "sh", "-c", 'hostname "$0" && exec "$@"', name, *command]

    def pids(self) -> list[int]:
        done = ip("netns", "pids", self.name, check=False)
        return [int(p) for p in done.stdout.split()] if done.returncode == 0 else []

    def routes(self) -> list[str]:
        return [line.strip() for line in ip("-n", self.name, "-4", "route", "show").stdout.splitlines()
                if line.strip()]

    def has_route(self, address: str) -> bool:
        """Whether this machine has any route to `address` (sends nothing)."""
        return ip("-n", self.name, "route", "get", address, check=False).returncode == 0

    def can_connect(self, host: str, port: int) -> bool:
        """Whether a TCP connection from this machine to host:port succeeds within 2 s."""
        done = subprocess.run(["nsenter", f"--net={self.path}", "--", sys.executable, "-c", _PROBE, host, str(port)],
                              capture_output=True, timeout=20)
        return done.returncode == 0


@dataclass
class Link:
    """A veth pair on a /30 between `a` (None: the test's own namespace) and `b`."""

    a: Machine | None
    b: Machine
    a_dev: str
    b_dev: str
    a_addr: str
    b_addr: str


@dataclass
class Lab:
    """Namespaces, links and processes made by one test run, all removed by `close()`."""

    prefix: str = field(default_factory=lambda: f"gf{secrets.token_hex(3)}")
    machines: list[Machine] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    procs: list[subprocess.Popen] = field(default_factory=list)

    def machine(self, role: str) -> Machine:
        machine = Machine(name=f"{self.prefix}-{role}", role=role)
        ip("netns", "add", machine.name)
        self.machines.append(machine)
        ip("-n", machine.name, "link", "set", "lo", "up")
        return machine

    def link(self, a: Machine | None, b: Machine, *, subnet: str) -> Link:
        """A veth pair between `a` (None: the host's own namespace) and `b` on the /30 `subnet` ("10.254.7.0"):
        `a` gets .1, `b` gets .2. Device names stay under 15 characters: prefix + the two roles."""
        a_addr, b_addr = _host(subnet, 1), _host(subnet, 2)
        a_dev = f"{self.prefix}{(a.role if a else 'h')[:2]}{b.role[:2]}"[:15]
        b_dev = f"{self.prefix}{b.role[:2]}{(a.role if a else 'h')[:2]}"[:15]
        a_side = ["netns", a.name] if a else []
        ip("link", "add", a_dev, *a_side, "type", "veth", "peer", "name", b_dev, "netns", b.name)
        link = Link(a=a, b=b, a_dev=a_dev, b_dev=b_dev, a_addr=a_addr, b_addr=b_addr)
        self.links.append(link)
        for machine, dev, addr in ((a, a_dev, a_addr), (b, b_dev, b_addr)):
            where = ["-n", machine.name] if machine else []
            ip(*where, "addr", "add", f"{addr}/30", "dev", dev)
            ip(*where, "link", "set", dev, "up")
        return link

    def start(self, machine: Machine, command: list[str], *, env: dict[str, str], log: Path,
              hostname: str | None = None) -> subprocess.Popen:
        """Start a long-running process on `machine` (its own session), output to `log`."""
        with open(log, "ab") as out:
            proc = subprocess.Popen(machine.argv(command, hostname=hostname), env=env, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(proc)
        return proc

    def run(self, machine: Machine, command: list[str], *, env: dict[str, str] | None = None,
            cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a command to completion on `machine`; raise with its output when it fails."""
        done = subprocess.run(machine.argv(command), env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{command} on {machine.name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def destroy(self, machine: Machine) -> None:
        """The machine is gone: every process in its namespace is killed (SIGKILL) and the namespace deleted,
        which takes its veth ends, and so the links, with it."""
        for _ in range(50):
            pids = machine.pids()
            if not pids:
                break
            for pid in pids:
                _kill(pid)
            time.sleep(0.1)
        ip("netns", "del", machine.name, check=False)
        if machine in self.machines:
            self.machines.remove(machine)

    def close(self) -> None:
        """Take everything down: processes (TERM, then KILL), namespaces, host-side link ends."""
        for proc in self.procs:
            if proc.poll() is None:
                _killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + 10
        for proc in self.procs:
            try:
                proc.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                _killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        for machine in list(self.machines):
            self.destroy(machine)
        for link in self.links:
            if link.a is None and ip("link", "show", "dev", link.a_dev, check=False).returncode == 0:
                ip("link", "del", "dev", link.a_dev, check=False)

    def leftovers(self) -> list[str]:
        """Namespaces or host links of this Lab still present (empty after a clean `close()`)."""
        names = [p.name for p in NETNS_DIR.glob(f"{self.prefix}-*")] if NETNS_DIR.exists() else []
        devs = [line.split(":")[1].strip().split("@")[0] for line in ip("-o", "link", "show").stdout.splitlines()
                if self.prefix in line]
        return names + devs


def _host(base: str, offset: int) -> str:
    head, last = base.rsplit(".", 1)
    return f"{head}.{int(last) + offset}"


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def free_link_subnet(first: int = 16, last: int = 250) -> str:
    """A 10.254.X.0/30 the host's own namespace has no route into (the one link the test itself holds)."""
    taken = ip("-4", "route", "show").stdout + ip("-4", "addr", "show").stdout
    for _ in range(100):
        third = secrets.randbelow(last - first + 1) + first
        if f"10.254.{third}." not in taken:
            return f"10.254.{third}.0"
    raise RuntimeError("no free 10.254.X.0/30 for the host link")
