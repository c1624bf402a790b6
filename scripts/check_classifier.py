#!/usr/bin/env python3
"""Runs a Transmute domain classifier folder (config.json + classifier.safetensors) in PyTorch
on labelled photos and prints its accuracy, as an independent check of the Swift forward pass
and of the weights file: the figures should match `transmute classifier test` within a photo
or two (Pillow's 8-bit bicubic resize rounds where Transmute's does not).

    python3 scripts/check_classifier.py models/horse-zebra-classifier DIR_A DIR_B
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file


def build(config):
    layers, channels = [], config["channels"]
    for filters in config["filters"]:
        layers += [torch.nn.Conv2d(channels, filters, 4, 2, 1), torch.nn.LeakyReLU(0.2)]
        channels = filters
    layers.append(torch.nn.Conv2d(channels, 1, 1))
    return torch.nn.Sequential(*layers)


def prepare(path, config):
    load, side = config["load_size"], config["image_size"]
    image = Image.open(path).convert("RGB" if config["channels"] == 3 else "L")
    image = image.resize((load, load), Image.BICUBIC)
    offset = (load - side) // 2
    image = image.crop((offset, offset, offset + side, offset + side))
    array = np.asarray(image, dtype=np.float32) / 255 * 2 - 1
    if array.ndim == 2:
        array = array[None]
    else:
        array = array.transpose(2, 0, 1)
    return torch.from_numpy(array.copy())


def main():
    folder, dir_a, dir_b = (Path(argument) for argument in sys.argv[1:4])
    config = json.loads((folder / "config.json").read_text())
    model = build(config)
    weights = {key.removeprefix("model."): value for key, value in
               load_file(folder / "classifier.safetensors").items()}
    model.load_state_dict(weights)
    model.eval()
    for name, directory, wants_b in (("A", dir_a, False), ("B", dir_b, True)):
        files = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".jpg", ".png"))
        batch = torch.stack([prepare(p, config) for p in files])
        with torch.no_grad():
            logits = model(batch).mean(dim=(1, 2, 3))
        right = int(((logits > 0) == wants_b).sum())
        print(f"{name}: {right}/{len(files)} = {100 * right / len(files):.1f}%")


if __name__ == "__main__":
    main()
