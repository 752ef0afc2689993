"""Known-wrong: the gradient has the wrong sign (the minus in front of X^T is lost), so "descent" climbs the loss.

The loss itself is right and stable."""
import numpy as np


def logistic_loss_grad(w, X, y):
    margins = y * (X @ w)
    loss = np.mean(np.logaddexp(0.0, -margins))
    grad = X.T @ (y / (1.0 + np.exp(margins))) / len(y)  # the bug: should be -X.T @ (...)
    return loss, grad


def gradient_descent(X, y, lr, steps):
    w = np.zeros(X.shape[1])
    path = [w]
    for _ in range(steps):
        w = w - lr * logistic_loss_grad(w, X, y)[1]
        path.append(w)
    return np.array(path)
