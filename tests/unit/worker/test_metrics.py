"""The worker's exporter adds up what its forked pool processes record (prometheus_client multiprocess mode)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from gradeflow_worker.metrics import start_metrics_server
from gradeflow_worker.settings import WorkerSettings

# Runs in its own interpreter: multiprocess mode changes process-wide state (an environment variable and
# prometheus_client's value class) that must not leak into the test process.
SCRIPT = textwrap.dedent("""
    import os, sys, urllib.request
    from pathlib import Path
    from gradeflow_worker import metrics
    from gradeflow_worker.settings import WorkerSettings

    port = metrics.start_metrics_server(WorkerSettings(var_dir=Path(sys.argv[1]), metrics_port=0))
    pid = os.fork()
    if pid == 0:  # a pool process
        m = metrics.get_worker_metrics()
        m.warm_pool_size.set(3)
        m.warm_pool_hits.inc(2)
        m.warm_pool_misses.inc()
        os._exit(0)
    os.waitpid(pid, 0)
    read = lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    print(read())
    metrics._pool_process_ended(pid=pid)
    print("--- after the pool process ended ---")
    print(read())
""")


def test_no_port_no_server(tmp_path):
    assert start_metrics_server(WorkerSettings(var_dir=tmp_path)) is None


def test_the_exporter_sums_the_pool_processes(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.split("--- after the pool process ended ---")
    assert "gradeflow_warm_pool_hits_total 2.0" in before
    assert "gradeflow_warm_pool_misses_total 1.0" in before
    assert "gradeflow_warm_pool_size 3.0" in before
    assert "gradeflow_warm_pool_hits_total 2.0" in after and "gradeflow_warm_pool_size 3.0" not in after
