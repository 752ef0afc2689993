"""Submissions graded per minute and end-to-end latency through the real stack."""
from __future__ import annotations

import argparse
import time

from _stack import bench_stack, percentile, reference_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="submissions")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    args = parser.parse_args()
    data = reference_script()
    with bench_stack(workers=args.workers) as stack:
        stack.grade("warmup.py", data)
        start = time.perf_counter()
        ids = [stack.submit(f"s{i}.py", data, username=("student1", "student2")[i % 2]).json()["id"] for i in range(args.n)]
        submitted = {sid: time.perf_counter() for sid in ids}
        latencies, scores = [], []
        for i, sid in enumerate(ids):
            body = stack.wait(sid, username=("student1", "student2")[i % 2], timeout=600)
            latencies.append(time.perf_counter() - submitted[sid])
            scores.append(body["score"])
        total = time.perf_counter() - start
    print(f"{args.n} submissions, {args.workers} worker(s): {args.n / total * 60:.1f} graded/min; "
          f"wall {total:.1f} s; latency p50 {percentile(latencies, 0.5):.1f} s, p90 {percentile(latencies, 0.9):.1f} s; "
          f"all 10/10: {all(s == 10 for s in scores)}")


if __name__ == "__main__":
    main()
