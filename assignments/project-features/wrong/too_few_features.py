"""Known-wrong: too few features. Four summary statistics per image (mean ink, its spread and its centre of
mass) are well formed, but say little about which digit it is."""
import numpy as np


def extract_features(images):
    images = np.asarray(images, dtype=float) / 16.0
    rows, cols = np.mgrid[0:8, 0:8]
    ink = images.sum(axis=(1, 2))
    return np.stack([ink / 64, images.std(axis=(1, 2)),
                     (images * rows).sum(axis=(1, 2)) / ink, (images * cols).sum(axis=(1, 2)) / ink], axis=1)
