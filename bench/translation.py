#!/usr/bin/env python3
"""Translation speed and peak memory of `transmute translate` beside the PyTorch reference
generator, same model, same images, same machine, same run.

Usage (from the package root, after `swift build -c release`):
    python3 bench/translation.py [--count 8] [--threads 2] [--large]

Writes a model directory with a 9-block ngf-64 ResNet generator (the reference's
ResnetGenerator, rebuilt in scripts/make_translation_fixtures.py) under seed 0, and folders of
photos cut from ../shared/photos at 256x256 and 1024x768 (`--large` adds one 4000x3000 photo
for memory). For each size it runs, in separate processes so that each peak is its own:
  - PyTorch: reads each file with Pillow, pads to a multiple of 4 by reflection, runs the
    generator under torch.no_grad() with torch.set_num_threads(THREADS), crops, writes a PNG;
  - Transmute: `transmute translate --model DIR --input FOLDER --output FOLDER --quiet`.
Images per second count the whole run from model loading on (for PyTorch timed inside the
process, after `import torch`; for Transmute the process's wall time; the first image is not
dropped), peak memory is the process's maximum resident set (ru_maxrss).
The ratio is Transmute's rate over PyTorch's (above 1 means Transmute is faster).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

TORCH_RUNNER = r"""
import sys, time, torch, numpy as np, torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file
sys.path.insert(0, sys.argv[1])
from make_translation_fixtures import ResnetGenerator, padding_to_multiple
model_dir, input_dir, output_dir, threads = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
import os
torch.set_num_threads(threads)
start = time.perf_counter()
generator = ResnetGenerator(3, 3, 64, 9).eval()
generator.load_state_dict(load_file(os.path.join(model_dir, "G_A.safetensors")))
names = sorted(os.listdir(input_dir))
for name in names:
    image = np.asarray(Image.open(os.path.join(input_dir, name)).convert("RGB"), dtype=np.float32)
    x = torch.from_numpy(image / 255.0 * 2.0 - 1.0).permute(2, 0, 1)[None].contiguous()
    _, _, h, w = x.shape
    top, bottom = padding_to_multiple(h, 4)
    left, right = padding_to_multiple(w, 4)
    with torch.no_grad():
        y = generator(F.pad(x, (left, right, top, bottom), mode="reflect"))
    y = y[0, :, top:top + h, left:left + w]
    pixels = ((y.permute(1, 2, 0).numpy() + 1) / 2 * 255).clip(0, 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(os.path.join(output_dir, os.path.splitext(name)[0] + ".png"))
print(time.perf_counter() - start)
"""


def run_measured(command, env=None):
    """Runs `command`, returning (seconds of wall time, peak resident set in MiB, stdout)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stdout = process.stdout.read().decode()
    stderr = process.stderr.read().decode()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{command[0]} failed ({process.returncode}):\n{stdout}\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024, stdout


def write_model(directory):
    """A 9-block ngf-64 generator pair with torch's default initialisation under seed 0."""
    import torch
    from safetensors.torch import save_file
    from make_translation_fixtures import ResnetGenerator

    torch.manual_seed(0)
    os.makedirs(directory, exist_ok=True)
    for role in ["G_A", "G_B"]:
        generator = ResnetGenerator(3, 3, 64, 9)
        state = {k: v.contiguous() for k, v in generator.state_dict().items()}
        save_file(state, os.path.join(directory, f"{role}.safetensors"))
    config = {
        "format": "transmute-model",
        "format_version": 1,
        "generator": {"netG": "resnet_9blocks", "ngf": 64, "n_blocks": 9, "norm": "instance",
                      "dropout": False, "upsampling": "transpose"},
        "input_nc": 3, "output_nc": 3, "domains": {"A": "A", "B": "B"}, "image_size": 256,
        "networks": ["G_A", "G_B"], "options": {"script": "bench/translation.py"},
    }
    with open(os.path.join(directory, "config.json"), "w") as file:
        json.dump(config, file)


def write_photos(directory, width, height, count):
    """`count` different photos of width x height, cut and resized from ../shared/photos."""
    from PIL import Image

    photos = os.path.join(ROOT, "..", "shared", "photos")
    sources = [Image.open(os.path.join(photos, name)).convert("RGB")
               for name in sorted(os.listdir(photos)) if name.endswith((".png", ".jpg"))]
    os.makedirs(directory, exist_ok=True)
    for index in range(count):
        source = sources[index % len(sources)]
        inset = 4 * (index // len(sources))
        box = (inset, inset, source.width - inset, source.height - inset)
        image = source.crop(box).resize((width, height), Image.BICUBIC)
        image.save(os.path.join(directory, f"photo{index:03d}.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=8, help="images at 256x256 (a third at 1024x768)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--large", action="store_true", help="also one 4000x3000 photo")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "transmute"))
    arguments = parser.parse_args()
    if not os.path.exists(arguments.binary):
        sys.exit(f"{arguments.binary} not found: run `swift build -c release` first")

    work = tempfile.mkdtemp(prefix="translation-bench-")
    model = os.path.join(work, "model")
    write_model(model)
    sizes = [(256, 256, arguments.count), (1024, 768, max(1, arguments.count // 3))]
    if arguments.large:
        sizes.append((4000, 3000, 1))

    print(f"ResNet generator ngf 64, 9 blocks; torch threads {arguments.threads}; work in {work}")
    print(f"{'size':>10} {'images':>6} | {'torch img/s':>11} {'peak MiB':>8} | "
          f"{'transmute img/s':>15} {'peak MiB':>8} | {'speed ratio':>11}")
    for width, height, count in sizes:
        inputs = os.path.join(work, f"in_{width}x{height}")
        write_photos(inputs, width, height, count)
        torch_out = os.path.join(work, f"torch_{width}x{height}")
        ours_out = os.path.join(work, f"ours_{width}x{height}")
        os.makedirs(torch_out, exist_ok=True)

        _, torch_peak, torch_stdout = run_measured(
            [sys.executable, "-c", TORCH_RUNNER, os.path.join(ROOT, "scripts"), model, inputs,
             torch_out, str(arguments.threads)])
        torch_seconds = float(torch_stdout.strip().splitlines()[-1])
        ours_seconds, ours_peak, _ = run_measured(
            [arguments.binary, "translate", "--model", model, "--input", inputs, "--output",
             ours_out, "--quiet", "--memory-limit", "20"])
        torch_rate = count / torch_seconds
        ours_rate = count / ours_seconds
        print(f"{width:>5}x{height:<4} {count:>6} | {torch_rate:>11.3f} {torch_peak:>8.0f} | "
              f"{ours_rate:>15.3f} {ours_peak:>8.0f} | {ours_rate / torch_rate:>11.2f}")


if __name__ == "__main__":
    main()
