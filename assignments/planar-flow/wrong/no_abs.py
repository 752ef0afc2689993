"""Known-wrong: log_det = log(1 + u.psi) without the absolute value.

Right whenever 1 + u.psi > 0 (for instance with u_hat from invertible_u), NaN when the determinant is negative,
which happens for a u with w.u < -1.
"""
import numpy as np


def planar_flow(z, u, w, b):
    activation = np.tanh(z @ w + b)
    x = z + np.outer(activation, u)
    psi = np.outer(1 - activation**2, w)
    log_det = np.log(1 + psi @ u)  # the bug: log|det| needs np.abs
    return x, log_det


def invertible_u(u, w):
    dot = w @ u
    m = -1 + np.log1p(np.exp(dot))
    return u + (m - dot) * w / np.dot(w, w)
