"""Known-wrong: min_norm_fit solves the normal equations Phi^T Phi beta = Phi^T y.

Fine when Phi has full column rank (p <= n, well conditioned); when p > n or Phi is rank-deficient Phi^T Phi is
singular and np.linalg.solve returns garbage (or raises), so nothing past p = n works.
"""
import numpy as np


def relu_features(X, W):
    return np.maximum(X @ W, 0) / np.sqrt(W.shape[1])


def min_norm_fit(Phi, y):
    return np.linalg.solve(Phi.T @ Phi, Phi.T @ y)
