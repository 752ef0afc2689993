"""Tensor arguments and the kernel's seed: the parts of the handle API that live in gradeflow_graders."""
import numpy as np
import pytest

from gradeflow_graders import StudentError, Tensor, check, expect
from gradeflow_graders.runner import kernel_seed, run_check


def test_a_tensor_argument_validates_what_it_asks_for():
    tensor = Tensor([[1.0, 2.0]], dtype=np.float32)
    assert isinstance(tensor.array, np.ndarray) and tensor.dtype == "float32" and tensor.device is None
    assert Tensor(np.arange(3), dtype="torch.int64").dtype == "int64"
    assert Tensor(np.ones(2), dtype="bfloat16", device="cuda:0", requires_grad=True).device == "cuda:0"
    with pytest.raises(TypeError, match="numeric"):
        Tensor(np.array(["a"]))
    with pytest.raises(TypeError, match="numeric"):
        Tensor(np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="torch dtype"):
        Tensor(np.ones(2), dtype="float128")
    with pytest.raises(ValueError, match="device"):
        Tensor(np.ones(2), device="tpu; rm")
    with pytest.raises(ValueError, match="gradients"):
        Tensor(np.arange(3), requires_grad=True)


def test_the_kernel_seed_is_reproducible_per_run_and_check():
    assert kernel_seed(5, 1) == kernel_seed(5, 1)
    seeds = {kernel_seed(run, order) for run in range(20) for order in range(1, 6)}
    assert len(seeds) == 100 and all(0 <= s < 2**32 for s in seeds)
    # a separate stream of the pair: not the first word of the check rng's own state
    assert kernel_seed(5, 1) != int(np.random.SeedSequence([5, 1]).generate_state(1)[0])


class Recording:
    def __init__(self, seed_error=None):
        self.events, self.seed_error = [], seed_error

    def set_deadline(self, deadline):
        self.events.append("deadline")

    def seed(self, value):
        self.events.append(("seed", value))
        if self.seed_error:
            raise self.seed_error
        return ["random", "numpy"]

    def call(self, name):
        self.events.append("call")
        return 1.0


@check(points=1, name="seeded check")
def seeded(student, rng):
    expect(student.call("f") == 1.0, "f() should be 1")


def test_the_runner_seeds_the_kernel_before_each_check():
    student = Recording()
    result = run_check(seeded.__gradeflow_check__, student, seed=9, timeout=5, log=print)
    assert result.passed
    assert student.events == ["deadline", ("seed", kernel_seed(9, seeded.__gradeflow_check__.order)), "call"]


def test_seeding_that_fails_in_the_kernel_fails_the_check_with_a_message():
    student = Recording(StudentError("TypeError: seed() broken"))
    result = run_check(seeded.__gradeflow_check__, student, seed=9, timeout=5, log=print)
    assert not result.passed and result.message == "Your code raised TypeError: seed() broken"
    assert "call" not in student.events
