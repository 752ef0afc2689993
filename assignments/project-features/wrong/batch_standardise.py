"""Known-wrong: good features, then "standardised" with the mean and standard deviation of the batch it was given.

A row then depends on the other images in the batch (pass a different batch, get different features for the same
image). The accuracy barely suffers here, since training and test batches are large and alike, but the features of a
single image are not well defined."""
import numpy as np

BINS = 8      # orientation bins over the full circle (gradient direction, signed)
WINDOW = 4    # histogram windows of 4x4 pixels ...
STRIDE = 2    # ... every 2 pixels: 3 x 3 = 9 overlapping windows


def orientation_histograms(images):
    """HOG-like features: per window, a histogram of gradient directions weighted by gradient magnitude.

    Each pixel's vote is split between the two nearest bins (so a small rotation changes the features smoothly),
    and each window's histogram is normalised (so thick and thin strokes look alike)."""
    gy, gx = np.gradient(images, axis=(1, 2))  # per image: the differences never cross images
    magnitude = np.hypot(gx, gy)
    position = (np.arctan2(gy, gx) % (2 * np.pi)) / (2 * np.pi) * BINS
    lower = np.floor(position).astype(int) % BINS
    frac = position - np.floor(position)
    upper = (lower + 1) % BINS
    bins = np.arange(BINS)
    votes = magnitude[..., None] * ((1 - frac)[..., None] * (lower[..., None] == bins)
                                    + frac[..., None] * (upper[..., None] == bins))  # (N, 8, 8, BINS)
    size = images.shape[1]
    windows = [votes[:, i:i + WINDOW, j:j + WINDOW].sum(axis=(1, 2))
               for i in range(0, size - WINDOW + 1, STRIDE) for j in range(0, size - WINDOW + 1, STRIDE)]
    histograms = np.stack(windows, axis=1)  # (N, 9, BINS)
    histograms /= np.linalg.norm(histograms, axis=2, keepdims=True) + 1e-3
    return histograms.reshape(len(images), -1)


def pooled_profiles(images):
    """Ink per row, per column, and per 2x2 block."""
    n = len(images)
    blocks = images.reshape(n, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(n, -1)
    return np.hstack([images.sum(axis=2), images.sum(axis=1), blocks])


def good_features(images):
    """Pixels, orientation histograms and profiles (as in a correct solution)."""
    images = np.asarray(images, dtype=float) / 16.0
    pixels = images.reshape(len(images), -1)
    return np.hstack([pixels, orientation_histograms(images), pooled_profiles(images)])


def extract_features(images):
    features = good_features(images)
    return (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-8)  # the bug: batch statistics
