#!/usr/bin/env python3
"""Writes the reference fixtures of Tests/TrainingTests/Fixtures.

Run from the package root:  python3 scripts/make_training_fixtures.py
Needs numpy, Pillow, torch and safetensors. Everything is deterministic (seeds below).

preprocess.safetensors / preprocess.json
    The reference's `get_transform` (resize with Pillow's BICUBIC, crop, flip, scale to [-1, 1])
    applied to ../shared/photos/chelsea.png for each preprocess mode (for "none", to its
    45×30 region at x 100, y 50), with the crop offsets and
    flips fixed here so that the Swift loader can be given the same ones. Pillow resizes each
    channel in float mode ("F"), the precision Transmute works in; the reference resizes 8-bit
    images, which differs by up to one level in 255 (the tests allow for it where noted).
"""

import json
import os

import numpy as np
from PIL import Image
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(ROOT, "..", "Tests", "TrainingTests", "Fixtures")
PHOTO = os.path.join(ROOT, "..", "..", "shared", "photos", "chelsea.png")


def resize_float(planes, width, height):
    """Pillow's bicubic resize of each [H, W] float plane (values in [0, 1])."""
    return np.stack([
        np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize(
            (width, height), Image.BICUBIC), dtype=np.float32)
        for p in planes
    ])


def make_power_2(planes, base=4):
    """The reference's __make_power_2: each side rounded to the nearest multiple of `base`."""
    h, w = planes.shape[1:]
    nh, nw = int(round(h / base) * base), int(round(w / base) * base)
    return planes if (nh, nw) == (h, w) else resize_float(planes, nw, nh)


def scale_width(planes, target, crop):
    """The reference's __scale_width."""
    h, w = planes.shape[1:]
    if w == target and h >= crop:
        return planes
    return resize_float(planes, target, int(max(target * h / w, crop)))


def transform(planes, mode, load, crop, x, y, flip):
    """The reference's get_transform with the random crop at (x, y) and the flip given."""
    if "resize" in mode:
        planes = resize_float(planes, load, load)
    elif "scale_width" in mode:
        planes = scale_width(planes, load, crop)
    if "crop" in mode:
        planes = planes[:, y:y + crop, x:x + crop]
    if mode == "none":
        planes = make_power_2(planes)
    if flip:
        planes = planes[:, :, ::-1]
    return np.ascontiguousarray(planes * 2 - 1, dtype=np.float32)


def preprocess_fixtures():
    rgb = np.asarray(Image.open(PHOTO).convert("RGB"), dtype=np.float32) / 255
    planes = np.ascontiguousarray(rgb.transpose(2, 0, 1))
    grey = (planes[0] * 0.299 + planes[1] * 0.587 + planes[2] * 0.114)[None]
    cases = [
        # name, mode, load, crop, x, y, flip, channels
        ("resize_and_crop", "resize_and_crop", 72, 64, 5, 3, True, 3),
        ("crop", "crop", 286, 48, 200, 100, False, 3),
        ("scale_width_and_crop", "scale_width_and_crop", 96, 40, 31, 17, True, 3),
        ("none", "none", 286, 256, 0, 0, False, 3),  # on the 45×30 region at (100, 50)
        ("grey_resize_and_crop", "resize_and_crop", 40, 32, 8, 0, False, 1),
    ]
    tensors = {}
    described = []
    for name, mode, load, crop, x, y, flip, channels in cases:
        source = planes if channels == 3 else grey
        if mode == "none":
            source = source[:, 50:80, 100:145]
        out = transform(source, mode, load, crop, x, y, flip)
        tensors[name] = out[None]
        described.append({
            "name": name, "preprocess": mode, "loadSize": load, "cropSize": crop, "x": x,
            "y": y, "flip": flip, "channels": channels, "shape": list(out[None].shape),
        })
    save_file(tensors, os.path.join(FIXTURES, "preprocess.safetensors"))
    with open(os.path.join(FIXTURES, "preprocess.json"), "w") as f:
        json.dump(described, f, indent=1)


if __name__ == "__main__":
    os.makedirs(FIXTURES, exist_ok=True)
    preprocess_fixtures()
