"""Generate the wafer-defects contest data, deterministically from a seed (no download, NumPy only).

Each image is a 32x32 grayscale wafer map: a bright disc (the wafer) on a dark background, with die-grid
texture, shot noise and a slowly varying illumination, and one defect pattern (or none):
  none       a clean wafer                                  (most common)
  scratch    a thin bright line across the wafer at a random angle
  particle   one to three small bright blobs
  edge_ring  a bright ring near the wafer's edge
  center     a bright blob at the wafer's centre            (rarest)
The classes are imbalanced as on a real line. Output (under --out, default this folder):
  data/public/train_images.npy   uint8 (N_train, 32, 32), saved without pickle
  data/public/train_labels.csv   id,label
  data/public/test_images.npy    uint8 (N_test, 32, 32)
  data/public/test_ids.csv       id (the order of test_images.npy)
  data/public/sample_submission.csv   id,label with a placeholder: a valid submission
  hidden/solution.csv            id,label,usage (Public/Private): stays with the harness

    python assignments/wafer-defects/make_data.py [--seed 2026] [--train 600] [--test 400] [--out DIR]
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

SIZE = 32
CLASSES = ("none", "scratch", "particle", "edge_ring", "center")
WEIGHTS = (0.50, 0.20, 0.15, 0.10, 0.05)
PUBLIC_FRACTION = 0.3


def _grid() -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    return y - (SIZE - 1) / 2, x - (SIZE - 1) / 2


def wafer(label: str, rng: np.random.Generator) -> np.ndarray:
    """One image of the given class, values in [0, 255]."""
    y, x = _grid()
    r = np.hypot(y, x)
    radius = SIZE / 2 - 1.5 + rng.normal(0, 0.3)
    disc = r <= radius
    tilt = rng.normal(0, 0.004, size=2)
    image = 0.45 + 0.1 * rng.random() + tilt[0] * y + tilt[1] * x  # illumination
    image = image + 0.04 * (((np.floor(y) + np.floor(x)) % 4) == 0)  # die grid texture
    defect = np.zeros_like(image)
    if label == "scratch":
        angle = rng.uniform(0, np.pi)
        offset = rng.uniform(-radius / 2, radius / 2)
        distance = np.abs(np.cos(angle) * x + np.sin(angle) * y - offset)
        along = -np.sin(angle) * x + np.cos(angle) * y
        half = rng.uniform(radius * 0.4, radius * 0.9)
        defect = np.where((distance < 0.8) & (np.abs(along) < half), 0.45, 0.0)
    elif label == "particle":
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.uniform(-radius * 0.7, radius * 0.7, size=2)
            defect += 0.5 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * rng.uniform(0.6, 1.3) ** 2))
    elif label == "edge_ring":
        width = rng.uniform(0.8, 1.6)
        defect = 0.4 * np.exp(-((r - (radius - 2.0)) ** 2) / (2 * width ** 2))
        gap = rng.uniform(0, 2 * np.pi)  # rings are often incomplete
        defect *= 1 - 0.8 * (np.cos(np.arctan2(y, x) - gap) > 0.7)
    elif label == "center":
        spread = rng.uniform(2.0, 3.5)
        defect = 0.45 * np.exp(-(r ** 2) / (2 * spread ** 2))
    image = np.where(disc, image + defect, 0.08)
    image = image + rng.normal(0, 0.06, size=image.shape)  # sensor noise
    image = np.where(rng.random(image.shape) < 0.01, rng.random(image.shape), image)  # shot noise
    return np.clip(image * 255, 0, 255).astype(np.uint8)


def dataset(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    labels = list(rng.choice(CLASSES, size=n, p=WEIGHTS))
    return np.stack([wafer(label, rng) for label in labels]), [str(label) for label in labels]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate(out: Path, *, seed: int = 2026, train: int = 600, test: int = 400) -> dict[str, int]:
    """Write every file; returns the class counts of the training set."""
    rng = np.random.default_rng(seed)
    train_images, train_labels = dataset(train, rng)
    test_images, test_labels = dataset(test, rng)
    public = out / "data" / "public"
    public.mkdir(parents=True, exist_ok=True)
    np.save(public / "train_images.npy", train_images, allow_pickle=False)
    np.save(public / "test_images.npy", test_images, allow_pickle=False)
    train_ids = [f"tr{i:04d}" for i in range(train)]
    test_ids = [f"w{i:04d}" for i in range(test)]
    _write_csv(public / "train_labels.csv", ["id", "label"], [[i, label] for i, label in zip(train_ids, train_labels)])
    _write_csv(public / "test_ids.csv", ["id"], [[i] for i in test_ids])
    _write_csv(public / "sample_submission.csv", ["id", "label"], [[i, "none"] for i in test_ids])
    usage = np.where(rng.permutation(test) < round(PUBLIC_FRACTION * test), "Public", "Private")
    _write_csv(out / "hidden" / "solution.csv", ["id", "label", "usage"],
               [[i, label, str(u)] for i, label, u in zip(test_ids, test_labels, usage)])
    return {c: train_labels.count(c) for c in CLASSES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--train", type=int, default=600)
    parser.add_argument("--test", type=int, default=400)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    counts = generate(args.out, seed=args.seed, train=args.train, test=args.test)
    print(f"wrote {args.train} training and {args.test} test wafers to {args.out}; training classes: {counts}")


if __name__ == "__main__":
    main()
