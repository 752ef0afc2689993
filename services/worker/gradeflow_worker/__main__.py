"""`gradeflow-worker --queues cpu`: the worker image's entry point (no CLI, no database layer there)."""
from __future__ import annotations

import argparse

from gradeflow_worker.settings import get_settings
from gradeflow_worker.tasks import start_worker


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gradeflow-worker", description="a gradeflow grading worker")
    parser.add_argument("--queues", default="cpu", help="comma-separated: cpu, gpu")
    parser.add_argument("--concurrency", type=int, default=None, help="grading processes (default: one per core)")
    parser.add_argument("--hostname", default=None)
    args = parser.parse_args(argv)
    start_worker(get_settings(), queues=args.queues, concurrency=args.concurrency, hostname=args.hostname)


if __name__ == "__main__":
    main()
