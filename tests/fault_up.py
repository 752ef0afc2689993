"""`gradeflow up` with fault-test workers (tests/fault_worker.py) instead of `gradeflow worker`: for tests only.

    python -m tests.fault_up --port 8123 --workers 2
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gradeflow_api.settings import ApiSettings
from gradeflow_cli.up import UpOptions, run_up


def fault_worker_command(index: int, queues: str) -> list[str]:
    return [sys.executable, "-m", "tests.fault_worker", "--queues", queues, "--concurrency", "1",
            "--hostname", f"w{index}@%h"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--assignments", type=Path, default=Path("assignments"))
    args = parser.parse_args()
    options = UpOptions(host="127.0.0.1", port=args.port, workers=args.workers, queues="cpu",
                        var_dir=ApiSettings().var_dir.resolve())
    run_up(options, assignments=args.assignments, worker_argv=fault_worker_command)


if __name__ == "__main__":
    main()
