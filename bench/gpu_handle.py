"""The student handle with CUDA tensors, on a machine with a GPU (run by hand where one is lent).

The real KernelStudent and the real kernel-side request server (kernel_snippets) run here over an in-process
stand-in kernel (tests/fakes/kernel.py, as in tests/unit/worker/test_student_handles.py: exec() in one namespace, no sandbox; the
bubblewrap or Docker round trip is the same bytes). The resnet-ode reference is moved to the GPU by the check,
a Tensor(device="cuda") argument arrives there, and what comes back is numpy of the tensor's dtype; its values
are compared with the same model on the CPU, and a deep model's forward pass is timed on each device.

    python3 bench/gpu_handle.py
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in ("packages/protocol", "graders", "services/worker", ""):  # where nothing is installed (a GPU host)
    sys.path.insert(0, str(ROOT / path))

from gradeflow_graders.api import Tensor  # noqa: E402
from gradeflow_worker.kernel import OutputSink  # noqa: E402
from gradeflow_worker.student import KernelStudent  # noqa: E402
from tests.fakes.kernel import ExecKernel  # noqa: E402


def solution_source() -> str:
    import json
    cells = json.loads((ROOT / "assignments" / "resnet-ode" / "solution.ipynb").read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def main() -> None:
    import torch
    print(f"torch {torch.__version__}, cuda available: {torch.cuda.is_available()}, "
          f"device: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-'}")
    with tempfile.TemporaryDirectory() as tmp:
        student = KernelStudent(ExecKernel(Path(tmp), solution_source()), sink=OutputSink(100_000))
        student.set_deadline(float("inf"))
        print("seeded:", student.seed(1234))
        move = student.define("lambda module, device: module.to(device) and None")  # a module is no data to send back
        net = student.define("ResNetODE(2, 16, 8, 1.0)")
        x = np.random.default_rng(0).standard_normal((256, 2)).astype(np.float32)
        on_cpu = student.call_method(net, "forward", Tensor(x, dtype="float32"), no_grad=True)
        student.call(move, net, "cuda")
        on_gpu = student.call_method(net, "forward", Tensor(x, dtype="float32", device="cuda"), no_grad=True)
        where = student.eval(f"str(next({net.name}.parameters()).device)")
        print(f"parameters on {where}; result back as {type(on_gpu).__name__} {on_gpu.dtype} {on_gpu.shape}; "
              f"max |gpu - cpu| = {float(np.max(np.abs(on_gpu - on_cpu))):.2e}")
        assert on_gpu.dtype == np.float32 and on_gpu.shape == (256, 2)
        assert np.allclose(on_gpu, on_cpu, rtol=1e-3, atol=1e-3)
        big = student.define("ResNetODE(2, 512, 64, 1.0)")
        points = np.random.default_rng(1).standard_normal((100_000, 2)).astype(np.float32)
        for device in ("cpu", "cuda") if "--cpu-only" not in sys.argv else ("cpu",):
            student.call(move, big, device)
            args = (Tensor(points, dtype="float32", device=device),)
            student.call_method(big, "forward", *args, no_grad=True)  # warm-up
            began = time.perf_counter()
            for _ in range(3):
                out = student.call_method(big, "forward", *args, no_grad=True)
            print(f"depth-64 ResNetODE, 100,000 points, forward through the handle on {device}: "
                  f"{(time.perf_counter() - began) / 3 * 1000:.0f} ms a call (result {out.dtype} {out.shape})")

if __name__ == "__main__":
    main()
