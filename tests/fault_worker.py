"""A grading worker for fault tests ONLY: it SIGKILLs itself while grading a submission holding POISON, and its
harness hangs on the first attempt of one holding HANG.

A submission cannot kill its worker by design (it runs in a sandbox with its own pid namespace, limits and no
route to the harness), so the "poison submission" of the fault tests is simulated here: this entry point
patches the worker's harness call so that a submission whose bytes contain POISON kills the whole worker (its
process group: the Celery main process, the pool process, the sandbox) with SIGKILL, every time.

Nothing in the product imports or ships this module; it lives under tests/ and takes effect only when a test
starts a worker with `python -m tests.fault_worker` (tests/fault_up.py does so under the supervisor). The
arguments are those of `gradeflow worker`.
"""
from __future__ import annotations

import os
import signal
import sys
import threading

POISON = b"# gradeflow-fault-test: this submission kills its worker"
# the harness itself hangs on the first attempt of a submission holding HANG (a deadlock, a stuck read: not the
# student's code, whose own limits would end it); later attempts grade normally
HANG = b"# gradeflow-fault-test: the harness hangs on this submission's first attempt"


def _kill_the_worker(main_pid: int) -> None:
    if os.getpgid(0) == main_pid:  # the worker leads its own group (the supervisor starts it so): all of it
        os.killpg(main_pid, signal.SIGKILL)
    os.kill(main_pid, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def install(main_pid: int) -> None:
    from gradeflow_worker import service

    real = service.grade  # what gradeflow_worker.service calls to run the harness

    def grade(*args, **kwargs):
        submission = bytes(kwargs.get("submission", b""))
        if POISON in submission:
            _kill_the_worker(main_pid)
        if HANG in submission and args[0].attempt == 1:
            threading.Event().wait()  # forever, as a hung harness would
        return real(*args, **kwargs)

    service.grade = grade


def main() -> None:
    install(os.getpid())  # before Celery forks its pool: the pool processes inherit the patch
    from gradeflow_cli.main import app

    app(args=["worker", *sys.argv[1:]], prog_name="gradeflow")


if __name__ == "__main__":
    main()
