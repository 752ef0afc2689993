"""Run every benchmark and print its figures."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
for script in ("kernel_start.py", "throughput.py", "latency.py", "deadline.py", "worker_death.py", "priority.py",
               "faults.py"):
    print(f"== {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], cwd=HERE, check=False)
