#!/usr/bin/env python3
"""Writes Tests/TensorsTests/Fixtures/ops.bin: PyTorch references for the Tensors operations.

Seed 20261203 (torch.manual_seed). Inputs are drawn in float32; the references are computed in
float64 from those float32 values, then stored as float32, so they are as exact as float32
allows. For each case the backward pass is the gradient of `sum(output * upstream)` with
`upstream` a random tensor shaped like the output (stored as "upstream"), so the stored
gradients are vector-Jacobian products.

Also writes the first outputs of RandomGenerator's algorithm (xoshiro256** seeded by
SplitMix64, 24-bit uniform floats, Marsaglia polar normals), implemented here independently.

File layout (little-endian): b"TFIX", uint32 header length, header (UTF-8 JSON:
{"seed": ..., "cases": {case: {"parameters": {...}, "tensors": {name: {"shape": [...],
"offset": elements}}}}}), then the float32 data.

Run: python3 scripts/make_tensor_fixtures.py (torch 2.13.0+cpu).
"""

import json
import math
import struct
from pathlib import Path

import torch
import torch.nn.functional as F

SEED = 20261203
OUT = Path(__file__).resolve().parent.parent / "Tests/TensorsTests/Fixtures/ops.bin"

torch.manual_seed(SEED)
cases = {}


def normal(*shape):
    return torch.randn(*shape, dtype=torch.float32).double()


def add_case(name, parameters, inputs, compute, extra=None):
    """Runs `compute(**inputs)` in float64 and stores inputs, output, upstream and gradients.

    Inputs whose name starts with "const_" get no gradient.
    """
    leaves = {}
    for key, value in inputs.items():
        leaves[key] = value.clone().requires_grad_(not key.startswith("const_"))
    output = compute(**leaves)
    upstream = torch.randn(output.shape, dtype=torch.float32).double()
    (output * upstream).sum().backward()
    tensors = {key: value.detach() for key, value in inputs.items()}
    tensors["output"] = output.detach()
    tensors["upstream"] = upstream
    for key, leaf in leaves.items():
        if leaf.requires_grad:
            tensors["grad_" + key] = leaf.grad
    tensors.update(extra or {})
    cases[name] = {"parameters": parameters, "tensors": tensors}


# Convolutions: odd sizes, stride 2, channel counts that are not multiples of 8.
for index, (n, cin, h, w, cout, k, s, p, bias) in enumerate(
    [
        (2, 3, 9, 7, 5, 3, 1, 1, True),
        (1, 5, 11, 10, 6, 3, 2, 1, True),
        (1, 3, 13, 12, 4, 7, 1, 0, False),
        (2, 12, 6, 5, 10, 1, 1, 0, True),
        (1, 4, 9, 8, 3, 4, 2, 1, True),
    ]
):
    inputs = {"input": normal(n, cin, h, w), "weight": normal(cout, cin, k, k) * 0.3}
    if bias:
        inputs["bias"] = normal(cout)
    add_case(
        f"conv2d_{index}",
        {"stride": s, "padding": p},
        inputs,
        lambda input, weight, bias=None, s=s, p=p: F.conv2d(input, weight, bias, s, p),
    )

for index, (n, cin, h, w, cout, k, s, p, op, bias) in enumerate(
    [
        (1, 6, 5, 4, 3, 3, 2, 1, 1, True),
        (2, 5, 7, 6, 4, 3, 1, 1, 0, True),
        (1, 3, 4, 5, 2, 4, 2, 1, 0, True),
        (1, 4, 3, 3, 5, 3, 2, 0, 1, False),
    ]
):
    inputs = {"input": normal(n, cin, h, w), "weight": normal(cin, cout, k, k) * 0.3}
    if bias:
        inputs["bias"] = normal(cout)
    add_case(
        f"convTranspose2d_{index}",
        {"stride": s, "padding": p, "outputPadding": op},
        inputs,
        lambda input, weight, bias=None, s=s, p=p, op=op: F.conv_transpose2d(
            input, weight, bias, s, p, op
        ),
    )

# Padding, (left, right, top, bottom) as PyTorch.
for index, (mode, shape, pads) in enumerate(
    [
        ("reflect", (2, 3, 5, 6), (3, 3, 3, 3)),
        ("reflect", (1, 2, 4, 5), (1, 2, 3, 0)),
        ("replicate", (1, 3, 4, 5), (2, 1, 0, 3)),
        ("constant", (2, 2, 3, 4), (1, 1, 1, 1)),
        ("constant", (1, 1, 2, 3), (0, 2, 1, 0)),
    ]
):
    add_case(
        f"pad_{index}",
        {"mode": mode, "left": pads[0], "right": pads[1], "top": pads[2], "bottom": pads[3]},
        {"input": normal(*shape)},
        lambda input, mode=mode, pads=pads: F.pad(input, pads, mode=mode),
    )

# Instance norm: eps 1e-5, biased variance.
for index, (shape, affine) in enumerate(
    [
        ((2, 3, 5, 7), False),
        ((1, 5, 9, 4), True),
        ((2, 4, 1, 3), True),
        ((3, 2, 6, 6), False),
        ((1, 2, 67, 71), True),  # planes longer than one 4096-element summation block
    ]
):
    inputs = {"input": normal(*shape) * 2 + 0.5}
    if affine:
        inputs["weight"] = normal(shape[1])
        inputs["bias"] = normal(shape[1])
    add_case(
        f"instanceNorm2d_{index}",
        {"affine": affine},
        inputs,
        lambda input, weight=None, bias=None: F.instance_norm(
            input, weight=weight, bias=bias, eps=1e-5
        ),
    )

# Batch norm in training (batch statistics, running averages) and in evaluation.
for index, (shape, training) in enumerate([((3, 4, 5, 6), True), ((2, 3, 4, 5), False)]):
    channels = shape[1]
    running_mean = normal(channels) * 0.5
    running_var = torch.rand(channels, dtype=torch.float32).double() + 0.5
    updated_mean = running_mean.clone()
    updated_var = running_var.clone()
    add_case(
        f"batchNorm2d_{index}",
        {"training": training, "momentum": 0.1},
        {
            "input": normal(*shape) * 1.5 - 0.3,
            "weight": normal(channels),
            "bias": normal(channels),
        },
        lambda input, weight, bias, training=training: F.batch_norm(
            input, updated_mean, updated_var, weight, bias, training, 0.1, 1e-5
        ),
        extra={
            "running_mean": running_mean,
            "running_var": running_var,
            "updated_running_mean": updated_mean,
            "updated_running_var": updated_var,
        },
    )

# Activations (zeros included, for the kinks).
activation_input = normal(2, 3, 5, 7) * 2
activation_input.view(-1)[:5] = 0
for name, function in [
    ("relu", lambda input: F.relu(input)),
    ("leakyRelu", lambda input: F.leaky_relu(input, 0.2)),
    ("tanh", lambda input: torch.tanh(input)),
    ("sigmoid", lambda input: torch.sigmoid(input)),
]:
    add_case(name, {}, {"input": activation_input.clone()}, function)

# Upsampling.
for index, (mode, shape, scale) in enumerate(
    [
        ("nearest", (1, 3, 4, 5), 2),
        ("nearest", (2, 2, 3, 3), 3),
        ("bilinear", (2, 3, 5, 4), 2),
        ("bilinear", (1, 2, 3, 4), 3),
        ("bilinear", (1, 1, 1, 2), 2),
    ]
):
    if mode == "nearest":
        function = lambda input, scale=scale: F.interpolate(input, scale_factor=scale, mode="nearest")
    else:
        function = lambda input, scale=scale: F.interpolate(
            input, scale_factor=scale, mode="bilinear", align_corners=False
        )
    add_case(f"upsample_{index}", {"mode": mode, "scale": scale}, {"input": normal(*shape)}, function)

# Elementwise arithmetic and reductions.
a, b = normal(2, 3, 4, 5), normal(2, 3, 4, 5)
add_case("add", {}, {"lhs": a, "rhs": b}, lambda lhs, rhs: lhs + rhs)
add_case("subtract", {}, {"lhs": a, "rhs": b}, lambda lhs, rhs: lhs - rhs)
add_case("multiply", {}, {"lhs": a, "rhs": b}, lambda lhs, rhs: lhs * rhs)
add_case("scale", {"factor": 0.37}, {"input": a}, lambda input: input * float(torch.tensor(0.37)))
add_case("sum", {}, {"input": normal(3, 5, 7)}, lambda input: input.sum())
add_case("mean", {}, {"input": normal(3, 5, 7)}, lambda input: input.mean())
add_case(
    "concatenate_channels",
    {"axis": 1},
    {"first": normal(2, 3, 4, 5), "second": normal(2, 5, 4, 5), "third": normal(2, 1, 4, 5)},
    lambda first, second, third: torch.cat([first, second, third], 1),
)
add_case(
    "concatenate_batch",
    {"axis": 0},
    {"first": normal(1, 3, 2, 5), "second": normal(2, 3, 2, 5)},
    lambda first, second: torch.cat([first, second], 0),
)

# Losses (mean reduction), gradients for both sides.
prediction = normal(2, 1, 7, 7)
add_case("l1Loss", {}, {"lhs": prediction, "rhs": normal(2, 1, 7, 7)}, lambda lhs, rhs: F.l1_loss(lhs, rhs))
add_case("mseLoss", {}, {"lhs": prediction, "rhs": normal(2, 1, 7, 7)}, lambda lhs, rhs: F.mse_loss(lhs, rhs))
add_case(
    "binaryCrossEntropyWithLogits",
    {},
    {"lhs": prediction * 4, "rhs": torch.rand(2, 1, 7, 7, dtype=torch.float32).double()},
    lambda lhs, rhs: F.binary_cross_entropy_with_logits(lhs, rhs),
)
add_case(
    "binaryCrossEntropyWithLogits_ones",
    {},
    {"lhs": prediction * 4, "const_rhs": torch.ones(2, 1, 7, 7, dtype=torch.float64)},
    lambda lhs, const_rhs: F.binary_cross_entropy_with_logits(lhs, const_rhs),
)


# RandomGenerator's algorithm, written independently of the Swift code.
MASK = (1 << 64) - 1


def splitmix_states(seed):
    state = seed
    words = []
    for _ in range(4):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        words.append(z ^ (z >> 31))
    return words


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro:
    def __init__(self, seed):
        self.s = splitmix_states(seed)
        self.spare = None

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform_float(self):
        return (self.next() >> 40) * 2.0**-24

    def uniform_double(self):
        return (self.next() >> 11) * 2.0**-53

    def normal(self):
        if self.spare is not None:
            value, self.spare = self.spare, None
            return value
        while True:
            u = 2 * self.uniform_double() - 1
            v = 2 * self.uniform_double() - 1
            r = u * u + v * v
            if 0 < r < 1:
                factor = math.sqrt(-2 * math.log(r) / r)
                self.spare = v * factor
                return u * factor


generator = Xoshiro(42)
bits = [generator.next() for _ in range(8)]
uniforms = [generator.uniform_float() for _ in range(16)]
normals = [generator.normal() for _ in range(16)]
random_reference = {
    "seed": 42,
    "first_bits": [str(value) for value in bits],
    "then_uniform_floats": uniforms,
    "then_normals": normals,
}

# Serialise.
header_cases = {}
blobs = []
offset = 0
for name, case in cases.items():
    entries = {}
    for key, value in case["tensors"].items():
        array = value.to(torch.float32).contiguous().view(-1)
        entries[key] = {"shape": list(value.shape), "offset": offset}
        blobs.append(array.numpy().astype("<f4").tobytes())
        offset += array.numel()
    header_cases[name] = {"parameters": case["parameters"], "tensors": entries}
header = json.dumps(
    {"seed": SEED, "torch": torch.__version__, "cases": header_cases, "random": random_reference},
    sort_keys=True,
).encode()
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_bytes(b"TFIX" + struct.pack("<I", len(header)) + header + b"".join(blobs))
print(f"wrote {OUT} ({len(cases)} cases, {offset} floats)")
