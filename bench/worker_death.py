"""How long a submission whose worker was SIGKILLed takes to be graded by another worker."""
from __future__ import annotations

import argparse
import os
import signal
import time

from _stack import bench_stack, reference_script


def wait_running(stack, sid: int) -> None:
    while stack.get(sid, username="ta1").json()["status"] != "running":
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--heartbeat-timeout", default="6")
    args = parser.parse_args()
    slow = b"import time\ntime.sleep(3)\n" + reference_script()
    with bench_stack(workers=2, GRADEFLOW_HEARTBEAT_TIMEOUT_S=args.heartbeat_timeout) as stack:
        sid = stack.submit("slow.py", slow).json()["id"]
        wait_running(stack, sid)
        worker = stack.get(sid, username="ta1").json()["worker"]
        pool_pid = int(worker.rsplit(":", 1)[1])  # the pool process grading it
        with open(f"/proc/{pool_pid}/status") as fh:
            parent = int(next(line for line in fh if line.startswith("PPid:")).split()[1])
        victim = next(p for p in stack.workers if p.pid == parent)
        time.sleep(0.5)
        killed = time.perf_counter()
        os.killpg(victim.pid, signal.SIGKILL)
        body = stack.wait(sid, username="ta1", timeout=300)
        back = time.perf_counter() - killed
    print(f"worker {worker} SIGKILLed mid-run; graded again after {back:.1f} s (heartbeat timeout "
          f"{args.heartbeat_timeout} s, sweep every 1 s); attempt {body['attempt']}, runs {body['runs']}, "
          f"score {body['score']}")


if __name__ == "__main__":
    main()
