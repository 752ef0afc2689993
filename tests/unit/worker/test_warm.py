"""The warm pool on fakes: one use per kernel, limits and environment must match, refills in the background."""
from __future__ import annotations

import threading

from gradeflow_protocol.messages import Limits
from gradeflow_worker.environments import StudentEnvironment
from gradeflow_worker.warm import KernelPool, WarmKey

DEFAULT = StudentEnvironment("default", python="/usr/bin/python3", digest="d0")
NUMPY = StudentEnvironment("numpy", python="/envs/numpy/bin/python", digest="n1")


def key(environment=DEFAULT, **limits):
    """What a warm kernel is started for: these limits in this environment."""
    return WarmKey(Limits(**limits), environment)


class FakeKernel:
    def __init__(self):
        self.closed = False

    def alive(self):
        return not self.closed


class FakeSlot:
    def __init__(self, key):
        self.key, self.kernel, self.closed, self.started_s = key, FakeKernel(), False, 0.0

    def close(self):
        self.closed = self.kernel.closed = True


def make_pool(size=1, fail=False):
    started, changes = [], []

    def start(key):
        if fail:
            raise RuntimeError("bwrap: no")
        slot = FakeSlot(key)
        started.append(slot)
        return slot

    return KernelPool(start, size=size, on_change=lambda n, hit: changes.append((n, hit))), started, changes


def test_a_kernel_is_taken_once_and_only_for_the_limits_it_was_started_with():
    pool, started, _ = make_pool()
    pool.refill(key())
    assert pool.wait_ready(5)
    assert pool.take(key(memory_mb=2048)) is None  # other limits: a miss, and the unfitting kernel goes
    assert started[0].closed
    pool.refill(key())
    assert pool.wait_ready(5)
    first = pool.take(key())
    assert first is started[1] and not first.closed
    assert pool.take(key()) is None  # used once: never handed out again
    assert (pool.hits, pool.misses) == (1, 2)


def test_refill_never_overfills_and_close_destroys_what_is_ready():
    pool, started, _ = make_pool(size=2)
    for _ in range(5):
        pool.refill(key())
    end = threading.Event()
    end.wait(0.3)
    assert len(started) == 2
    pool.close()
    assert all(slot.closed for slot in started)
    pool.refill(key())
    end.wait(0.1)
    assert len(started) == 2  # a closed pool starts nothing


def test_a_kernel_that_fails_to_start_leaves_the_pool_empty_not_broken():
    pool, _, changes = make_pool(fail=True)
    pool.refill(key())
    assert not pool.wait_ready(0.3)
    assert pool.take(key()) is None
    assert changes[0] == (0, None)


def test_a_dead_warm_kernel_is_not_handed_out():
    pool, started, _ = make_pool()
    pool.refill(key())
    assert pool.wait_ready(5)
    started[0].kernel.closed = True  # e.g. killed by the reaper while idle
    assert pool.take(key()) is None


def test_a_kernel_with_other_limits_being_started_does_not_block_one_that_fits_the_jobs():
    """The first kernel of a process starts with the defaults; the first job (other limits) asks for one like
    itself, which starts too, so the second job finds it."""
    pool, started, _ = make_pool()
    pool.refill(key())
    job = key(cell_timeout_s=6, time_limit_s=40)
    assert pool.take(job) is None
    pool.refill(job)
    end = threading.Event()
    end.wait(0.3)
    assert [slot.key for slot in started] == [key(), job]
    assert pool.take(job) is started[1]


def test_a_kernel_serves_only_its_own_environment_and_a_job_for_another_starts_cold():
    pool, started, _ = make_pool()
    pool.refill(key())  # the default environment, as the worker prewarms
    assert pool.wait_ready(5)
    assert pool.take(key(NUMPY)) is None  # same limits, other environment: a miss
    assert started[0].closed
    pool.refill(key(NUMPY))
    assert pool.wait_ready(5)
    assert pool.take(key(StudentEnvironment("numpy", python="/envs/numpy/bin/python", digest="rebuilt"))) is None
    pool.refill(key(NUMPY))
    assert pool.wait_ready(5)
    assert pool.take(key(NUMPY)) is started[2]
