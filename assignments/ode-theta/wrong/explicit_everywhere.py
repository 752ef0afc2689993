"""Known-wrong: the implicit term is evaluated at the old value, f(t_{k+1}, y_k), so no equation is ever solved.

For autonomous problems this is explicit Euler for every theta.
"""
import numpy as np


def theta_method(f, y0, t0, t1, n, theta):
    h = (t1 - t0) / n
    ys = [np.asarray(y0, dtype=float)]
    for k in range(n):
        y = ys[-1]
        slope = theta * np.asarray(f(t0 + k * h, y)) + (1 - theta) * np.asarray(f(t0 + (k + 1) * h, y))
        ys.append(y + h * slope)
    return np.array(ys)


best_theta = 0.5
