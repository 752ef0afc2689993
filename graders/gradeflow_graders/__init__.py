"""The toolkit check authors import.

A check is a plain function run by the trusted harness, outside the sandbox:

    from gradeflow_graders import check, expect, expect_close

    @check(points=2, name="trapezoid rule is second order")
    def trapezoid_order(student, rng):
        decay = student.define("lambda t, y: -y")
        ys = student.call("theta_method", decay, 1.0, 0.0, 1.0, 20, 0.5)
        ...

`student` is a narrow handle to the student's live kernel (see StudentHandle);
`rng` is a numpy Generator seeded per submission by the harness (which also seeds the
kernel's random, NumPy and torch generators before each check: StudentHandle.seed). A check passes
when it returns without raising; `expect` and friends raise CheckFailed with
the message the student sees. Partial credit: return a fraction in [0, 1], or a Verdict(fraction, message) to say something too.
Numeric checks (closeness with dtype-aware tolerances, orders of convergence, finite-difference gradients and
log-determinants) are in gradeflow_graders.numerics, re-exported here.
"""
from gradeflow_graders.api import (
    CheckFailed,
    CheckSpec,
    KernelDied,
    Ref,
    StudentError,
    StudentHandle,
    StudentTimeout,
    StudentValueError,
    Tensor,
    Verdict,
    as_array,
    check,
    expect,
    expect_close,
)
from gradeflow_graders.numerics import (
    brute_force_log_det,
    central_difference_gradient,
    compare,
    default_tolerances,
    expect_gradient,
    expect_log_det,
    expect_order,
    jacobian_fd,
    observed_orders,
)

__all__ = [
    "CheckFailed",
    "CheckSpec",
    "KernelDied",
    "Ref",
    "StudentError",
    "StudentHandle",
    "StudentTimeout",
    "StudentValueError",
    "Tensor",
    "Verdict",
    "as_array",
    "brute_force_log_det",
    "central_difference_gradient",
    "check",
    "compare",
    "default_tolerances",
    "expect",
    "expect_close",
    "expect_gradient",
    "expect_log_det",
    "expect_order",
    "jacobian_fd",
    "observed_orders",
]
