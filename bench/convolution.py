#!/usr/bin/env python3
"""Convolution speed of Transmute's Kernels beside PyTorch, same shapes, same machine, same run.

Usage (from the package root):  python3 bench/convolution.py [--repeats 5] [--threads 2]
(--threads sets both torch.set_num_threads and Transmute's ComputeThreads.)

Builds the `ConvolutionBench` executable (release), starts it once, and for every shape of a
CycleGAN ResNet generator at 256x256 (ngf 64, batch 1) and every pass (forward, input gradient,
weight gradient with bias gradient) alternates one timed Transmute run with one timed PyTorch
run, `--repeats` times, after one warm-up of each. Prints medians, the ratio Transmute / PyTorch
(below 1 means Transmute is faster) and the GFLOP/s each reaches (2 flops per multiply-add of
the direct convolution, whatever the algorithm). PyTorch runs with torch.set_num_threads(2) and
times aten's convolution_backward with the same output masks, so both sides compute the same.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import torch

# name, transposed, N, Cin, Cout, H, W (of the kernel's input), k, stride, padding, out padding,
# layers of this shape in one generator. Reflection padding is a separate op in both
# implementations, so the padded size is the kernel's input and its own padding is 0.
SHAPES = [
    ("c7s1-64 (3->64, 262->256)", False, 1, 3, 64, 262, 262, 7, 1, 0, 0, 1),
    ("d128 (64->128 s2, 256->128)", False, 1, 64, 128, 256, 256, 3, 2, 1, 0, 1),
    ("d256 (128->256 s2, 128->64)", False, 1, 128, 256, 128, 128, 3, 2, 1, 0, 1),
    ("R256 (256->256, 66->64)", False, 1, 256, 256, 66, 66, 3, 1, 0, 0, 18),
    ("u128 (T 256->128 s2, 64->128)", True, 1, 256, 128, 64, 64, 3, 2, 1, 1, 1),
    ("u64 (T 128->64 s2, 128->256)", True, 1, 128, 64, 128, 128, 3, 2, 1, 1, 1),
    ("c7s1-3 (64->3, 262->256)", False, 1, 64, 3, 262, 262, 7, 1, 0, 0, 1),
]
PASSES = ["forward", "input", "weight"]


def flops(shape):
    _, transposed, n, cin, cout, h, w, k, s, p, op, _ = shape
    if transposed:
        return 2.0 * n * cin * h * w * cout * k * k
    oh = (h + 2 * p - k) // s + 1
    ow = (w + 2 * p - k) // s + 1
    return 2.0 * n * cout * oh * ow * cin * k * k


class TorchCase:
    """Tensors and one timed call per pass of one shape."""

    def __init__(self, shape):
        _, self.transposed, n, cin, cout, h, w, k, s, p, op, _ = shape
        self.stride, self.padding, self.output_padding = s, p, op
        generator = torch.Generator().manual_seed(0)
        self.x = torch.rand((n, cin, h, w), generator=generator) - 0.5
        wshape = (cin, cout, k, k) if self.transposed else (cout, cin, k, k)
        self.weight = torch.rand(wshape, generator=generator) - 0.5
        self.bias = torch.rand((cout,), generator=generator) - 0.5
        with torch.no_grad():
            y = self.forward()
        self.grad = torch.rand(y.shape, generator=generator) - 0.5

    def forward(self):
        if self.transposed:
            return torch.nn.functional.conv_transpose2d(
                self.x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                output_padding=self.output_padding)
        return torch.nn.functional.conv2d(
            self.x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def run(self, which):
        with torch.no_grad():
            if which == "forward":
                self.forward()
                return
            mask = [True, False, False] if which == "input" else [False, True, True]
            torch.ops.aten.convolution_backward(
                self.grad, self.x, self.weight, [self.bias.shape[0]], [self.stride] * 2,
                [self.padding] * 2, [1, 1], self.transposed, [self.output_padding] * 2, 1, mask)

    def time(self, which):
        start = time.perf_counter()
        self.run(which)
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    torch.set_num_threads(arguments.threads)

    subprocess.run(["swift", "build", "-c", "release", "--product", "ConvolutionBench"],
                   cwd=root, check=True, stdout=subprocess.DEVNULL)
    binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root,
                            check=True, capture_output=True, text=True).stdout.strip()
    bench = subprocess.Popen(
        [os.path.join(binary, "ConvolutionBench"), "--threads", str(arguments.threads)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root)

    def transmute_time(shape, which):
        _, transposed, n, cin, cout, h, w, k, s, p, op, _ = shape
        request = f"{int(transposed)} {n} {cin} {cout} {h} {w} {k} {s} {p} {op} {which} 1\n"
        bench.stdin.write(request)
        bench.stdin.flush()
        return float(bench.stdout.readline().split()[0])

    load = os.getloadavg()[0]
    print(f"torch {torch.__version__} and Transmute, {arguments.threads} threads each; "
          f"{arguments.repeats} alternating repetitions, medians; load average {load:.1f} on "
          f"{os.cpu_count()} cores at start")
    header = (f"{'shape':32} {'pass':8} {'GFLOP':>6} {'Transmute ms':>12} {'PyTorch ms':>10} "
              f"{'ratio':>6} {'T GFLOP/s':>9} {'P GFLOP/s':>9}")
    print(header)
    print("-" * len(header))
    totals = {"transmute": 0.0, "torch": 0.0, "flops": 0.0}
    for shape in SHAPES:
        case = TorchCase(shape)
        gigaflops = flops(shape) / 1e9
        for which in PASSES:
            transmute_time(shape, which)  # warm-up (the executable also warms up itself)
            case.time(which)
            ours, theirs = [], []
            for _ in range(arguments.repeats):
                ours.append(transmute_time(shape, which))
                theirs.append(case.time(which))
            ours_ms = statistics.median(ours) * 1e3
            theirs_ms = statistics.median(theirs) * 1e3
            count = shape[-1]
            totals["transmute"] += ours_ms * count
            totals["torch"] += theirs_ms * count
            totals["flops"] += gigaflops * count
            print(f"{shape[0]:32} {which:8} {gigaflops:6.2f} {ours_ms:12.1f} {theirs_ms:10.1f} "
                  f"{ours_ms / theirs_ms:6.2f} {gigaflops / ours_ms * 1e3:9.1f} "
                  f"{gigaflops / theirs_ms * 1e3:9.1f}")
    print("-" * len(header))
    print(f"{'generator fwd+bwd (x layer counts)':32} {'all':8} {totals['flops']:6.1f} "
          f"{totals['transmute']:12.1f} {totals['torch']:10.1f} "
          f"{totals['transmute'] / totals['torch']:6.2f} "
          f"{totals['flops'] / totals['transmute'] * 1e3:9.1f} "
          f"{totals['flops'] / totals['torch'] * 1e3:9.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end; ratio = Transmute / PyTorch")
    bench.stdin.close()
    bench.wait()


if __name__ == "__main__":
    sys.exit(main())
