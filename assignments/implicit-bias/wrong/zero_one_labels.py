"""Known-wrong: the cross-entropy formulas for labels in {0, 1} (loss -y log p - (1-y) log(1-p), gradient
X^T (p - y) / n with p = sigmoid(X w)), used with labels in {-1, +1}.

Loss and gradient agree with each other (the gradient is the derivative of this loss), but not with the logistic
loss of the assignment; for y = -1 the "loss" is unbounded below, and descent on it drifts linearly."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def logistic_loss_grad(w, X, y):
    p = sigmoid(X @ w)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    grad = X.T @ (p - y) / len(y)
    return loss, grad


def gradient_descent(X, y, lr, steps):
    W = np.zeros((steps + 1, X.shape[1]))
    for k in range(steps):
        W[k + 1] = W[k] - lr * logistic_loss_grad(W[k], X, y)[1]
    return W
