"""Known-wrong: invertible_u divides by |w| instead of |w|^2, so w.u_hat = w.u + (m(w.u) - w.u) |w|.

For |w| = 1 this happens to be right; for |w| < 1 and very negative w.u it leaves w.u_hat far below -1, and the flow
folds over. planar_flow itself is right.
"""
import numpy as np


def planar_flow(z, u, w, b):
    activation = np.tanh(z @ w + b)
    x = z + np.outer(activation, u)
    log_det = np.log(np.abs(1 + (1 - activation**2) * (w @ u)))
    return x, log_det


def invertible_u(u, w):
    dot = w @ u
    m = -1 + np.log(1 + np.exp(dot))
    return u + (m - dot) * w / np.linalg.norm(w)  # the bug: the projection needs |w|^2
