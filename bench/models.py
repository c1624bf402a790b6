#!/usr/bin/env python3
"""Speed of the CycleGAN networks and of Adam beside PyTorch, same shapes, same machine, run.

Usage (from the package root):  python3 bench/models.py [--repeats 3] [--threads 2]

Builds and runs the `ModelsBench` executable (release), then times the same work in PyTorch
with the reference architectures of scripts/make_model_fixtures.py (resnet_9blocks ngf 64 and
the 3-layer PatchGAN ndf 64, instance norm, one 256x256 image): generator inference, generator
and discriminator forward plus backward of the output's mean, and one torch.optim.Adam step
(lr 2e-4, betas (0.5, 0.999)) over the generator's parameters. Prints both medians and the
ratio Transmute / PyTorch (below 1 means Transmute is faster).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from make_model_fixtures import Generator, PatchDiscriminator  # noqa: E402


def median_time(body, repeats):
    times = []
    for run in range(repeats + 1):
        start = time.perf_counter()
        body()
        if run > 0:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_times(repeats):
    torch.manual_seed(1)
    generator = Generator(3, 3, 64, "instance", False, 9)
    discriminator = PatchDiscriminator(3, 64, 3, "instance")
    image = torch.rand(1, 3, 256, 256) * 2 - 1

    def inference():
        with torch.no_grad():
            generator(image)

    def generator_training():
        generator.zero_grad()
        generator(image).mean().backward()

    def discriminator_training():
        discriminator.zero_grad()
        discriminator(image).mean().backward()

    results = {
        "resnet9 forward 256 inference": median_time(inference, repeats),
        "resnet9 forward+backward 256": median_time(generator_training, repeats),
        "patchgan forward+backward 256": median_time(discriminator_training, repeats),
    }
    generator.zero_grad()
    generator(image).mean().backward()
    adam = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    results["adam step resnet9"] = median_time(adam.step, repeats * 3)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()

    subprocess.run(["swift", "build", "-c", "release", "--product", "ModelsBench"], cwd=ROOT,
                   check=True)
    binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout.strip()
    output = subprocess.run([os.path.join(binary, "ModelsBench"), str(arguments.repeats)],
                            check=True, capture_output=True, text=True).stdout
    ours = {}
    for line in output.splitlines():
        name, seconds = line.split("\t")
        ours[name] = float(seconds)

    torch.set_num_threads(arguments.threads)
    theirs = torch_times(arguments.repeats)
    print(f"{'case':34} {'Transmute s':>12} {'PyTorch s':>10} {'ratio':>7}")
    for name, seconds in ours.items():
        reference = theirs[name]
        print(f"{name:34} {seconds:12.4f} {reference:10.4f} {seconds / reference:7.2f}")


if __name__ == "__main__":
    main()
