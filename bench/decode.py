#!/usr/bin/env python3
"""Decoding speed of Transmute's ImageIO beside Pillow, same files, same machine, same run.

Usage (from the package root):
    python3 bench/decode.py [--folder ../shared/datasets/horse2zebra/trainA] [--rounds 3]

Builds the `DecodeBench` executable (release) and alternates, `--rounds` times, one pass of
Transmute over every image of the folder (1067 JPEGs of 256x256 for horse2zebra trainA) with
one pass of Pillow over the same files, after a warm-up of each (so the files are in the page
cache for both). Both run single-threaded. Pillow is timed twice per round: decoding alone
(`Image.open(...).convert("RGB")`, 8-bit interleaved) and decoding plus the conversion to what
Transmute delivers (planar float32 in [0, 1], numpy). Prints the medians and the ratios
Transmute / Pillow (below 1 means Transmute is faster).
"""

import argparse
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent


def pillow_pass(paths, to_float):
    started = time.perf_counter()
    for path in paths:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
            if to_float:
                planes = np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1) / 255.0
                assert planes.shape[0] == 3
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=str(ROOT.parent / "shared" / "datasets" / "horse2zebra" / "trainA"))
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    subprocess.run(["swift", "build", "-c", "release", "--product", "DecodeBench"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    binary = ROOT / ".build" / "release" / "DecodeBench"
    paths = sorted(p for p in pathlib.Path(options.folder).iterdir()
                   if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    print(f"{len(paths)} images in {options.folder}")

    pillow_pass(paths, to_float=True)  # warm-up
    ours, pillow, pillow_float = [], [], []
    for round_index in range(options.rounds):
        result = subprocess.run([str(binary), options.folder, "1"], check=True,
                                capture_output=True, text=True)
        line = [l for l in result.stdout.splitlines() if l.startswith("round ")][-1]
        ours.append(float(line.split()[1]))
        pillow.append(pillow_pass(paths, to_float=False))
        pillow_float.append(pillow_pass(paths, to_float=True))
        print(f"round {round_index + 1}: transmute {ours[-1]:.3f}s  pillow {pillow[-1]:.3f}s  "
              f"pillow+float {pillow_float[-1]:.3f}s", flush=True)

    t, p, pf = (statistics.median(x) for x in (ours, pillow, pillow_float))
    n = len(paths)
    print(f"median: transmute {t:.3f}s ({n / t:.0f} img/s), pillow {p:.3f}s ({n / p:.0f} img/s), "
          f"pillow+float {pf:.3f}s ({n / pf:.0f} img/s)")
    print(f"ratio transmute/pillow {t / p:.2f}, transmute/(pillow+float) {t / pf:.2f} "
          "(below 1: Transmute faster)")


if __name__ == "__main__":
    sys.exit(main())
