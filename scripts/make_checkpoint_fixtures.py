#!/usr/bin/env python3
"""Reference fixtures for Tests/CheckpointsTests, and checks of files Transmute writes.

    python3 scripts/make_checkpoint_fixtures.py              # rewrite the fixtures (seed 0)
    python3 scripts/make_checkpoint_fixtures.py verify-safetensors FILE EXPECTED.json [F32|F16]

Needs torch, numpy and safetensors. Every random value comes from torch.manual_seed(0) or
numpy's default_rng(0), so running the script again gives the same files.
"""

import argparse
import json
import pathlib
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "CheckpointsTests" / "Fixtures"


def float_bits(tensor):
    """The float32 bit patterns of a tensor's values, as a flat list of ints."""
    array = tensor.detach().to(torch.float32).contiguous().numpy().reshape(-1)
    return [int(bits) for bits in array.view(np.uint32)]


def write_json(name, value):
    (FIXTURES / name).write_text(json.dumps(value, indent=1, sort_keys=True) + "\n")


# ---- safetensors -------------------------------------------------------------------------------

SAFETENSORS_METADATA = {"format": "pt", "note": 'written by "torch", ünïcode ✓'}


def make_safetensors():
    """A file with every dtype Transmute reads, written by the safetensors package."""
    torch.manual_seed(0)
    specials = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1e-5, 5.96e-8, float("inf"),
                             float("-inf"), 0.333])
    tensors = {
        "model.1.weight": torch.randn(3, 2, 3, 3),
        "model.1.bias": torch.randn(3),
        "half.values": torch.cat([specials, torch.randn(6)]).to(torch.float16),
        "brain.values": torch.randn(2, 3).to(torch.bfloat16),
        "scalar": torch.tensor(1.5),
        "empty": torch.zeros(0, 4),
    }
    save_file(tensors, str(FIXTURES / "reference.safetensors"), metadata=SAFETENSORS_METADATA)
    expected = {
        "metadata": SAFETENSORS_METADATA,
        "tensors": {
            name: {"dtype": {torch.float32: "F32", torch.float16: "F16",
                             torch.bfloat16: "BF16"}[t.dtype],
                   "shape": list(t.shape), "bits": float_bits(t)}
            for name, t in tensors.items()
        },
    }
    write_json("reference_safetensors.json", expected)


def make_rounding():
    """Float32 inputs and their float16 and bfloat16 roundings (ties to even) by numpy/torch."""
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(200).astype(np.float32),
              (rng.standard_normal(100) * 1e-5).astype(np.float32),  # float16 subnormals
              (rng.standard_normal(50) * 3e4).astype(np.float32)]    # near float16 overflow
    edges = np.array([0.0, -0.0, 65504.0, 65519.996, 65520.0, 1e6, -1e6, 2.0 ** -24,
                      2.0 ** -25, 2.0 ** -25 * 1.0001, 2.0 ** -26, 1.0 + 2.0 ** -11,
                      1.0 + 3 * 2.0 ** -11, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8,
                      float("inf"), float("-inf"), 3.4e38, 1e-40], dtype=np.float32)
    inputs = np.concatenate(values + [edges])
    halves = inputs.astype(np.float16).view(np.uint16)
    bfloats = torch.from_numpy(inputs).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    write_json("half_rounding.json", {
        "inputs": [int(b) for b in inputs.view(np.uint32)],
        "float16": [int(b) for b in halves],
        "bfloat16": [int(b) for b in bfloats],
    })


def verify_safetensors(path, expected_path, dtype):
    """Loads a file Transmute wrote and compares it with the expected tensors; exit 1 if unequal."""
    expected = json.loads(pathlib.Path(expected_path).read_text())
    with safe_open(path, framework="pt") as handle:
        metadata = handle.metadata() or {}
        names = set(handle.keys())
        tensors = {name: handle.get_tensor(name) for name in names}
    problems = []
    if metadata != expected["metadata"]:
        problems.append(f"metadata {metadata} != {expected['metadata']}")
    if names != set(expected["tensors"]):
        problems.append(f"names {sorted(names)} != {sorted(expected['tensors'])}")
    torch_type = {"F32": torch.float32, "F16": torch.float16}[dtype]
    for name, item in expected["tensors"].items():
        if name not in tensors:
            continue
        tensor = tensors[name]
        want = np.array(item["bits"], dtype=np.uint32).view(np.float32).reshape(item["shape"])
        want = torch.from_numpy(want.copy()).to(torch_type)
        if tensor.dtype != torch_type or list(tensor.shape) != item["shape"]:
            problems.append(f"{name}: {tensor.dtype} {list(tensor.shape)}, want {torch_type}"
                            f" {item['shape']}")
        elif not torch.equal(tensor.view(-1).float().nan_to_num(), want.view(-1).float().nan_to_num()):
            problems.append(f"{name}: values differ")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser("verify-safetensors")
    check.add_argument("file")
    check.add_argument("expected")
    check.add_argument("dtype", nargs="?", default="F32", choices=["F32", "F16"])
    arguments = parser.parse_args()
    if arguments.command == "verify-safetensors":
        sys.exit(verify_safetensors(arguments.file, arguments.expected, arguments.dtype))
    FIXTURES.mkdir(parents=True, exist_ok=True)
    make_safetensors()
    make_rounding()


if __name__ == "__main__":
    main()
