#!/usr/bin/env python3
"""Reference outputs of Pillow's Image.resize for ImageIOTests' resampling tests.

Writes Tests/ImageIOTests/Fixtures/resampling.json: a seeded random float grey image (values
in [0, 1]) and Pillow's resize of it in mode "F" (32-bit float, which Pillow resamples
in double precision without rounding or clamping) for the filters BICUBIC, BILINEAR and NEAREST
and several target sizes (shrinking, enlarging, mixed, to one pixel). Also a uint8 RGB image
and Pillow's resize of it in mode "RGB" (fixed-point, rounded and clamped to 8 bits after each
pass), which ImageIO, clamping each pass, must match within two levels. And numpy's np.pad(mode="reflect") of the float image for the
reflect-padding test.

Run from the package root: python3 scripts/make_resampling_references.py
"""
import json
import pathlib

import numpy as np
from PIL import Image

SEED = 7
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "Tests" / "ImageIOTests" / "Fixtures" / "resampling.json"
FILTERS = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR,
           "nearest": Image.Resampling.NEAREST}
SIZES = [(6, 5), (29, 23), (20, 4), (1, 1), (13, 3), (4, 11), (27, 2)]


def short(array):
    """Float32 values as the shortest decimal that reads back to the same float32."""
    return [float(np.format_float_positional(v, unique=True)) for v in
            array.astype(np.float32).reshape(-1)]


def resize_float(plane, out_width, out_height, method):
    """Pillow's float ("F") resize of one [H, W] plane."""
    return np.array(Image.fromarray(plane, "F").resize((out_width, out_height), method))


def main():
    rng = np.random.default_rng(SEED)
    height, width = 11, 13
    planes = rng.random((1, height, width), dtype=np.float32)
    cases = []
    for name, method in FILTERS.items():
        for out_width, out_height in SIZES:
            outputs = [resize_float(plane, out_width, out_height, method) for plane in planes]
            cases.append({"filter": name, "width": out_width, "height": out_height,
                          "pixels": short(np.stack(outputs))})

    rgb = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    rgb_cases = []
    for name in ["bicubic", "bilinear"]:
        for out_width, out_height in [(6, 5), (29, 23), (20, 4)]:
            resized = np.array(Image.fromarray(rgb).resize((out_width, out_height), FILTERS[name]))
            rgb_cases.append({"filter": name, "width": out_width, "height": out_height,
                              "samples": resized.reshape(-1).astype(int).tolist()})

    pad = {"left": 3, "right": 5, "top": 2, "bottom": 4}
    padded = np.pad(planes, ((0, 0), (pad["top"], pad["bottom"]), (pad["left"], pad["right"])),
                    mode="reflect")
    OUTPUT.write_text(json.dumps({
        "width": width, "height": height, "pixels": short(planes),
        "cases": cases, "rgbSamples": rgb.reshape(-1).astype(int).tolist(), "rgbCases": rgb_cases,
        "padding": pad, "padded": short(padded),
    }) + "\n")
    print(f"{len(cases)} float cases, {len(rgb_cases)} RGB cases -> {OUTPUT}")


if __name__ == "__main__":
    main()
