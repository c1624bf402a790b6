#!/usr/bin/env python3
"""Speed of Tensors operations beside PyTorch, same shapes, same machine, same run.

Usage (from the package root):  python3 bench/tensor_ops.py [--repeats 10] [--threads 2]

Builds the `TensorsBench` executable (release), starts it once, and for every case alternates
one timed Transmute run with one timed PyTorch run (torch.set_num_threads(threads)), `repeats`
times, after one warm-up of each, so that both see the same machine load. Prints both medians
and the ratio Transmute / PyTorch (below 1 means Transmute is faster). "forward" runs without
gradients; "training" is forward plus backward from a constant upstream gradient.
"""

import argparse
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F

CASES = {
    "instance_norm 64x256x256": ((1, 64, 256, 256), lambda x: F.instance_norm(x)),
    "instance_norm 256x64x64": ((1, 256, 64, 64), lambda x: F.instance_norm(x)),
    "relu 64x256x256": ((1, 64, 256, 256), F.relu),
    "leaky_relu 128x64x64": ((1, 128, 64, 64), lambda x: F.leaky_relu(x, 0.2)),
    "tanh 3x256x256": ((1, 3, 256, 256), torch.tanh),
    "reflection_pad3 3x256x256": ((1, 3, 256, 256), lambda x: F.pad(x, (3, 3, 3, 3), "reflect")),
    "reflection_pad1 256x64x64": ((1, 256, 64, 64), lambda x: F.pad(x, (1, 1, 1, 1), "reflect")),
    "add 256x64x64": ((1, 256, 64, 64), lambda x: x + x * 0.5),
    "upsample_bilinear 64x128x128": (
        (1, 64, 128, 128),
        lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False),
    ),
    "upsample_nearest 64x128x128": (
        (1, 64, 128, 128),
        lambda x: F.interpolate(x, scale_factor=2, mode="nearest"),
    ),
    "concatenate 64x128x128": ((1, 64, 128, 128), lambda x: torch.cat([x, x], 1)),
    "l1_loss 3x256x256": ((1, 3, 256, 256), lambda x: F.l1_loss(x, torch.full_like(x, 0.25))),
    "instance_norm_relu 64x1024x1024": ((1, 64, 1024, 1024), lambda x: F.relu(F.instance_norm(x))),
}


def torch_time(shape, operation, mode, x, upstream):
    if mode == "forward":
        start = time.perf_counter()
        with torch.no_grad():
            operation(x)
    else:
        leaf = x.clone().requires_grad_()
        start = time.perf_counter()
        operation(leaf).backward(upstream)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)

    subprocess.run(["swift", "build", "-c", "release", "--product", "TensorsBench"], check=True)
    binary = subprocess.run(
        ["swift", "build", "-c", "release", "--show-bin-path"], check=True, capture_output=True,
        text=True,
    ).stdout.strip()
    bench = subprocess.Popen(
        [f"{binary}/TensorsBench"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    names = []
    while (line := bench.stdout.readline().strip()) != "":
        names.append(line)

    def ours(name, mode):
        bench.stdin.write(f"{name}\t{mode}\t1\n")
        bench.stdin.flush()
        return float(bench.stdout.readline().split()[0])

    print(f"{'operation':44} {'Transmute ms':>12} {'PyTorch ms':>11} {'ratio':>6}")
    for name in names:
        shape, operation = CASES[name]
        x = torch.randn(shape)
        with torch.no_grad():
            upstream = torch.full_like(operation(x), 0.5)
        for mode in ["forward", "training"]:
            if mode == "training" and "1024" in name:
                continue
            ours(name, mode)
            torch_time(shape, operation, mode, x, upstream)
            our_times, torch_times = [], []
            for _ in range(arguments.repeats):
                our_times.append(ours(name, mode))
                torch_times.append(torch_time(shape, operation, mode, x, upstream))
            a, b = statistics.median(our_times), statistics.median(torch_times)
            print(f"{name + ' ' + mode:44} {a * 1e3:12.2f} {b * 1e3:11.2f} {a / b:6.2f}")
    bench.stdin.close()
    bench.wait()


if __name__ == "__main__":
    main()
