"""The numeric check toolkit: dtype-aware closeness, orders of convergence, gradients and log-determinants."""
import math

import numpy as np
import pytest

from gradeflow_graders import (
    CheckFailed,
    brute_force_log_det,
    central_difference_gradient,
    compare,
    default_tolerances,
    expect_close,
    expect_gradient,
    expect_log_det,
    expect_order,
    jacobian_fd,
    observed_orders,
)
from tests.fakes.student import InProcessStudent


# ---------------------------------------------------------------- compare

@pytest.mark.parametrize(("dtype", "tolerances"), [
    (np.float64, (1e-7, 1e-9)), (np.complex128, (1e-7, 1e-9)),
    (np.float32, (1e-4, 1e-5)), (np.complex64, (1e-4, 1e-5)),
    (np.float16, (1e-2, 1e-3)),
    (np.int64, (0, 0)), (np.int8, (0, 0)), (np.uint16, (0, 0)), (np.bool_, (0, 0)),
])
def test_default_tolerances_follow_the_dtype(dtype, tolerances):
    assert default_tolerances(dtype) == tolerances


def test_a_float32_result_gets_float32_tolerances_and_float64_does_not():
    expected = np.linspace(0.0, 1.0, 5)
    off = 5e-6  # inside float32's atol=1e-5 near 0, far outside float64's
    compare((expected + off).astype(np.float32), expected)
    with pytest.raises(CheckFailed, match="rtol=1e-07, atol=1e-09"):
        compare(expected + off, expected)
    # The looser of the two dtypes counts, whichever side it is on.
    compare(expected + off, expected.astype(np.float32))


def test_explicit_tolerances_override_the_dtype():
    compare(np.float32(1.5), 1.0, rtol=0, atol=0.6)
    with pytest.raises(CheckFailed, match="rtol=0, atol=1e-12"):
        compare(np.float32(1.0) + np.float32(1e-6), 1.0, atol=1e-12, rtol=0)


def test_integers_are_compared_exactly():
    compare(np.array([1, 2, 3]), [1, 2, 3])
    with pytest.raises(CheckFailed, match=r"at index \(2,\): expected 3, got 4"):
        compare(np.array([1, 2, 4]), [1, 2, 3])


def test_the_message_names_the_worst_entry_its_values_and_the_count():
    expected = np.ones((200, 2))
    actual = expected.copy()
    rows = np.arange(10, 130, 10)  # 12 entries off, the worst at (88, 1)
    actual[rows, 0] += 1e-3
    actual[88, 1] = 0.3412
    expected[88, 1] = 0.9982
    message = "the result at index (88, 1): expected 0.9982, got 0.3412 (off by 0.657; tolerance rtol=1e-07, " \
              "atol=1e-09; 13 of 400 entries outside it)"
    with pytest.raises(CheckFailed) as failure:
        compare(actual, expected)
    assert str(failure.value) == message


def test_values_get_the_digits_that_tell_them_apart():
    with pytest.raises(CheckFailed) as failure:
        compare([1.00001234], [1.00001], what="y")
    assert "expected 1.00001, got 1.000012" in str(failure.value)


def test_the_worst_entry_is_the_one_furthest_outside_its_tolerance():
    # The large entry has the larger absolute error but is within rtol; the small one is not.
    with pytest.raises(CheckFailed, match=r"y at index \(1,\): expected 1, got 1\.01 \(off by 0\.01; .* 1 of 2"):
        compare([1e6 + 0.05, 1.01], [1e6, 1.0], what="y")


def test_a_scalar_message_has_no_index_or_count():
    with pytest.raises(CheckFailed) as failure:
        compare(2.123456, 2.0, what="the integral")
    assert str(failure.value) == "the integral: expected 2, got 2.123 (off by 0.1235; tolerance rtol=1e-07, atol=1e-09)"


def test_shape_and_non_finite_values_are_named():
    with pytest.raises(CheckFailed, match=r"should have shape \(3,\), got \(2, 2\)"):
        compare(np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(CheckFailed, match=r"contains NaN at index \(1, 0\)"):
        compare([[0.0, 0.0], [np.nan, np.inf]], np.zeros((2, 2)))
    with pytest.raises(CheckFailed, match=r"contains infinity at index \(1, 1\)"):
        compare([[0.0, 0.0], [0.0, -np.inf]], np.zeros((2, 2)))
    with pytest.raises(CheckFailed, match="should be numeric, got NoneType"):
        compare(None, 1.0)
    with pytest.raises(CheckFailed, match="should be numeric, got list"):
        compare([[1.0], [1.0, 2.0]], np.zeros(2))


def test_complex_results_are_compared_as_complex():
    compare(np.array([1 + 1j, 2j]), np.array([1 + 1j, 2j]))
    with pytest.raises(CheckFailed, match=r"index \(1,\): expected 0-2j, got 0\+2j"):
        compare(np.array([1 + 1j, 2j]), np.array([1 + 1j, complex(0, -2)]))


def test_a_non_finite_expected_value_is_a_bug_in_the_check():
    with pytest.raises(ValueError, match="expected value"):
        compare([1.0], [np.nan])


def test_expect_close_delegates_to_compare():
    expect_close([1.0, 2.0 + 1e-12], [1.0, 2.0])
    expect_close([1.0, 2.0 + 1e-6], [1.0, 2.0], rtol=1e-6, atol=1e-6)
    with pytest.raises(CheckFailed, match=r"y at index \(1,\): expected 2, got 2\.5 \(off by 0\.5; .* 1 of 2"):
        expect_close([1.0, 2.5], [1.0, 2.0], what="y")


# ---------------------------------------------------------------- orders of convergence

def test_fourth_order_errors_give_order_four():
    errors = {n: 3.0 * (1.0 / n) ** 4 * (1 + 0.5 / n) for n in (10, 20, 40, 80)}
    orders = expect_order(errors, 4, what="RK4")
    assert len(orders) == 3 and all(abs(p - 4) < 0.1 for p in orders)
    assert observed_orders([errors[n] for n in sorted(errors)]) == pytest.approx(orders)


def test_orders_follow_the_n_values_when_they_do_not_double():
    errors = {n: 0.7 / n**2 for n in (10, 15, 36)}
    assert expect_order(errors, 2) == pytest.approx([2.0, 2.0])
    assert observed_orders([0.7 / 10**2, 0.7 / 30**2], ratio=3) == pytest.approx([2.0])


def test_a_first_order_method_fails_a_second_order_check():
    errors = {20: 0.05, 40: 0.025, 80: 0.0125}
    with pytest.raises(CheckFailed) as failure:
        expect_order(errors, 2, what="the trapezoid rule")
    assert str(failure.value) == ("the trapezoid rule: observed orders 1, 1 (errors 0.05, 0.025, 0.0125 for "
                                  "n = 20, 40, 80), expected about 2 (within 0.25)")


@pytest.mark.parametrize(("bad", "words"), [(0.0, "exactly 0"), (math.nan, "nan; it should be finite"),
                                            (math.inf, "inf; it should be finite")])
def test_a_zero_or_non_finite_error_fails_clearly(bad, words):
    with pytest.raises(CheckFailed, match=f"the error for n = 40 is {words}"):
        expect_order({20: 0.1, 40: bad, 80: 0.01}, 1)
    with pytest.raises(ValueError):
        observed_orders([0.1, bad])


# ---------------------------------------------------------------- gradients

def loss(x: np.ndarray) -> float:
    return float(np.sum(np.sin(x) * x**2) + 0.5 * np.sum(x) ** 2)


def loss_gradient(x: np.ndarray) -> np.ndarray:
    return np.cos(x) * x**2 + 2 * x * np.sin(x) + np.sum(x)


def test_central_differences_match_the_analytic_gradient_for_any_shape():
    x = np.random.default_rng(0).normal(size=(3, 2)) * 3
    np.testing.assert_allclose(central_difference_gradient(loss, x), loss_gradient(x), rtol=1e-6, atol=1e-8)


def test_a_correct_gradient_passes_and_a_flipped_sign_or_factor_two_fails():
    x = np.random.default_rng(1).normal(size=4)
    expect_gradient(loss_gradient(x), loss, x)
    with pytest.raises(CheckFailed, match=r"the gradient at index \(\d,\): expected .* rtol=0.0001.* entries outside it"):
        expect_gradient(-loss_gradient(x), loss, x)
    with pytest.raises(CheckFailed, match="4 of 4 entries"):
        expect_gradient(2 * loss_gradient(x), loss, x)
    with pytest.raises(CheckFailed, match="shape"):
        expect_gradient(loss_gradient(x)[:3], loss, x)


def test_gradient_through_the_student_handle():
    student = InProcessStudent(["import numpy as np\ndef f(x):\n    return np.sum(x ** 3)\n"])
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    expect_gradient(3 * x**2, lambda v: student.call("f", v), x)
    with pytest.raises(CheckFailed, match="the function should have shape"):
        central_difference_gradient(lambda v: student.call("f", v) * np.ones(2), x)


# ---------------------------------------------------------------- Jacobians and log-determinants

def test_jacobian_of_a_known_map():
    jacobian = jacobian_fd(lambda v: np.array([v[0] * v[1], np.exp(v[1])]), np.array([2.0, 0.5]))
    np.testing.assert_allclose(jacobian, [[0.5, 2.0], [0.0, np.exp(0.5)]], rtol=1e-7, atol=1e-9)


class PlanarFlow:
    """x = z + u tanh(w.z + b), with log|det dx/dz| = log|1 + u.psi(z)|, psi = (1 - tanh^2(w.z + b)) w."""

    def __init__(self, rng: np.random.Generator, d: int = 3) -> None:
        self.w = rng.normal(size=d)
        u = rng.normal(size=d)
        # Keep w.u > -1 so the flow is invertible and 1 + u.psi never crosses 0.
        self.u = u + (abs(u @ self.w) + 0.5) / (self.w @ self.w) * self.w
        self.b = float(rng.normal())

    def forward(self, z: np.ndarray) -> np.ndarray:
        return z + np.outer(np.tanh(z @ self.w + self.b), self.u)

    def log_det(self, z: np.ndarray) -> np.ndarray:
        psi = np.outer(1 - np.tanh(z @ self.w + self.b) ** 2, self.w)
        return np.log(np.abs(1 + psi @ self.u))


@pytest.mark.parametrize("seed", range(3))
def test_the_planar_flow_log_det_passes_and_a_wrong_formula_fails(seed):
    rng = np.random.default_rng(seed)
    flow, z = PlanarFlow(rng), rng.normal(size=(6, 3))
    np.testing.assert_allclose(brute_force_log_det(flow.forward, z), flow.log_det(z), rtol=1e-6, atol=1e-8)
    expect_log_det(flow.log_det(z), flow.forward, z)
    forgot_tanh_derivative = np.log(np.abs(1 + np.full(len(z), flow.u @ flow.w)))
    with pytest.raises(CheckFailed, match=r"log_det at index \(\d,\): expected .* rtol=0.0001.* of 6 entries outside it"):
        expect_log_det(forgot_tanh_derivative, flow.forward, z)
    with pytest.raises(CheckFailed, match=r"should have shape \(6,\), got \(6, 1\)"):
        expect_log_det(flow.log_det(z)[:, None], flow.forward, z)


def test_log_det_is_taken_row_by_row():
    # A map that mixes samples (x = z + mean of the batch) has identity per-row Jacobians when applied to one row.
    def mixing(batch):
        return 2 * batch - batch.mean(axis=0)

    z = np.random.default_rng(3).normal(size=(4, 2))
    np.testing.assert_allclose(brute_force_log_det(mixing, z), np.zeros(4), atol=1e-8)


def test_a_singular_jacobian_cannot_be_checked():
    with pytest.raises(CheckFailed, match="singular or not finite at sample 0"):
        expect_log_det(np.zeros(2), lambda batch: batch * np.array([1.0, 0.0]), np.ones((2, 2)))
