"""The warm pool on fakes: one use per kernel, limits must match, refills in the background."""
from __future__ import annotations

import threading

from gradeflow_protocol.messages import Limits
from gradeflow_worker.warm import KernelPool


class FakeKernel:
    def __init__(self):
        self.closed = False

    def alive(self):
        return not self.closed


class FakeSlot:
    def __init__(self, limits):
        self.limits, self.kernel, self.closed, self.started_s = limits, FakeKernel(), False, 0.0

    def close(self):
        self.closed = self.kernel.closed = True


def make_pool(size=1, fail=False):
    started, changes = [], []

    def start(limits):
        if fail:
            raise RuntimeError("bwrap: no")
        slot = FakeSlot(limits)
        started.append(slot)
        return slot

    return KernelPool(start, size=size, on_change=lambda n, hit: changes.append((n, hit))), started, changes


def test_a_kernel_is_taken_once_and_only_for_the_limits_it_was_started_with():
    pool, started, _ = make_pool()
    pool.refill(Limits())
    assert pool.wait_ready(5)
    assert pool.take(Limits(memory_mb=2048)) is None  # other limits: a miss, and the unfitting kernel goes
    assert started[0].closed
    pool.refill(Limits())
    assert pool.wait_ready(5)
    first = pool.take(Limits())
    assert first is started[1] and not first.closed
    assert pool.take(Limits()) is None  # used once: never handed out again
    assert (pool.hits, pool.misses) == (1, 2)


def test_refill_never_overfills_and_close_destroys_what_is_ready():
    pool, started, _ = make_pool(size=2)
    for _ in range(5):
        pool.refill(Limits())
    end = threading.Event()
    end.wait(0.3)
    assert len(started) == 2
    pool.close()
    assert all(slot.closed for slot in started)
    pool.refill(Limits())
    end.wait(0.1)
    assert len(started) == 2  # a closed pool starts nothing


def test_a_kernel_that_fails_to_start_leaves_the_pool_empty_not_broken():
    pool, _, changes = make_pool(fail=True)
    pool.refill(Limits())
    assert not pool.wait_ready(0.3)
    assert pool.take(Limits()) is None
    assert changes[0] == (0, None)


def test_a_dead_warm_kernel_is_not_handed_out():
    pool, started, _ = make_pool()
    pool.refill(Limits())
    assert pool.wait_ready(5)
    started[0].kernel.closed = True  # e.g. killed by the reaper while idle
    assert pool.take(Limits()) is None


def test_a_kernel_with_other_limits_being_started_does_not_block_one_that_fits_the_jobs():
    """The first kernel of a process starts with the defaults; the first job (other limits) asks for one like
    itself, which starts too, so the second job finds it."""
    pool, started, _ = make_pool()
    pool.refill(Limits())
    job = Limits(cell_timeout_s=6, time_limit_s=40)
    assert pool.take(job) is None
    pool.refill(job)
    end = threading.Event()
    end.wait(0.3)
    assert [slot.limits for slot in started] == [Limits(), job]
    assert pool.take(job) is started[1]
