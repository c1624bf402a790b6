#!/usr/bin/env python3
"""Writes the reference fixtures of Tests/TranslationTests/Fixtures (seed 5).

1. Two tiny CycleGAN model directories whose generators are the ResNet generator of
   pytorch-CycleGAN-and-pix2pix (models/networks.py, ResnetGenerator with instance norm without
   affine parameters, reflection padding, no dropout), rebuilt here layer for layer so that the
   state_dict keys are the reference's (model.1.weight, model.10.conv_block.1.weight, ...):
   - models/tiny_rgb:  ngf 4, 2 residual blocks, A and B with 3 channels;
   - models/tiny_grey: ngf 4, 2 residual blocks, A with 3 channels and B with 1 channel.
   Weights use torch's default initialisation under the seed, so the outputs vary strongly.
   models/tiny_rgb_latest_net_G_A.pth holds tiny_rgb's G_A as the reference saves it
   (torch.save of the state_dict), for `--model FILE.pth`.
2. Odd-sized input photos (45x30 RGB and grey) cut from ../shared/photos/chelsea.png, and
   torch's output for each (model, direction) on them in expected.safetensors, computed exactly
   as `transmute translate` does by default: samples v/255*2-1, reflection padding to a
   multiple of 4 (floor half before, the rest after), the generator, crop back.
3. tree/: a small folder tree of good images for the bulk test (nested folders, PNG and JPEG,
   grey, RGBA, 16-bit RGB, odd sizes, EXIF orientation 6, a PNG named .jpg) plus a truncated
   PNG, an empty file, a text file named .png and a text file that is not an image name. The
   test adds a dangling symlink and a non-UTF-8 name itself (neither travels well in git).

Run from the package root: python3 scripts/make_translation_fixtures.py
"""

import io
import json
import os
import struct
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

SEED = 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "TranslationTests", "Fixtures")
PHOTOS = os.path.join(ROOT, "..", "shared", "photos")


class ResidualBlock(nn.Module):
    """x + (pad 1, conv 3x3, norm, ReLU, pad 1, conv 3x3, norm)(x), keys conv_block.N."""

    def __init__(self, channels):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=True),
            nn.InstanceNorm2d(channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=True),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """The reference's ResNet generator with instance norm (so every conv has a bias)."""

    def __init__(self, input_channels, output_channels, ngf, blocks):
        super().__init__()
        layers = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_channels, ngf, 7, bias=True),
            nn.InstanceNorm2d(ngf),
            nn.ReLU(True),
        ]
        for level in range(2):
            width = ngf * 2**level
            layers += [
                nn.Conv2d(width, width * 2, 3, stride=2, padding=1, bias=True),
                nn.InstanceNorm2d(width * 2),
                nn.ReLU(True),
            ]
        layers += [ResidualBlock(ngf * 4) for _ in range(blocks)]
        for level in range(2):
            width = ngf * 2 ** (2 - level)
            layers += [
                nn.ConvTranspose2d(
                    width, width // 2, 3, stride=2, padding=1, output_padding=1, bias=True
                ),
                nn.InstanceNorm2d(width // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


def padding_to_multiple(extent, multiple):
    """(before, after) reflection padding that brings extent to a multiple of `multiple`."""
    total = (-extent) % multiple
    return total // 2, total - total // 2


def translate(generator, image):
    """[1, C, H, W] in [-1, 1] through the generator at the image's own size."""
    _, _, height, width = image.shape
    top, bottom = padding_to_multiple(height, 4)
    left, right = padding_to_multiple(width, 4)
    padded = F.pad(image, (left, right, top, bottom), mode="reflect")
    with torch.no_grad():
        output = generator(padded)
    return output[:, :, top : top + height, left : left + width].contiguous()


def to_tensor(pil_image):
    """A Pillow image as [1, C, H, W] float32 in [-1, 1] (v / 255 * 2 - 1)."""
    samples = np.asarray(pil_image, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples[:, :, None]
    return torch.from_numpy(samples / 255.0 * 2.0 - 1.0).permute(2, 0, 1)[None].contiguous()


def write_model(name, channels_a, channels_b, ngf, blocks):
    """A model directory: config.json, G_A (A to B) and G_B (B to A) safetensors."""
    directory = os.path.join(FIXTURES, "models", name)
    os.makedirs(directory, exist_ok=True)
    generators = {
        "G_A": ResnetGenerator(channels_a, channels_b, ngf, blocks).eval(),
        "G_B": ResnetGenerator(channels_b, channels_a, ngf, blocks).eval(),
    }
    for key, generator in generators.items():
        state = {k: v.contiguous() for k, v in generator.state_dict().items()}
        save_file(state, os.path.join(directory, f"{key}.safetensors"))
    if name == "tiny_rgb":
        # The reference's own checkpoint file for G_A, as its save_networks writes it.
        torch.save(
            generators["G_A"].state_dict(),
            os.path.join(FIXTURES, "models", "tiny_rgb_latest_net_G_A.pth"),
        )
    # The model directory's config.json as Sources/Models/ModelConfiguration.swift reads it:
    # input_nc is domain A's channel count and output_nc domain B's, as in the reference.
    config = {
        "format": "transmute-model",
        "format_version": 1,
        "generator": {
            "netG": f"resnet_{blocks}blocks",
            "ngf": ngf,
            "n_blocks": blocks,
            "norm": "instance",
            "dropout": False,
            "upsampling": "transpose",
        },
        "input_nc": channels_a,
        "output_nc": channels_b,
        "domains": {"A": "photo", "B": "painting" if channels_b == 3 else "sketch"},
        "image_size": 256,
        "networks": ["G_A", "G_B"],
        "options": {"script": "scripts/make_translation_fixtures.py", "seed": str(SEED)},
    }
    with open(os.path.join(directory, "config.json"), "w") as file:
        json.dump(config, file, indent=2)
        file.write("\n")
    return generators


def png_chunk(kind, data):
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def write_png16_rgb(path, samples):
    """A 16-bit RGB PNG (Pillow cannot write one) from uint16 [H, W, 3]."""
    height, width, _ = samples.shape
    rows = b"".join(b"\x00" + samples[y].astype(">u2").tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n")
        file.write(png_chunk(b"IHDR", header))
        file.write(png_chunk(b"IDAT", zlib.compress(rows, 9)))
        file.write(png_chunk(b"IEND", b""))


def write_tree(photo):
    """The bulk test's folder tree (good and bad files; see the module docstring)."""
    tree = os.path.join(FIXTURES, "tree")
    for folder in ["", "nested", "nested/deeper", "mixed"]:
        os.makedirs(os.path.join(tree, folder), exist_ok=True)

    def cut(width, height, left=0, top=0):
        return photo.crop((left, top, left + width, top + height))

    cut(37, 23, 10, 10).save(os.path.join(tree, "odd.png"))
    cut(40, 28, 60, 40).save(os.path.join(tree, "nested", "photo.jpg"), quality=95)
    cut(33, 17, 100, 80).convert("L").save(os.path.join(tree, "nested", "grey.png"))
    cut(24, 24, 30, 90).convert("L").save(
        os.path.join(tree, "nested", "deeper", "grey.jpg"), quality=95
    )

    rgba = np.asarray(cut(29, 21, 150, 20).convert("RGBA")).copy()
    rgba[:, :, 3] = np.linspace(0, 255, 29, dtype=np.float32).round().astype(np.uint8)[None, :]
    Image.fromarray(rgba, "RGBA").save(os.path.join(tree, "mixed", "rgba.png"))

    rng = np.random.default_rng(SEED)
    base = np.asarray(cut(19, 13, 200, 100), dtype=np.uint16) * 257
    deep = base + rng.integers(0, 257, size=base.shape, dtype=np.uint16)
    write_png16_rgb(os.path.join(tree, "mixed", "deep16.png"), deep)

    # Stored 32 wide and 20 high; orientation 6 means it is shown 20 wide and 32 high.
    exif = Image.Exif()
    exif[0x0112] = 6
    cut(32, 20, 80, 150).save(
        os.path.join(tree, "nested", "rotated.jpg"), quality=95, exif=exif.tobytes()
    )

    # A PNG named .jpg: formats come from signatures, not names.
    cut(26, 18, 250, 120).save(os.path.join(tree, "mixed", "really_png.jpg"), format="PNG")

    # Bad files: truncated PNG, empty file, text named .png; and a text file to be ignored.
    buffer = io.BytesIO()
    cut(30, 30).save(buffer, format="PNG")
    with open(os.path.join(tree, "nested", "truncated.png"), "wb") as file:
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    open(os.path.join(tree, "mixed", "empty.jpg"), "wb").close()
    with open(os.path.join(tree, "not_an_image.png"), "w") as file:
        file.write("<html><body>this is not a picture</body></html>\n")
    with open(os.path.join(tree, "notes.txt"), "w") as file:
        file.write("not an image name: the scan ignores this file\n")


def main():
    torch.manual_seed(SEED)
    photo = Image.open(os.path.join(PHOTOS, "chelsea.png")).convert("RGB")

    inputs = {
        "rgb": photo.crop((200, 90, 245, 120)),  # 45 wide, 30 high
        "grey": photo.crop((120, 150, 165, 180)).convert("L"),
    }
    for name, image in inputs.items():
        image.save(os.path.join(FIXTURES, f"input_{name}.png"))

    rgb = write_model("tiny_rgb", 3, 3, ngf=4, blocks=2)
    grey = write_model("tiny_grey", 3, 1, ngf=4, blocks=2)
    expected = {
        "tiny_rgb.AtoB": translate(rgb["G_A"], to_tensor(inputs["rgb"])),
        "tiny_rgb.BtoA": translate(rgb["G_B"], to_tensor(inputs["rgb"])),
        "tiny_grey.AtoB": translate(grey["G_A"], to_tensor(inputs["rgb"])),
        "tiny_grey.BtoA": translate(grey["G_B"], to_tensor(inputs["grey"])),
    }
    save_file(expected, os.path.join(FIXTURES, "expected.safetensors"))
    for key, value in expected.items():
        print(key, tuple(value.shape), f"range {value.min():.3f}..{value.max():.3f}")

    write_tree(photo)


if __name__ == "__main__":
    main()
