"""A Docker engine for the tests: the one DOCKER_HOST names, or our own dockerd, plus the sandbox image."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

OWN_ROOT = Path(os.environ.get("GRADEFLOW_TEST_DOCKER_ROOT", "/var/lib/gradeflow-test-docker"))  # kept: image cache
OWN_SOCKET = "unix:///run/gradeflow-test-docker.sock"
IMAGE = "gradeflow-sandbox:latest"


def docker_ok(host: str | None) -> bool:
    env = dict(os.environ) | ({"DOCKER_HOST": host} if host else {})
    try:
        return subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], env=env, capture_output=True,
                              timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def start_own_dockerd() -> subprocess.Popen:
    """dockerd with no iptables, no bridge, overlay2, its own data root and socket (nothing can be pulled)."""
    OWN_ROOT.mkdir(parents=True, exist_ok=True)
    log = open(OWN_ROOT / "dockerd.log", "ab")
    proc = subprocess.Popen(["dockerd", "--iptables=false", "--ip6tables=false", "--bridge=none",
                             "--storage-driver=overlay2", "--data-root", str(OWN_ROOT / "data"),
                             "--exec-root", "/run/gradeflow-test-docker", "--pidfile", "/run/gradeflow-test-docker.pid",
                             "-H", OWN_SOCKET], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    end = time.monotonic() + 60
    while time.monotonic() < end and proc.poll() is None:
        if docker_ok(OWN_SOCKET):
            return proc
        time.sleep(0.5)
    proc.terminate()
    tail = (OWN_ROOT / "dockerd.log").read_text(errors="replace")[-1500:]
    pytest.skip(f"Docker cannot start here: dockerd did not come up ({tail.strip().splitlines()[-1:]})")


def build_image(host: str) -> None:
    """Build (or reuse, by fingerprint) the sandbox image from this host's Python; nothing is pulled."""
    env = dict(os.environ) | {"DOCKER_HOST": host, "GRADEFLOW_SANDBOX_IMAGE": IMAGE}
    out = subprocess.run(["bash", str(REPO / "services" / "worker" / "sandbox_image" / "build_image.sh")], env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"sandbox image build failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"


@pytest.fixture(scope="session")
def docker_host():
    """DOCKER_HOST for the tests; skips (with the reason) only where Docker cannot start at all."""
    if shutil.which("docker") is None or (shutil.which("dockerd") is None and not docker_ok(None)):
        pytest.skip("Docker cannot start here: no docker CLI or dockerd (apt-get install docker.io)")
    given = os.environ.get("DOCKER_HOST")
    proc = None
    if given and docker_ok(given):
        host = given
    elif docker_ok(OWN_SOCKET):
        host = OWN_SOCKET
    else:
        proc = start_own_dockerd()
        host = OWN_SOCKET
    build_image(host)
    yield host
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
