"""Time to start an ipykernel inside a bubblewrap sandbox and run one cell."""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from gradeflow_protocol.messages import Limits
from gradeflow_worker.sandbox.base import SandboxSpec
from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox
from gradeflow_worker.kernel import OutputSink, SandboxedKernel


def one_start(sandbox: BubblewrapSandbox, root: Path) -> tuple[float, float]:
    run = root / uuid.uuid4().hex[:10]
    (run / "ipc").mkdir(parents=True)
    spec = SandboxSpec(run_id=f"bench-{run.name}", argv=[], ipc_dir=run / "ipc", files={}, public_dir=None, limits=Limits())
    kernel = SandboxedKernel(sandbox, spec, python=sys.executable)
    start = time.perf_counter()
    kernel.start()
    ready = time.perf_counter() - start
    kernel.execute("import numpy as np; x = np.ones(3).sum()", timeout=30, sink=OutputSink(10_000))
    first = time.perf_counter() - start
    kernel.close()
    return ready, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args()
    sandbox = BubblewrapSandbox()
    with tempfile.TemporaryDirectory() as tmp:
        results = [one_start(sandbox, Path(tmp)) for _ in range(args.n)]
    ready = [r[0] for r in results]
    first = [r[1] for r in results]
    print(f"kernel in bwrap, n={args.n}: ready median {statistics.median(ready):.3f} s (min {min(ready):.3f}, "
          f"max {max(ready):.3f}); first cell with numpy done median {statistics.median(first):.3f} s")


if __name__ == "__main__":
    main()
