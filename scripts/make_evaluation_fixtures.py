#!/usr/bin/env python3
"""Fixtures of Tests/EvaluationTests: small test photos and the reconstruction L1 that a model
whose generators output constants must reach on them, in closed form.

A ResNet generator whose weights are all zero except the bias `b` of its last convolution
outputs tanh(b[c]) at every pixel of channel c, whatever its input (every inner activation is
zero: zero convolutions, instance norms of constant planes, ReLUs, residual sums). So A -> B ->
A reconstructs every photo of A as the constant tanh(b_GB), and the cycle L1 of a photo x (in
[-1, 1], grey repeated into three channels) is mean |x - tanh(b_GB[c])| over its own pixels.

Run from the package root: python3 scripts/make_evaluation_fixtures.py (numpy, Pillow).
"""
import json
from pathlib import Path

import numpy as np
from PIL import Image

SEED = 20261203
ROOT = Path(__file__).resolve().parent.parent / "Tests/EvaluationTests/Fixtures/constant"

# The last-convolution biases of G_A (A -> B) and G_B (B -> A), per output channel.
BIAS_GA = [0.3, -0.5, 0.8]
BIAS_GB = [-0.2, 0.6, 0.1]

# (folder, name, width, height, grey): odd sizes and one below 8 exercise the padding.
PHOTOS = [
    ("A", "a0.png", 10, 6, False),
    ("A", "a1.png", 8, 8, True),
    ("A", "a2.png", 13, 9, False),
    ("B", "b0.png", 12, 12, False),
    ("B", "b1.png", 5, 7, False),
]


def main():
    rng = np.random.default_rng(SEED)
    expected = {"bias_G_A": BIAS_GA, "bias_G_B": BIAS_GB, "splits": {}}
    per_split = {"A": [], "B": []}
    for folder, name, width, height, grey in PHOTOS:
        (ROOT / folder).mkdir(parents=True, exist_ok=True)
        if grey:
            samples = rng.integers(0, 256, size=(height, width), dtype=np.uint8)
            Image.fromarray(samples, mode="L").save(ROOT / folder / name)
            planes = np.repeat(samples[None, :, :], 3, axis=0)
        else:
            samples = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
            Image.fromarray(samples, mode="RGB").save(ROOT / folder / name)
            planes = samples.transpose(2, 0, 1)
        x = planes.astype(np.float64) / 255 * 2 - 1  # [3, H, W] in [-1, 1]

        # The reconstruction is the other generator's constant.
        back = BIAS_GB if folder == "A" else BIAS_GA
        reconstruction = np.tanh(np.array(back, dtype=np.float64))[:, None, None]
        l1 = float(np.abs(x - reconstruction).mean())
        per_split[folder].append({"file": f"{folder}/{name}", "l1": l1})

    for split, photos in per_split.items():
        values = [photo["l1"] for photo in photos]
        worst = max(photos, key=lambda photo: photo["l1"])
        expected["splits"][split] = {
            "photos": photos,
            "reconstruction_l1": float(np.mean(values)),
            "worst_reconstruction_l1": worst["l1"],
            "worst_file": worst["file"],
        }
    with open(ROOT / "expected.json", "w") as file:
        json.dump(expected, file, indent=2, sort_keys=True)
        file.write("\n")


if __name__ == "__main__":
    main()
