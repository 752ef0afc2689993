"""Known-wrong: explicit Euler whatever theta is (the implicit term is never used)."""
import numpy as np


def theta_method(f, y0, t0, t1, n, theta):
    h = (t1 - t0) / n
    ys = [np.asarray(y0, dtype=float)]
    for k in range(n):
        ys.append(ys[-1] + h * np.asarray(f(t0 + k * h, ys[-1]), dtype=float))
    return np.array(ys)


best_theta = 0.5
