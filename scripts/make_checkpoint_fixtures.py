#!/usr/bin/env python3
"""Reference fixtures for Tests/CheckpointsTests, and checks of files Transmute writes.

    python3 scripts/make_checkpoint_fixtures.py              # rewrite the fixtures (seed 0)
    python3 scripts/make_checkpoint_fixtures.py verify-safetensors FILE EXPECTED.json [F32|F16]
    python3 scripts/make_checkpoint_fixtures.py verify-pth FILE REFERENCE.safetensors BLOCKS NGF
        [--dropout] [--half]   # torch.load(weights_only=True), then load into the generator
    python3 scripts/make_checkpoint_fixtures.py verify-all MANIFEST.json
        # many checks in one process: a JSON list of {"check": "safetensors"|"pth", ...}

Needs torch, numpy and safetensors. Every random value comes from torch.manual_seed(0) or
numpy's default_rng(0), so running the script again gives the same files.
"""

import argparse
import collections
import functools
import json
import os
import pathlib
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

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
    with np.errstate(over="ignore"):  # overflow to infinity is what the test expects
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


# ---- the reference's ResNet generator, written out here --------------------------------------

def norm_layer(kind):
    """The reference's norm choices and whether convs before them carry a bias: instance norm
    without affine parameters (bias), batch norm with them (no bias), none (no bias)."""
    if kind == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False), True
    if kind == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True), False
    return (lambda channels: nn.Identity()), False


class ResnetBlock(nn.Module):
    """Two reflection-padded 3x3 convolutions with norm, ReLU between, optional dropout 0.5
    after the ReLU, and the input added to the result (the reference's block layout)."""

    def __init__(self, channels, dropout, norm_kind="instance"):
        super().__init__()
        norm, bias = norm_layer(norm_kind)
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias),
                  norm(channels), nn.ReLU(True)]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias),
                   norm(channels)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """The reference's generator with instance norm: the same modules at the same indices of
    one `model` Sequential, so that state_dict keys match (model.1.weight, model.10.conv_block.1…)."""

    def __init__(self, input_nc, output_nc, ngf, n_blocks, dropout, norm_kind="instance"):
        super().__init__()
        norm, bias = norm_layer(norm_kind)
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=bias), norm(ngf),
                  nn.ReLU(True)]
        for power in range(2):
            width = ngf * 2 ** power
            layers += [nn.Conv2d(width, width * 2, 3, stride=2, padding=1, bias=bias),
                       norm(width * 2), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4, dropout, norm_kind) for _ in range(n_blocks)]
        for power in (2, 1):
            width = ngf * 2 ** power
            layers += [nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1,
                                          output_padding=1, bias=bias),
                       norm(width // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """The reference's PatchGAN: 4x4 convs, LeakyReLU 0.2, norm on all but the first."""

    def __init__(self, input_nc, ndf, n_layers, norm_kind="instance"):
        super().__init__()
        norm, bias = norm_layer(norm_kind)
        layers = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        multiplier = 1
        for stage in range(1, n_layers + 1):
            previous, multiplier = multiplier, min(2 ** stage, 8)
            layers += [nn.Conv2d(ndf * previous, ndf * multiplier, 4,
                                 stride=2 if stage < n_layers else 1, padding=1, bias=bias),
                       norm(ndf * multiplier), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * multiplier, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """The reference's 1x1 PatchGAN."""

    def __init__(self, input_nc, ndf, norm_kind="instance"):
        super().__init__()
        norm, bias = norm_layer(norm_kind)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 1, bias=bias), norm(ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, 1, bias=bias))

    def forward(self, x):
        return self.net(x)


def make_discriminators():
    """A PatchGAN in the legacy format with an input and torch's output, and the keys and
    shapes of discriminators with each norm."""
    torch.manual_seed(20)
    net = NLayerDiscriminator(3, 4, 3)
    torch.save(net.state_dict(), FIXTURES / "patch_d_legacy.pth",
               _use_new_zipfile_serialization=False)
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        output = net(image)
    save_file({"input": image, "output": output.contiguous()},
              str(FIXTURES / "patch_d_io.safetensors"))
    layouts = []
    for kind, layers, ndf, norm_kind, channels in [("patch", 3, 64, "instance", 3),
                                                   ("patch", 2, 8, "batch", 1),
                                                   ("patch", 5, 4, "none", 3),
                                                   ("pixel", 0, 8, "instance", 3),
                                                   ("pixel", 0, 8, "batch", 1)]:
        if kind == "patch":
            d = NLayerDiscriminator(channels, ndf, layers, norm_kind)
        else:
            d = PixelDiscriminator(channels, ndf, norm_kind)
        layouts.append({"kind": kind, "layers": layers, "ndf": ndf, "norm": norm_kind,
                        "input_channels": channels, "keys": list(d.state_dict()),
                        "shapes": [list(v.shape) for v in d.state_dict().values()],
                        "parameters": sum(p.numel() for p in d.parameters())})
    write_json("discriminator_layouts.json", layouts)


# The generators the tests import: (name, blocks, dropout, storage dtype).
GENERATORS = [("resnet9", 9, False, torch.float32), ("resnet9_dropout", 9, True, torch.float32),
              ("resnet6", 6, False, torch.float32), ("resnet6_dropout", 6, True, torch.float16)]
NGF = 2


def make_generators():
    """Each generator with random weights in both torch.save formats and as safetensors, with an
    input image and torch's output for it (eval mode, float32 weights as stored)."""
    for index, (name, blocks, dropout, dtype) in enumerate(GENERATORS):
        torch.manual_seed(index)
        net = ResnetGenerator(3, 3, NGF, blocks, dropout)
        with torch.no_grad():
            for parameter in net.parameters():
                parameter.add_(torch.randn_like(parameter) * 0.05)
        # Saved as torch.save(net.state_dict()) saves it: an OrderedDict whose `_metadata`
        # attribute is pickled too (a BUILD opcode the reader must accept).
        state = net.state_dict()
        for key in state:
            state[key] = state[key].to(dtype)
        torch.save(state, FIXTURES / f"{name}.pth")
        torch.save(state, FIXTURES / f"{name}_legacy.pth", _use_new_zipfile_serialization=False)
        save_file({key: value.float() for key, value in state.items()},
                  str(FIXTURES / f"{name}.safetensors"), metadata={"blocks": str(blocks)})

        net.load_state_dict({key: value.float() for key, value in state.items()})
        net.eval()
        image = torch.rand(1, 3, 12, 16) * 2 - 1
        with torch.no_grad():
            output = net(image)
        save_file({"input": image, "output": output.contiguous()},
                  str(FIXTURES / f"{name}_io.safetensors"))


def make_views():
    """Tensors that are views (offsets, strides, shared storages), in both formats, with their
    contiguous values; an old-style file (DataParallel's module. prefix and the running
    statistics that instance norms kept before PyTorch 0.4); pickles that ask for a forbidden
    global."""
    torch.manual_seed(10)
    base = torch.randn(6, 5)
    views = collections.OrderedDict([
        ("sliced", base[2:5, 1:4]),
        ("transposed", base.t()),
        ("strided", base[::2, ::3]),
        ("whole", base),
        ("half", torch.randn(3, 4).half().t()),
        ("scalar", torch.tensor(2.5)),
        ("expanded_row", base[3]),
        ("broadcast", torch.arange(3.0).expand(2, 3)),  # stride 0 on the first dimension
    ])
    torch.save(views, FIXTURES / "views.pth")
    torch.save(views, FIXTURES / "views_legacy.pth", _use_new_zipfile_serialization=False)
    save_file({key: value.float().clone().contiguous() for key, value in views.items()},
              str(FIXTURES / "views_expected.safetensors"))

    torch.manual_seed(2)
    net = ResnetGenerator(3, 3, NGF, 6, False)
    old = collections.OrderedDict()
    for key, value in net.state_dict().items():
        old["module." + key] = value
    # Where the 6-block generator's instance norms sit, with their channel counts.
    norms = {"model.2": NGF, "model.5": 2 * NGF, "model.8": 4 * NGF, "model.17": 2 * NGF,
             "model.20": NGF}
    for block in range(6):
        for index in (2, 6):
            norms[f"model.{10 + block}.conv_block.{index}"] = 4 * NGF
    for norm, channels in norms.items():
        old[f"module.{norm}.running_mean"] = torch.zeros(channels)
        old[f"module.{norm}.running_var"] = torch.ones(channels)
        old[f"module.{norm}.num_batches_tracked"] = torch.tensor(0)
    torch.save(old, FIXTURES / "old_dataparallel_legacy.pth", _use_new_zipfile_serialization=False)

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo this should never run",))

    forbidden = {"model.1.weight": torch.zeros(1), "payload": Payload()}
    torch.save(forbidden, FIXTURES / "forbidden.pth")
    torch.save(forbidden, FIXTURES / "forbidden_legacy.pth", _use_new_zipfile_serialization=False)


def make_layouts():
    """The state_dict keys and shapes of reference generators with each norm, in order."""
    layouts = []
    for blocks, ngf, dropout, norm_kind, channels in [(9, 64, False, "instance", (3, 3)),
                                                      (6, 8, True, "batch", (1, 3)),
                                                      (6, 4, False, "none", (3, 1))]:
        net = ResnetGenerator(channels[0], channels[1], ngf, blocks, dropout, norm_kind)
        layouts.append({"blocks": blocks, "ngf": ngf, "dropout": dropout, "norm": norm_kind,
                        "input_channels": channels[0], "output_channels": channels[1],
                        "keys": list(net.state_dict()),
                        "shapes": [list(value.shape) for value in net.state_dict().values()],
                        "parameters": sum(p.numel() for p in net.parameters())})
    write_json("layouts.json", layouts)


def verify_pth(path, reference_path, blocks, ngf, dropout, half):
    """Loads a .pth Transmute wrote with weights_only=True, compares it with the reference
    tensors, and loads it into the reference generator; exit status 1 if anything differs."""
    state = torch.load(path, weights_only=True)
    reference = load_file(reference_path)
    problems = []
    mapped = torch.load(path, weights_only=True, mmap=True)
    if any(not torch.equal(mapped[key], state[key]) for key in state):
        problems.append("torch.load(mmap=True) reads other values")
    if not isinstance(state, collections.OrderedDict):
        problems.append(f"loaded a {type(state).__name__}, not an OrderedDict")
    if list(state) != list(ResnetGenerator(3, 3, ngf, blocks, dropout).state_dict()):
        problems.append("keys are not in the reference's order")
    for key, value in reference.items():
        want = value.half() if half else value
        got = state.get(key)
        if got is None or got.dtype != want.dtype or not torch.equal(got, want):
            problems.append(f"{key}: {None if got is None else (got.dtype, tuple(got.shape))}"
                            f" differs from the reference {(want.dtype, tuple(want.shape))}")
    net = ResnetGenerator(3, 3, ngf, blocks, dropout)
    try:
        net.load_state_dict({key: value.float() for key, value in state.items()}, strict=True)
    except RuntimeError as error:
        problems.append(f"load_state_dict: {error}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def verify_pth_values(path, expected):
    """Loads a .pth with weights_only=True and compares each tensor's dtype, shape and values
    with `expected` ({key: [dtype name, shape, flat values]})."""
    state = torch.load(path, weights_only=True)
    problems = []
    if sorted(state) != sorted(expected):  # the manifest's JSON does not keep the order
        problems.append(f"keys {sorted(state)} != {sorted(expected)}")
    for key, (dtype, shape, values) in expected.items():
        got = state.get(key)
        want = torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape)
        if got is None or got.dtype != want.dtype or not torch.equal(got, want):
            problems.append(f"{key}: {got} differs from {want}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def verify_all(manifest_path):
    """Runs every check a manifest lists (the arguments of verify-safetensors and verify-pth)
    so that torch is imported once; exit status 1 if any fails."""
    failures = 0
    for item in json.loads(pathlib.Path(manifest_path).read_text()):
        if item["check"] == "safetensors":
            status = verify_safetensors(item["file"], item["expected"], item["dtype"])
        elif item["check"] == "pth_values":
            status = verify_pth_values(item["file"], item["expected"])
        else:
            status = verify_pth(item["file"], item["reference"], item["blocks"], item["ngf"],
                                item["dropout"], item["half"])
        if status:
            print(f"failed: {item['file']}", file=sys.stderr)
        failures += status
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser("verify-safetensors")
    check.add_argument("file")
    check.add_argument("expected")
    check.add_argument("dtype", nargs="?", default="F32", choices=["F32", "F16"])
    check_pth = commands.add_parser("verify-pth")
    check_pth.add_argument("file")
    check_pth.add_argument("reference")
    check_pth.add_argument("blocks", type=int)
    check_pth.add_argument("ngf", type=int)
    check_pth.add_argument("--dropout", action="store_true")
    check_pth.add_argument("--half", action="store_true")
    check_all = commands.add_parser("verify-all")
    check_all.add_argument("manifest")
    arguments = parser.parse_args()
    if arguments.command == "verify-all":
        sys.exit(verify_all(arguments.manifest))
    if arguments.command == "verify-safetensors":
        sys.exit(verify_safetensors(arguments.file, arguments.expected, arguments.dtype))
    if arguments.command == "verify-pth":
        sys.exit(verify_pth(arguments.file, arguments.reference, arguments.blocks, arguments.ngf,
                            arguments.dropout, arguments.half))
    FIXTURES.mkdir(parents=True, exist_ok=True)
    make_safetensors()
    make_rounding()
    make_generators()
    make_views()
    make_layouts()
    make_discriminators()


if __name__ == "__main__":
    main()
