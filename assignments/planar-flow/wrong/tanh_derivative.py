"""Known-wrong: psi = tanh(w.z + b) w, using h instead of its derivative h' = 1 - tanh^2.

x and invertible_u are right; every log-determinant is wrong.
"""
import numpy as np


def planar_flow(z, u, w, b):
    activation = np.tanh(z @ w + b)
    x = z + activation[:, None] * u
    psi = activation[:, None] * w  # the bug: should be (1 - activation**2)[:, None] * w
    log_det = np.log(np.abs(1 + psi @ u))
    return x, log_det


def invertible_u(u, w):
    dot = w @ u
    m = -1 + np.logaddexp(0, dot)
    return u + (m - dot) * w / (w @ w)
