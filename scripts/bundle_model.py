#!/usr/bin/env python3
"""Makes a bundled model directory from a training checkpoint: config.json with only the two
generators listed, and G_A/G_B stored as float16 safetensors (half the size; Transmute loads
them as Float32). The discriminators, optimiser moments and pools stay with the run.

    scripts/bundle_model.py RUN/latest models/horse2zebra [--note TEXT]
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file, save_file


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("output")
    parser.add_argument("--note", default="", help="stored in config.json as 'note'")
    args = parser.parse_args()

    with open(os.path.join(args.checkpoint, "config.json")) as f:
        config = json.load(f)
    config["networks"] = ["G_A", "G_B"]
    # Folder paths of the machine that trained it say nothing to a user of the bundle.
    options = config.get("options", {})
    for key in [k for k in options if k.startswith("folder") or "irectory" in k]:
        del options[key]
    if args.note:
        config["note"] = args.note

    os.makedirs(args.output, exist_ok=True)
    for network in ["G_A", "G_B"]:
        tensors = load_file(os.path.join(args.checkpoint, network + ".safetensors"))
        half = {k: v.astype(np.float16) for k, v in tensors.items()}
        target = os.path.join(args.output, network + ".safetensors")
        fd, partial = tempfile.mkstemp(dir=args.output, prefix="." + network)
        os.close(fd)
        save_file(half, partial)
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    fd, partial = tempfile.mkstemp(dir=args.output, prefix=".config")
    with os.fdopen(fd, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    os.chmod(partial, 0o644)
    os.replace(partial, os.path.join(args.output, "config.json"))
    print(f"bundled {args.checkpoint} into {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
