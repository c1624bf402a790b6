#!/usr/bin/env python3
"""Writes the reference fixtures of Tests/ModelsTests/Fixtures with PyTorch (CPU).

Run from the package root:  python3 scripts/make_model_fixtures.py
Seed: torch.manual_seed(20261203) before each network. Deterministic on CPU.

The networks of pytorch-CycleGAN-and-pix2pix (ResnetGenerator with its ResnetBlock,
UnetGenerator with its UnetSkipConnectionBlock, NLayerDiscriminator, PixelDiscriminator, and the norm choices of get_norm_layer) are defined
below from their published description, so that state_dict keys, shapes and parameter counts
come from the same module nesting as the reference's. Transmute's one extension, the
upsample-then-convolve up stage, is defined here the same way Transmute builds it.

Fixtures:
- architectures.json: for several configurations, the state_dict keys in order with their shapes
  and the number of trainable parameters.
- tiny/NAME.weights.safetensors: the state_dict of a small network (ngf or ndf 4) after torch's
  default initialisation (with batch-norm affine parameters and running statistics randomised).
- tiny/NAME.io.safetensors: "input", "output", "loss_weights" L, the gradient of
  mean(output · L) for every parameter ("grad.KEY") and, in training mode, the buffers after
  the forward ("after.KEY").
- tiny/cases.json: the configuration and mode of each tiny case.
- half_model/: a generators-only model directory (config.json, G_A and G_B) with float16 weights,
  plus half_model_reference.safetensors holding the same weights widened to float32.
"""

import json
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

SEED = 20261203
ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ModelsTests", "Fixtures")


def norm_factory(norm):
    """The reference's get_norm_layer: (constructor, whether the convs before it carry bias)."""
    if norm == "instance":
        return (lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)), True
    if norm == "batch":
        return (lambda c: nn.BatchNorm2d(c, affine=True, track_running_stats=True)), False
    if norm == "none":
        return (lambda c: nn.Identity()), False
    raise ValueError(norm)


class ResidualBlock(nn.Module):
    """x + [pad 1, conv 3×3, norm, ReLU, (dropout 0.5), pad 1, conv 3×3, norm](x)."""

    def __init__(self, channels, make_norm, bias, dropout):
        super().__init__()
        stages = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias),
                  make_norm(channels), nn.ReLU(True)]
        if dropout:
            stages.append(nn.Dropout(0.5))
        stages += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias),
                   make_norm(channels)]
        self.conv_block = nn.Sequential(*stages)

    def forward(self, x):
        return x + self.conv_block(x)


class Generator(nn.Module):
    """The reference's ResnetGenerator; upsampling "transpose" (reference) or an upsample mode."""

    def __init__(self, input_nc, output_nc, ngf, norm, dropout, n_blocks, upsampling="transpose"):
        super().__init__()
        make_norm, bias = norm_factory(norm)
        stages = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=bias), make_norm(ngf),
                  nn.ReLU(True)]
        channels = ngf
        for _ in range(2):
            stages += [nn.Conv2d(channels, channels * 2, 3, stride=2, padding=1, bias=bias),
                       make_norm(channels * 2), nn.ReLU(True)]
            channels *= 2
        for _ in range(n_blocks):
            stages.append(ResidualBlock(channels, make_norm, bias, dropout))
        for _ in range(2):
            if upsampling == "transpose":
                stages.append(nn.ConvTranspose2d(channels, channels // 2, 3, stride=2, padding=1,
                                                 output_padding=1, bias=bias))
            else:
                align = None if upsampling == "nearest" else False
                stages += [nn.Upsample(scale_factor=2, mode=upsampling, align_corners=align),
                           nn.ReflectionPad2d(1), nn.Conv2d(channels, channels // 2, 3, bias=bias)]
            stages += [make_norm(channels // 2), nn.ReLU(True)]
            channels //= 2
        stages += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*stages)

    def forward(self, x):
        return self.model(x)


class UnetBlock(nn.Module):
    """The reference's UnetSkipConnectionBlock: down, the inner block, up, and (but for the
    outermost) the input concatenated to the result along channels."""

    def __init__(self, outer, inner, make_norm, bias, input_nc=None, inner_block=None,
                 outermost=False, innermost=False, dropout=False):
        super().__init__()
        self.outermost = outermost
        input_nc = outer if input_nc is None else input_nc
        down = nn.Conv2d(input_nc, inner, 4, stride=2, padding=1, bias=bias)
        if outermost:
            stages = [down, inner_block, nn.ReLU(True),
                      nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1), nn.Tanh()]
        elif innermost:
            stages = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True),
                      nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=bias),
                      make_norm(outer)]
        else:
            stages = [nn.LeakyReLU(0.2, True), down, make_norm(inner), inner_block, nn.ReLU(True),
                      nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1, bias=bias),
                      make_norm(outer)]
            if dropout:
                stages.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*stages)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """The reference's UnetGenerator with `num_downs` halvings (7 for unet_128, 8 for unet_256)."""

    def __init__(self, input_nc, output_nc, num_downs, ngf, norm, dropout):
        super().__init__()
        make_norm, bias = norm_factory(norm)
        block = UnetBlock(ngf * 8, ngf * 8, make_norm, bias, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetBlock(ngf * 8, ngf * 8, make_norm, bias, inner_block=block,
                              dropout=dropout)
        for multiplier in [4, 2, 1]:
            block = UnetBlock(ngf * multiplier, ngf * multiplier * 2, make_norm, bias,
                              inner_block=block)
        self.model = UnetBlock(output_nc, ngf, make_norm, bias, input_nc=input_nc,
                               inner_block=block, outermost=True)

    def forward(self, x):
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """The reference's NLayerDiscriminator (70×70 PatchGAN for n_layers 3)."""

    def __init__(self, input_nc, ndf, n_layers, norm):
        super().__init__()
        make_norm, bias = norm_factory(norm)
        stages = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        multiplier = 1
        for n in range(1, n_layers + 1):
            previous, multiplier = multiplier, min(2 ** n, 8)
            stride = 2 if n < n_layers else 1
            stages += [nn.Conv2d(ndf * previous, ndf * multiplier, 4, stride=stride, padding=1,
                                 bias=bias),
                       make_norm(ndf * multiplier), nn.LeakyReLU(0.2, True)]
        stages.append(nn.Conv2d(ndf * multiplier, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*stages)

    def forward(self, x):
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """The reference's PixelDiscriminator (1×1 PatchGAN)."""

    def __init__(self, input_nc, ndf, norm):
        super().__init__()
        make_norm, bias = norm_factory(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 1, bias=bias), make_norm(ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, 1, bias=bias))

    def forward(self, x):
        return self.net(x)


def build(config):
    if config["kind"] == "generator":
        return Generator(config["input_nc"], config["output_nc"], config["ngf"], config["norm"],
                         config["dropout"], config["n_blocks"], config.get("upsampling",
                                                                           "transpose"))
    if config["kind"] == "unet":
        return UnetGenerator(config["input_nc"], config["output_nc"], config["num_downs"],
                             config["ngf"], config["norm"], config["dropout"])
    if config["kind"] == "basic":
        return PatchDiscriminator(config["input_nc"], config["ndf"], config["n_layers"],
                                  config["norm"])
    return PixelDiscriminator(config["input_nc"], config["ndf"], config["norm"])


def generator(ngf, n_blocks, norm="instance", dropout=False, upsampling="transpose",
              input_nc=3, output_nc=3):
    return {"kind": "generator", "input_nc": input_nc, "output_nc": output_nc, "ngf": ngf,
            "n_blocks": n_blocks, "norm": norm, "dropout": dropout, "upsampling": upsampling}


def unet(ngf, num_downs, norm="instance", dropout=False, input_nc=3, output_nc=3):
    return {"kind": "unet", "input_nc": input_nc, "output_nc": output_nc, "ngf": ngf,
            "num_downs": num_downs, "norm": norm, "dropout": dropout}


def patch(ndf, n_layers, norm="instance", input_nc=3):
    return {"kind": "basic", "input_nc": input_nc, "ndf": ndf, "n_layers": n_layers, "norm": norm}


def pixel(ndf, norm="instance", input_nc=3):
    return {"kind": "pixel", "input_nc": input_nc, "ndf": ndf, "norm": norm}


def architectures():
    cases = {
        "resnet_9blocks_ngf64_instance": generator(64, 9),
        "resnet_6blocks_ngf64_batch_dropout": generator(64, 6, "batch", True),
        "resnet_6blocks_ngf32_none": generator(32, 6, "none"),
        "resnet_9blocks_ngf64_nearest": generator(64, 9, upsampling="nearest"),
        "resnet_6blocks_grey_to_colour": generator(16, 6, input_nc=1, output_nc=3),
        "unet_256_ngf64_batch": unet(64, 8, "batch"),
        "unet_256_ngf64_instance_dropout": unet(64, 8, "instance", True),
        "unet_128_ngf32_none": unet(32, 7, "none"),
        "basic_ndf64_instance": patch(64, 3),
        "n_layers5_ndf64_batch": patch(64, 5, "batch"),
        "n_layers2_ndf32_none": patch(32, 2, "none"),
        "pixel_ndf64_instance": pixel(64),
        "pixel_ndf64_batch": pixel(64, "batch"),
    }
    out = {}
    for name, config in cases.items():
        net = build(config)
        out[name] = {
            "config": config,
            "parameter_count": sum(p.numel() for p in net.parameters()),
            "keys": [[k, list(v.shape)] for k, v in net.state_dict().items()],
        }
    path = os.path.join(ROOT, "architectures.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


def randomise_batch_norm(net):
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.normal_(1.0, 0.3)
                module.bias.normal_(0.0, 0.3)
                module.running_mean.normal_(0.0, 0.3)
                module.running_var.uniform_(0.5, 1.5)
                module.num_batches_tracked.fill_(3)


def tiny():
    cases = {
        "generator_instance": (generator(4, 2), [1, 3, 20, 24], "eval"),
        "generator_instance_batch2": (generator(4, 1), [2, 3, 16, 12], "train"),
        "generator_batch_train": (generator(4, 2, "batch"), [2, 3, 16, 20], "train"),
        "generator_batch_dropout_eval": (generator(4, 2, "batch", True), [1, 3, 16, 16], "eval"),
        "generator_none": (generator(4, 1, "none"), [1, 3, 12, 16], "eval"),
        "generator_nearest": (generator(4, 1, upsampling="nearest"), [1, 3, 16, 16], "eval"),
        "generator_bilinear": (generator(4, 1, upsampling="bilinear"), [1, 3, 12, 16], "eval"),
        "generator_grey": (generator(4, 1, input_nc=1, output_nc=1), [1, 1, 16, 16], "eval"),
        "unet_instance": (unet(4, 5), [1, 3, 32, 64], "eval"),
        "unet_batch_train": (unet(4, 6, "batch", input_nc=1), [2, 1, 64, 64], "train"),
        "unet_batch_dropout_eval": (unet(2, 7, "batch", True), [1, 3, 128, 128], "eval"),
        "patch_instance": (patch(4, 3), [2, 3, 40, 36], "train"),
        "patch_batch_train": (patch(4, 3, "batch"), [2, 3, 32, 32], "train"),
        "patch_batch_eval": (patch(4, 2, "batch"), [1, 3, 32, 24], "eval"),
        "pixel_instance": (pixel(4), [1, 3, 9, 7], "eval"),
    }
    directory = os.path.join(ROOT, "tiny")
    os.makedirs(directory, exist_ok=True)
    listing = {}
    for name, (config, input_shape, mode) in cases.items():
        torch.manual_seed(SEED)
        net = build(config)
        randomise_batch_norm(net)
        # num_batches_tracked (int64 in PyTorch) is stored as float32: Transmute's safetensors
        # layer reads floating-point types only.
        weights = {k: v.clone().to(torch.float32).contiguous() for k, v in net.state_dict().items()}
        x = torch.randn(*input_shape)
        net.train(mode == "train")
        y = net(x)
        # A loss that weighs every output element differently, for the parameter gradients.
        loss_weights = torch.randn(*y.shape)
        (y * loss_weights).mean().backward()
        io = {"input": x.contiguous(), "output": y.detach().contiguous(),
              "loss_weights": loss_weights.contiguous()}
        for k, p in net.named_parameters():
            io["grad." + k] = p.grad.contiguous()
        if mode == "train":
            for k, v in net.state_dict().items():
                if "running" in k or "num_batches" in k:
                    io["after." + k] = v.clone().to(torch.float32).contiguous()
        save_file(weights, os.path.join(directory, name + ".weights.safetensors"))
        save_file(io, os.path.join(directory, name + ".io.safetensors"))
        listing[name] = {"config": config, "mode": mode}
    with open(os.path.join(directory, "cases.json"), "w") as f:
        json.dump(listing, f, indent=1)
        f.write("\n")
    print("wrote", directory)


def half_model():
    """A generators-only model directory as a user would convert it, in float16."""
    directory = os.path.join(ROOT, "half_model")
    os.makedirs(directory, exist_ok=True)
    reference = {}
    for role in ["G_A", "G_B"]:
        torch.manual_seed(SEED + (0 if role == "G_A" else 1))
        net = Generator(3, 3, 4, "instance", False, 2)
        half = {k: v.to(torch.float16).contiguous() for k, v in net.state_dict().items()}
        save_file(half, os.path.join(directory, role + ".safetensors"))
        for k, v in half.items():
            reference[role + "." + k] = v.to(torch.float32)
    save_file(reference, os.path.join(ROOT, "half_model_reference.safetensors"))
    config = {
        "format": "transmute-model",
        "format_version": 1,
        "generator": {"netG": "resnet_2blocks", "n_blocks": 2, "ngf": 4, "norm": "instance",
                      "dropout": False, "upsampling": "transpose"},
        "input_nc": 3,
        "output_nc": 3,
        "domains": {"A": "apples", "B": "oranges"},
        "image_size": 64,
        "networks": ["G_A", "G_B"],
        "options": {"converted_by": "scripts/make_model_fixtures.py"},
    }
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print("wrote", directory)


if __name__ == "__main__":
    os.makedirs(ROOT, exist_ok=True)
    architectures()
    tiny()
    half_model()
