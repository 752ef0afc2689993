"""Known-wrong: relu_features forgets the 1/sqrt(p) scaling, Phi = max(X W, 0).

min_norm_fit is right. The min-norm predictions do not change when Phi is scaled, so the double-descent curve is
still right; only the feature values are off.
"""
import numpy as np


def relu_features(X, W):
    return np.maximum(X @ W, 0)  # the bug: / np.sqrt(W.shape[1]) is missing


def min_norm_fit(Phi, y):
    return np.linalg.lstsq(Phi, y, rcond=None)[0]
