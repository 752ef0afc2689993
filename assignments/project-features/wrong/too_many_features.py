"""Known-wrong: too many features. The image upsampled to 16x16, with its two gradient components: 3 * 256 = 768
features per image, more than the 512 allowed."""
import numpy as np


def extract_features(images):
    images = np.asarray(images, dtype=float) / 16.0
    big = images.repeat(2, axis=1).repeat(2, axis=2)  # (N, 16, 16)
    gy, gx = np.gradient(big, axis=(1, 2))
    return np.hstack([a.reshape(len(images), -1) for a in (big, gx, gy)])  # the bug: (N, 768)
