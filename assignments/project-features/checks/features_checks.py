"""Hidden checks for project-features (copied from features-digits; project 1's code part): hand-made features for scikit-learn's 8x8 digits.

The student implements extract_features(images): images of shape (N, 8, 8), float64 in [0, 16], to a feature
matrix of shape (N, k), 1 <= k <= 512, finite, deterministic and computed per image (a row depends on that image
alone). The function never sees a label.

The harness loads the digits itself (sklearn.datasets.load_digits, shipped with scikit-learn), draws a split from
the check's `rng` (600 hidden test images, the other 1197 for training), calls the student's function on the
training images and on the hidden images, and trains its own classifier on the student's features:
StandardScaler then LogisticRegression. Points for the hidden accuracy come in three thresholds.

Measured over 200 splits: the reference features (pixels, windowed gradient-orientation histograms, pooled
profiles; 168 features) score 0.978..0.998 (mean 0.989), raw pixels alone 0.948..0.982 (mean 0.966), four summary
statistics about 0.5.

Points: 10 in all.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
from gradeflow_graders import (
    CheckFailed,
    StudentHandle,
    as_array,
    check,
    compare,
    expect,
)
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

MAX_FEATURES = 512
HIDDEN = 600
# Rows of one image's features may differ between calls only by rounding (a different batch size can change how
# BLAS sums); batch statistics change them by far more.
ROW_RTOL = 1e-6
ROW_ATOL = 1e-6


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 8, 8) float64 in [0, 16], labels (1797,) int), loaded once per harness process."""
    data = load_digits()
    return np.ascontiguousarray(data.images, dtype=np.float64), np.asarray(data.target)


# ---------------------------------------------------------------- calling the student

def raw_features(student: StudentHandle, images: np.ndarray, *, what: str) -> np.ndarray:
    """extract_features(images) as a finite float array whose first axis has one entry per image (any shape after)."""
    n = len(images)
    call = f"extract_features on {what} (an array of shape {images.shape})"
    value = student.call("extract_features", images)
    if value is None:
        raise CheckFailed(f"{call} returned None; it should return an array of shape ({n}, k)")
    features = as_array(value, what=f"the result of {call}")
    if features.ndim == 0 or features.shape[0] != n:
        raise CheckFailed(f"the result of {call} should have one row per image, shape ({n}, k); got shape "
                          f"{features.shape}")
    bad = np.argwhere(~np.isfinite(features))
    if bad.size:
        raise CheckFailed(f"the result of {call} contains NaN or infinity (first at index {tuple(bad[0])}); "
                          f"look for a division by zero (a blank region of an image, or a constant feature)")
    return features


def feature_matrix(student: StudentHandle, images: np.ndarray, *, what: str) -> np.ndarray:
    """extract_features(images) checked to be a finite (N, k) matrix with 1 <= k <= MAX_FEATURES."""
    features = raw_features(student, images, what=what)
    n = len(images)
    if features.ndim != 2:
        raise CheckFailed(f"extract_features on {what} should return a 2-D array of shape ({n}, k), one row of "
                          f"features per image; got shape {features.shape} (flatten each image's features, e.g. "
                          f"with .reshape(len(images), -1))")
    k = features.shape[1]
    expect(k >= 1, f"extract_features on {what} returned no features (shape {features.shape})")
    expect(k <= MAX_FEATURES, f"extract_features on {what} returned {k} features per image; at most "
                              f"{MAX_FEATURES} are allowed: keep the most useful ones, or pool them over regions")
    return features


def expect_same_rows(actual: np.ndarray, expected: np.ndarray, *, what: str, why: str) -> None:
    scale = max(1.0, float(np.max(np.abs(expected))))
    try:
        compare(actual, expected, rtol=ROW_RTOL, atol=ROW_ATOL * scale, what=what)
    except CheckFailed as exc:
        raise CheckFailed(f"{exc}. {why}") from None


# ---------------------------------------------------------------- checks

@check(points=1.5, name="feature matrix shape")
def feature_matrix_shape(student: StudentHandle, rng: np.random.Generator) -> None:
    """(N, k) with 1 <= k <= 512, finite, for a random batch of digits."""
    images, _ = digits()
    batch = images[rng.choice(len(images), size=int(rng.integers(80, 121)), replace=False)]
    feature_matrix(student, batch, what=f"{len(batch)} digits")


@check(points=1, name="deterministic")
def deterministic(student: StudentHandle, rng: np.random.Generator) -> None:
    """The same images twice give the same features (no unseeded randomness, no state kept between calls)."""
    images, _ = digits()
    batch = images[rng.choice(len(images), size=150, replace=False)]
    first = raw_features(student, batch, what="150 digits")
    second = raw_features(student, batch.copy(), what="the same 150 digits again")
    if second.shape != first.shape:
        raise CheckFailed(f"extract_features gave shape {first.shape}, then {second.shape} for the same images")
    expect_same_rows(second.reshape(len(batch), -1), first.reshape(len(batch), -1),
                     what="the features of the same 150 digits, computed a second time,",
                     why="The same images must always give the same features: seed any randomness with a fixed "
                         "seed inside the function (np.random.default_rng(0)), and keep no state between calls.")


@check(points=1.5, name="features are computed per image")
def per_image(student: StudentHandle, rng: np.random.Generator) -> None:
    """An image's row does not depend on the other images in the batch: a permuted batch permutes the rows, and a
    sub-batch mixed with other digits gives the same rows for the images it shares."""
    images, _ = digits()
    order = rng.permutation(len(images))
    batch, others = images[order[:200]], images[order[200:260]]
    base = raw_features(student, batch, what="200 digits").reshape(200, -1)
    why = ("A row must depend on its own image alone: do not standardise or normalise with statistics of the batch "
           "(its mean, std, max...); the grader standardises the features itself, with statistics of the training "
           "set only.")
    perm = rng.permutation(200)
    permuted = raw_features(student, batch[perm], what="the same 200 digits in another order").reshape(200, -1)
    expect_same_rows(permuted, base[perm], what="the features of the same digits in another order", why=why)
    mixed = np.concatenate([batch[:40], others])
    rows = raw_features(student, mixed, what="40 of those digits together with 60 others").reshape(len(mixed), -1)
    if rows.shape[1] != base.shape[1]:
        raise CheckFailed(f"extract_features gave {base.shape[1]} values per image for a batch of 200 and "
                          f"{rows.shape[1]} for a batch of {len(mixed)}; the number of features must not depend "
                          f"on the batch")
    expect_same_rows(rows[:40], base[:40], what="the features of 40 digits passed with 60 different digits "
                                                "(compared with the same digits' rows in the batch of 200)", why=why)


def hidden_accuracy(student: StudentHandle, rng: np.random.Generator) -> tuple[float, float, int]:
    """Train StandardScaler + LogisticRegression on the student's features of a random training split and score the
    hidden split: (hidden accuracy, training accuracy, number of features)."""
    images, labels = digits()
    order = rng.permutation(len(images))
    hidden, train = order[:HIDDEN], order[HIDDEN:]
    train_features = feature_matrix(student, images[train], what=f"the {len(train)} training digits")
    hidden_features = feature_matrix(student, images[hidden], what=f"the {len(hidden)} hidden test digits")
    if hidden_features.shape[1] != train_features.shape[1]:
        raise CheckFailed(f"extract_features gave {train_features.shape[1]} features per training image but "
                          f"{hidden_features.shape[1]} per test image; the number must not depend on the batch")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    # One BLAS thread: on a loaded grader, oversubscribed threads make this fit 30 times slower.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_features, labels[train])
        return (float(model.score(hidden_features, labels[hidden])), float(model.score(train_features, labels[train])),
                train_features.shape[1])


def expect_accuracy(student: StudentHandle, rng: np.random.Generator, threshold: float) -> None:
    accuracy, train_accuracy, k = hidden_accuracy(student, rng)
    if train_accuracy - accuracy > 0.2:
        hint = (" The training accuracy is far higher: the features of the training and the test images, computed in "
                "two calls, do not seem to mean the same thing (see the checks 'deterministic' and 'features are "
                "computed per image').")
    else:
        hint = (" Raw pixels alone reach about 0.96; features that describe local stroke directions (histograms of "
                "gradient orientations over regions) and pooled profiles help.")
    expect(accuracy >= threshold,
           f"with your {k} features, logistic regression (after standardising each feature) reaches accuracy "
           f"{accuracy:.4f} on {HIDDEN} hidden test digits (training accuracy {train_accuracy:.4f}); this check "
           f"needs at least {threshold:.2f}.{hint}")


@check(points=2, name="hidden accuracy at least 0.90")
def accuracy_90(student: StudentHandle, rng: np.random.Generator) -> None:
    expect_accuracy(student, rng, 0.90)


@check(points=2, name="hidden accuracy at least 0.94")
def accuracy_94(student: StudentHandle, rng: np.random.Generator) -> None:
    expect_accuracy(student, rng, 0.94)


@check(points=2, name="hidden accuracy at least 0.97")
def accuracy_97(student: StudentHandle, rng: np.random.Generator) -> None:
    expect_accuracy(student, rng, 0.97)
