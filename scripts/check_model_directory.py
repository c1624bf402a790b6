#!/usr/bin/env python3
"""Loads a Transmute model directory into the PyTorch reference networks and runs them.

Usage:  python3 scripts/check_model_directory.py MODEL_DIR [--size 64]

For every network listed in MODEL_DIR/config.json, builds the reference architecture it
describes (the definitions of scripts/make_model_fixtures.py), loads ROLE.safetensors with
safetensors.torch.load_file and load_state_dict(strict=True) — so every key and shape must be
the reference's — and runs one forward pass on a random image of --size pixels (seed 0),
printing the output shape and range. Exits with status 1 on the first failure.
"""

import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import build  # noqa: E402


def reference_config(config, role):
    """The network description of make_model_fixtures.build for one role of config.json."""
    channels_a, channels_b = config["input_nc"], config["output_nc"]
    if role.startswith("G"):
        generator = config["generator"]
        source, target = (channels_a, channels_b) if role == "G_A" else (channels_b, channels_a)
        if generator["netG"].startswith("unet"):
            return {"kind": "unet", "input_nc": source, "output_nc": target,
                    "ngf": generator["ngf"], "num_downs": generator["num_downs"],
                    "norm": generator["norm"], "dropout": generator.get("dropout", False)}
        return {"kind": "generator", "input_nc": source, "output_nc": target,
                "ngf": generator["ngf"], "n_blocks": generator["n_blocks"],
                "norm": generator["norm"], "dropout": generator.get("dropout", False),
                "upsampling": generator.get("upsampling", "transpose")}
    discriminator = config["discriminator"]
    kind = "pixel" if discriminator["netD"] == "pixel" else "basic"
    return {"kind": kind, "input_nc": channels_b if role == "D_A" else channels_a,
            "ndf": discriminator["ndf"], "n_layers": discriminator.get("n_layers", 3),
            "norm": discriminator["norm"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--size", type=int, default=64)
    arguments = parser.parse_args()
    with open(os.path.join(arguments.model, "config.json")) as f:
        config = json.load(f)
    for role in config["networks"]:
        description = reference_config(config, role)
        network = build(description)
        tensors = load_file(os.path.join(arguments.model, role + ".safetensors"))
        expected = network.state_dict()
        # num_batches_tracked is int64 in PyTorch and stored as a float by Transmute.
        tensors = {k: v.to(expected[k].dtype) if k in expected else v for k, v in tensors.items()}
        try:
            network.load_state_dict(tensors, strict=True)
        except RuntimeError as error:
            print(f"{role}: does not load into the reference architecture: {error}")
            sys.exit(1)
        network.eval()
        torch.manual_seed(0)
        image = torch.rand(1, description["input_nc"], arguments.size, arguments.size) * 2 - 1
        with torch.no_grad():
            output = network(image)
        print(f"{role}: {len(tensors)} tensors loaded strictly; output {list(output.shape)} in "
              f"[{output.min().item():.4f}, {output.max().item():.4f}]")


if __name__ == "__main__":
    main()
