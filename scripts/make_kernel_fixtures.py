#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures of KernelsTests (convolution and transposed
convolution, forward and every gradient).

Run from the package root:  python3 scripts/make_kernel_fixtures.py
Seed: 20261203 (torch.manual_seed). Inputs, weights, biases and output gradients are drawn
uniform in [-1, 1) as float32; torch then computes in float64 on exactly those float32 values
(so the stored references carry no float32 rounding of their own) and the results are rounded
to float32 once.

Output, in Tests/KernelsTests/Fixtures/:
  convolution.json  one entry per case: its geometry and, per tensor, [offset, count] in floats
  convolution.bin   all tensors, float32 little-endian, back to back
Tensors per case: input [N, Cin, H, W], weight ([Cout, Cin, kH, kW], or [Cin, Cout, kH, kW]
when transposed), bias [Cout] (absent when the case has no bias), outputGradient, output,
inputGradient, weightGradient, biasGradient.
"""

import json
import pathlib

import numpy as np
import torch

SEED = 20261203

# name, transposed, batch, cin, cout, h, w, k, stride, padding, output padding, bias
CASES = [
    ("3x3 pad 1, odd sizes", False, 2, 5, 6, 9, 11, 3, 1, 1, 0, True),
    ("3x3 stride 2 pad 1, odd height", False, 1, 6, 10, 13, 10, 3, 2, 1, 0, True),
    ("7x7 pad 3", False, 1, 3, 12, 15, 14, 7, 1, 3, 0, True),
    ("4x4 stride 2 pad 1 (PatchGAN)", False, 2, 3, 9, 16, 17, 4, 2, 1, 0, True),
    ("4x4 stride 1 pad 1 (PatchGAN head)", False, 1, 10, 1, 9, 8, 4, 1, 1, 0, True),
    ("1x1", False, 2, 7, 5, 6, 5, 1, 1, 0, 0, True),
    ("3x3 no padding, no bias", False, 1, 4, 3, 8, 7, 3, 1, 0, 0, False),
    ("3x3 pad 1, 16->20 channels (Winograd)", False, 1, 16, 20, 10, 13, 3, 1, 1, 0, True),
    ("7x7 no padding, 8->3 channels (narrow)", False, 1, 8, 3, 16, 17, 7, 1, 0, 0, True),
    ("transposed 3x3 stride 2 pad 1 out pad 1", True, 1, 12, 6, 5, 7, 3, 2, 1, 1, True),
    ("transposed 3x3 stride 2 pad 1 out pad 1, batch 2", True, 2, 3, 5, 4, 4, 3, 2, 1, 1, True),
    ("transposed 4x4 stride 2 pad 1", True, 1, 5, 3, 6, 5, 4, 2, 1, 0, True),
    ("transposed 3x3 stride 1 pad 1, no bias", True, 1, 4, 7, 5, 6, 3, 1, 1, 0, False),
]


def uniform(shape, generator):
    return (torch.rand(shape, generator=generator, dtype=torch.float32) * 2 - 1).contiguous()


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    fixtures = root / "Tests" / "KernelsTests" / "Fixtures"
    generator = torch.Generator().manual_seed(SEED)
    blob = []
    offset = 0
    cases = []

    def store(array):
        nonlocal offset
        flat = np.ascontiguousarray(array.detach().to(torch.float32).numpy().reshape(-1))
        blob.append(flat.astype("<f4"))
        entry = [offset, int(flat.size)]
        offset += int(flat.size)
        return entry

    for name, transposed, n, cin, cout, h, w, k, s, p, op, has_bias in CASES:
        x = uniform((n, cin, h, w), generator)
        weight_shape = (cin, cout, k, k) if transposed else (cout, cin, k, k)
        weight = uniform(weight_shape, generator)
        bias = uniform((cout,), generator) if has_bias else None

        x64 = x.double().requires_grad_()
        w64 = weight.double().requires_grad_()
        b64 = bias.double().requires_grad_() if has_bias else None
        if transposed:
            y = torch.nn.functional.conv_transpose2d(
                x64, w64, b64, stride=s, padding=p, output_padding=op)
        else:
            y = torch.nn.functional.conv2d(x64, w64, b64, stride=s, padding=p)
        output_gradient = uniform(tuple(y.shape), generator)
        y.backward(output_gradient.double())

        tensors = {
            "input": store(x),
            "weight": store(weight),
            "outputGradient": store(output_gradient),
            "output": store(y),
            "inputGradient": store(x64.grad),
            "weightGradient": store(w64.grad),
        }
        if has_bias:
            tensors["bias"] = store(bias)
            tensors["biasGradient"] = store(b64.grad)
        cases.append({
            "name": name, "transposed": transposed, "batch": n, "inChannels": cin,
            "outChannels": cout, "height": h, "width": w, "kernel": k, "stride": s,
            "padding": p, "outputPadding": op, "outHeight": int(y.shape[2]),
            "outWidth": int(y.shape[3]), "tensors": tensors,
        })

    (fixtures / "convolution.bin").write_bytes(np.concatenate(blob).tobytes())
    manifest = {"seed": SEED, "torch": torch.__version__, "cases": cases}
    (fixtures / "convolution.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(cases)} cases, {offset} floats, to {fixtures}")


if __name__ == "__main__":
    main()
