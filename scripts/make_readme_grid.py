#!/usr/bin/env python3
"""Draws the README's figure: photos, their translations by a model, and the way back.

Usage (from the package root, after `swift build -c release`):
  python3 scripts/make_readme_grid.py --model models/horse2zebra \
      --photos ../shared/datasets/horse2zebra/testA --pick n02381460_1000 n02381460_1010 \
      --output docs/images/horse2zebra.jpg

The translations are made by Transmute itself (`transmute translate`, first with G_A, then
with G_B on its outputs), into a temporary folder; this script only copies the chosen photos
there and lays the three columns out with Pillow. Each photo is first resized to --size x --size
(the figure shows what the model does at the scale it was trained on). The figure is a JPEG of
reduced size: the photos of the CycleGAN datasets may be shown in a figure, never committed as
files.
"""

import argparse
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def translate(binary, model, source, destination, direction, size):
    command = [binary, "translate", "--model", model, "--input", source, "--output",
               destination, "--direction", direction, "--format", "png", "--quiet"]
    if size:
        command += ["--size", str(size)]
    subprocess.run(command, check=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "horse2zebra"))
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "transmute"))
    parser.add_argument("--photos", required=True, help="folder of the photos")
    parser.add_argument("--pick", nargs="+", required=True,
                        help="file names (without extension) of the photos to show, in order")
    parser.add_argument("--size", type=int, default=256, help="translate at SIZE x SIZE")
    parser.add_argument("--cell", type=int, default=160, help="side of each picture, pixels")
    parser.add_argument("--columns", type=int, default=2, help="photo triples per row")
    parser.add_argument("--labels", nargs=3, default=["horse", "as zebra (G_A)", "and back (G_B)"])
    parser.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"])
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args()

    names = {os.path.splitext(name)[0]: name for name in os.listdir(arguments.photos)}
    missing = [pick for pick in arguments.pick if pick not in names]
    if missing:
        sys.exit(f"{arguments.photos}: no photo named {', '.join(missing)}")
    back = "BtoA" if arguments.direction == "AtoB" else "AtoB"

    with tempfile.TemporaryDirectory() as work:
        folders = [os.path.join(work, part) for part in ("photos", "there", "back")]
        os.makedirs(folders[0])
        for pick in arguments.pick:
            with Image.open(os.path.join(arguments.photos, names[pick])) as photo:
                photo = photo.convert("RGB").resize((arguments.size, arguments.size),
                                                    Image.Resampling.BICUBIC)
                photo.save(os.path.join(folders[0], pick + ".png"))
        translate(arguments.binary, arguments.model, folders[0], folders[1],
                  arguments.direction, None)
        translate(arguments.binary, arguments.model, folders[1], folders[2], back, None)

        cell, gap, header = arguments.cell, 4, 22
        triple = 3 * cell + 2 * gap
        rows = (len(arguments.pick) + arguments.columns - 1) // arguments.columns
        width = arguments.columns * triple + (arguments.columns - 1) * 3 * gap
        height = header + rows * cell + (rows - 1) * gap
        figure = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(figure)
        for column in range(arguments.columns):
            for part, label in enumerate(arguments.labels):
                left = column * (triple + 3 * gap) + part * (cell + gap)
                draw.text((left + 4, 4), label, fill="black")
        for index, pick in enumerate(arguments.pick):
            row, column = divmod(index, arguments.columns)
            for part, folder in enumerate(folders):
                with Image.open(os.path.join(folder, pick + ".png")) as picture:
                    picture = picture.convert("RGB").resize((cell, cell),
                                                            Image.Resampling.LANCZOS)
                    left = column * (triple + 3 * gap) + part * (cell + gap)
                    figure.paste(picture, (left, header + row * (cell + gap)))

        os.makedirs(os.path.dirname(os.path.abspath(arguments.output)), exist_ok=True)
        temporary = arguments.output + ".tmp"
        figure.save(temporary, "JPEG", quality=85)
        os.replace(temporary, arguments.output)
    print(f"wrote {arguments.output} ({width}x{height})")


if __name__ == "__main__":
    main()
