#!/usr/bin/env python3
"""CycleGAN training steps and generator inference of Transmute beside PyTorch and ONNX Runtime,
same shapes, same machine, same run (the four rows of issue 8).

Usage (from the package root):
    python3 bench/cyclegan.py [--repeats N] [--threads 2] [--rows step256,step128,infer256,infer512]

Rows (batch 1, ngf 64 resnet_9blocks, ndf 64 3-layer PatchGAN, instance norm):
  step256, step128   one full CycleGAN training step (LSGAN, lambda A/B 10, identity 0.5, image
                     pools of 50, Adam 2e-4 betas (0.5, 0.999)) at 256x256 / 128x128;
  infer256, infer512 generator inference at 256x256 / 512x512 without gradients.
Transmute runs in the `CycleGANBench` executable (built here in release): the trainer's own
`CycleGAN.step` and `GeneratorTranslator.translate`. PyTorch runs the reference's
`optimize_parameters` as written below with the networks of scripts/make_model_fixtures.py;
ONNX Runtime (inference rows) runs the same PyTorch generator exported with torch.onnx.export
to a temporary file, with intra_op_num_threads = --threads. `--threads` also sets
torch.set_num_threads and Transmute's ComputeThreads.

Every row starts a fresh process per implementation, so each reported peak memory is that row's:
the peak resident set (VmHWM of /proc/self/status) read by each process itself after its
set-up, warm-up and repetitions. Within a row the processes take turns: one warm-up each, then
repetitions Transmute, PyTorch, ONNX Runtime, ... with a 0.3 s pause between turns so that no
thread pool still spinning from its turn eats into the next one; medians are printed.

GFLOP counts convolution work only, as 2 flops per multiply-add of the direct convolution
(whatever algorithm runs): for each convolution the reference's step runs, its forward, plus
its weight gradient when its weight requires one and its input gradient when its input does
(so the G step's discriminator passes count forward and input gradient only, and first layers
fed real or detached images count no input gradient). The count is taken with forward hooks
during PyTorch's warm-up and used for every column (Transmute's step skips the same
gradients: its G step freezes the discriminators as the reference does).

The breakdown profiles one more training step of the largest step row asked for: PyTorch under
torch.profiler (events grouped by operator and, for convolutions and norms, by shape), Transmute
with its opt-in Profiler (Tensors; each leaf layer a Sequential applies, the losses and the
optimisers are timed forward, and each gradient-graph node's backward function is timed under
the label of the layer that recorded it). "other" is whatever no label covers: residual sums,
loss weighting, image pools, gradient sums and graph walks, zeroing of gradients.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (description, kind, size, default repetitions)
ROWS = {
    "step256": ("training step 256x256", "step", 256, 3),
    "step128": ("training step 128x128", "step", 128, 5),
    "infer256": ("generator inference 256x256", "infer", 256, 7),
    "infer512": ("generator inference 512x512", "infer", 512, 5),
}
KINDS = ["conv 7x7", "stride-2 down", "residual 3x3", "transposed up", "instance norm",
         "activations", "padding", "losses", "Adam", "D layers", "other"]
PAUSE = 0.3


def peak_resident_kib():
    """VmHWM of this process, in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


# ---------------------------------------------------------------- PyTorch reference side

def reference_networks():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from make_model_fixtures import Generator, PatchDiscriminator
    return Generator, PatchDiscriminator


def initialise(network):
    """The reference's init_weights('normal', 0.02) for convolutions: N(0, 0.02), zero bias."""
    import torch
    for module in network.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            torch.nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
    return network


def make_generator(seed):
    import torch
    Generator, _ = reference_networks()
    torch.manual_seed(seed)
    return initialise(Generator(3, 3, 64, "instance", False, 9))


class ImagePool:
    """The reference's image pool: fills up to `size` fakes, then returns either the new fake or,
    with probability 1/2, a stored one that the new fake replaces."""

    def __init__(self, size, random):
        self.size, self.random, self.images = size, random, []

    def query(self, fakes):
        import torch
        if self.size == 0:
            return fakes
        chosen = []
        for fake in fakes:
            fake = fake.data.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(fake)
                chosen.append(fake)
            elif self.random.uniform(0, 1) > 0.5:
                slot = self.random.randint(0, self.size - 1)
                chosen.append(self.images[slot].clone())
                self.images[slot] = fake
            else:
                chosen.append(fake)
        return torch.cat(chosen, 0)


class ReferenceStep:
    """The reference's CycleGANModel.optimize_parameters with its default options, on one fixed
    pair of random images."""

    def __init__(self, size):
        import random
        import torch
        Generator, PatchDiscriminator = reference_networks()
        torch.manual_seed(0)
        self.netG_A = initialise(Generator(3, 3, 64, "instance", False, 9))
        self.netG_B = initialise(Generator(3, 3, 64, "instance", False, 9))
        self.netD_A = initialise(PatchDiscriminator(3, 64, 3, "instance"))
        self.netD_B = initialise(PatchDiscriminator(3, 64, 3, "instance"))
        self.optimizer_G = torch.optim.Adam(
            list(self.netG_A.parameters()) + list(self.netG_B.parameters()), lr=2e-4,
            betas=(0.5, 0.999))
        self.optimizer_D = torch.optim.Adam(
            list(self.netD_A.parameters()) + list(self.netD_B.parameters()), lr=2e-4,
            betas=(0.5, 0.999))
        pool_random = random.Random(0)
        self.fake_A_pool = ImagePool(50, pool_random)
        self.fake_B_pool = ImagePool(50, pool_random)
        self.lambda_A, self.lambda_B, self.lambda_idt = 10.0, 10.0, 0.5
        self.real_A = torch.rand(1, 3, size, size) * 2 - 1
        self.real_B = torch.rand(1, 3, size, size) * 2 - 1
        self.criterionCycle = torch.nn.L1Loss()
        self.criterionIdt = torch.nn.L1Loss()
        self.mse = torch.nn.MSELoss()

    def criterionGAN(self, prediction, target_is_real):
        """LSGAN: mean squared error against a tensor of 1 (real) or 0 (fake)."""
        import torch
        target = torch.tensor(1.0 if target_is_real else 0.0).expand_as(prediction)
        return self.mse(prediction, target)

    @staticmethod
    def set_requires_grad(networks, requires_grad):
        for network in networks:
            for parameter in network.parameters():
                parameter.requires_grad = requires_grad

    def forward(self):
        self.fake_B = self.netG_A(self.real_A)
        self.rec_A = self.netG_B(self.fake_B)
        self.fake_A = self.netG_B(self.real_B)
        self.rec_B = self.netG_A(self.fake_A)

    def backward_D_basic(self, netD, real, fake):
        loss_D_real = self.criterionGAN(netD(real), True)
        loss_D_fake = self.criterionGAN(netD(fake.detach()), False)
        loss_D = (loss_D_real + loss_D_fake) * 0.5
        loss_D.backward()
        return loss_D

    def backward_G(self):
        self.idt_A = self.netG_A(self.real_B)
        loss_idt_A = self.criterionIdt(self.idt_A, self.real_B) * self.lambda_B * self.lambda_idt
        self.idt_B = self.netG_B(self.real_A)
        loss_idt_B = self.criterionIdt(self.idt_B, self.real_A) * self.lambda_A * self.lambda_idt
        loss_G_A = self.criterionGAN(self.netD_A(self.fake_B), True)
        loss_G_B = self.criterionGAN(self.netD_B(self.fake_A), True)
        loss_cycle_A = self.criterionCycle(self.rec_A, self.real_A) * self.lambda_A
        loss_cycle_B = self.criterionCycle(self.rec_B, self.real_B) * self.lambda_B
        loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
        loss_G.backward()

    def run(self):
        self.forward()
        self.set_requires_grad([self.netD_A, self.netD_B], False)
        self.optimizer_G.zero_grad()
        self.backward_G()
        self.optimizer_G.step()
        self.set_requires_grad([self.netD_A, self.netD_B], True)
        self.optimizer_D.zero_grad()
        self.backward_D_basic(self.netD_A, self.real_B, self.fake_B_pool.query(self.fake_B))
        self.backward_D_basic(self.netD_B, self.real_A, self.fake_A_pool.query(self.fake_A))
        self.optimizer_D.step()

    def networks(self):
        return [self.netG_A, self.netG_B, self.netD_A, self.netD_B]


class ReferenceInference:
    def __init__(self, size):
        import torch
        self.generator = make_generator(0).eval()
        seeded = torch.Generator().manual_seed(1)
        self.image = torch.rand(1, 3, size, size, generator=seeded) * 2 - 1

    def run(self):
        import torch
        with torch.no_grad():
            self.generator(self.image)

    def networks(self):
        return [self.generator]


def count_convolution_flops(networks, body):
    """Runs `body` once with hooks counting, per convolution call, 2 flops per multiply-add for
    the forward and for each gradient the call will need (see the module's documentation)."""
    import torch
    total = [0]

    def hook(module, inputs, output):
        x = inputs[0]
        taps = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, torch.nn.ConvTranspose2d):
            flops = 2 * x.numel() * module.out_channels * taps
        else:
            flops = 2 * output.numel() * module.in_channels * taps
        passes = 1
        if torch.is_grad_enabled():
            passes += int(module.weight.requires_grad) + int(x.requires_grad)
        total[0] += flops * passes

    handles = [module.register_forward_hook(hook) for network in networks
               for module in network.modules()
               if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    body()
    for handle in handles:
        handle.remove()
    return total[0]


def shape_of(event, index):
    shapes = event.input_shapes or []
    return shapes[index] if index < len(shapes) else []


def find(event, name):
    """The first descendant of `event` (itself included) called `name`."""
    if event.name == name:
        return event
    for child in event.cpu_children:
        found = find(child, name)
        if found is not None:
            return found
    return None


def convolution_kind(weight, input_shape, output_shape):
    """The breakdown kind of a convolution from its weight, input and output shapes."""
    if len(weight) != 4:
        return "other"
    if weight[2] == 4:
        return "D layers"
    if weight[2] == 7:
        return "conv 7x7"
    if weight[0] == weight[1]:
        return "residual 3x3"
    if len(input_shape) == 4 and len(output_shape) == 4 and output_shape[2] > input_shape[2]:
        return "transposed up"
    return "stride-2 down"


def norm_kind(shape, size):
    """The generator's norms have C·H = 64·size (64 at full size, 128 at half, 256 at quarter);
    the discriminators' have less."""
    if len(shape) == 4 and shape[1] * shape[2] == 64 * size:
        return "instance norm"
    return "D layers"


def torch_breakdown(step, size):
    """One step under torch.profiler: seconds per kind, forward and backward."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        start = time.perf_counter()
        step.run()
        wall = time.perf_counter() - start
    forward = {kind: 0.0 for kind in KINDS}
    backward = {kind: 0.0 for kind in KINDS}
    backward_total = 0.0
    adam = 0.0
    for event in prof.events():
        if event.cpu_parent is not None:
            continue
        seconds = event.cpu_time_total / 1e6
        name = event.name
        if name.startswith("autograd::engine::evaluate_function: "):
            backward_total += seconds
            node = name.split(": ", 1)[1]
            kind = "other"
            if node.startswith("Convolution"):
                inner = find(event, "aten::convolution_backward")
                if inner is not None:
                    kind = convolution_kind(shape_of(inner, 2), shape_of(inner, 1),
                                            shape_of(inner, 0))
            elif node.startswith("NativeBatchNorm"):
                inner = find(event, "aten::native_batch_norm_backward")
                kind = norm_kind(shape_of(inner, 0) if inner is not None else [], size)
            elif node in ("AsStridedBackward0", "ViewBackward0"):
                # The reshapes around instance_norm's batch_norm call.
                inner = find(event, node)
                kind = norm_kind(shape_of(inner, 0) if inner is not None else [], size)
            elif node == "torch::autograd::CopySlices":
                # An in-place activation on a norm's output (a view): the activation's backward
                # with the copies that in-place updates of views need.
                kind = ("D layers" if find(event, "LeakyReluBackward1") is not None
                        else "activations")
            elif node.startswith("LeakyRelu"):
                kind = "D layers"
            elif node.startswith(("Relu", "Tanh", "Threshold")):
                kind = "activations"
            elif node.startswith("ReflectionPad"):
                kind = "padding"
            elif node.startswith(("MseLoss", "L1Loss", "Abs", "Mean", "Sub", "Sgn")):
                kind = "losses"
            backward[kind] += seconds
        elif name.startswith("Optimizer.step"):
            adam += seconds
        else:
            kind = "other"
            if name == "aten::conv_transpose2d":
                kind = "transposed up"
            elif name in ("aten::conv2d", "aten::convolution"):
                kind = convolution_kind(shape_of(event, 1), [], [])
            elif name == "aten::instance_norm":
                kind = norm_kind(shape_of(event, 0), size)
            elif name.startswith("aten::leaky_relu"):
                kind = "D layers"
            elif name.startswith(("aten::relu", "aten::tanh")):
                kind = "activations"
            elif name in ("aten::pad", "aten::reflection_pad2d"):
                kind = "padding"
            elif name in ("aten::l1_loss", "aten::mse_loss"):
                kind = "losses"
            forward[kind] += seconds
    forward["Adam"] = adam
    classified = sum(forward.values()) - forward["other"]
    forward["other"] = wall - backward_total - classified
    return {"forward": forward, "backward": backward, "step": wall,
            "backward total": backward_total}


def ort_session(path, threads):
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def worker(arguments):
    """A PyTorch or ONNX Runtime side of one row, answering requests on stdin."""
    _, kind, size, _ = ROWS[arguments.row]
    flops = 0
    if arguments.worker == "ort":
        import numpy
        session = ort_session(arguments.onnx, arguments.threads)
        name = session.get_inputs()[0].name
        image = (numpy.random.default_rng(1).random((1, 3, size, size), dtype=numpy.float32)
                 * 2 - 1)

        def run():
            session.run(None, {name: image})
    else:
        import torch
        torch.set_num_threads(arguments.threads)
        case = ReferenceStep(size) if kind == "step" else ReferenceInference(size)
        run = case.run
    print("ready", flush=True)
    first = True
    for line in sys.stdin:
        request = line.strip()
        if request == "run":
            if first and arguments.worker == "torch":
                # The warm-up counts the convolution work (hooks add Python overhead once).
                start = time.perf_counter()
                flops = count_convolution_flops(case.networks(), run)
                print(time.perf_counter() - start, flush=True)
            else:
                start = time.perf_counter()
                run()
                print(time.perf_counter() - start, flush=True)
            first = False
        elif request == "flops":
            print(flops, flush=True)
        elif request == "profile":
            # The profiler logs its start and stop on stderr; keep the table clean.
            saved = os.dup(2)
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
                try:
                    result = torch_breakdown(case, size)
                finally:
                    os.dup2(saved, 2)
                    os.close(saved)
            print(json.dumps(result), flush=True)
        elif request == "peak":
            print(peak_resident_kib(), flush=True)
        else:
            raise SystemExit(f"unknown request {request!r}")


# ---------------------------------------------------------------- driver

class Side:
    """One process of one row, answering the requests of `worker` or CycleGANBench."""

    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, cwd=ROOT)
        self.expect("ready")

    def expect(self, word):
        line = self.process.stdout.readline().strip()
        if line != word:
            raise SystemExit(f"{self.process.args[0]}: expected {word!r}, got {line!r}")

    def ask(self, request):
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"{' '.join(self.process.args)} ended on {request!r}")
        return line.strip()

    def time(self):
        return float(self.ask("run"))

    def swift_profile(self):
        """The `profile` answer of CycleGANBench as the dictionary `torch_breakdown` returns."""
        self.process.stdin.write("profile\n")
        self.process.stdin.flush()
        result = {"forward": {kind: 0.0 for kind in KINDS},
                  "backward": {kind: 0.0 for kind in KINDS}}
        for line in iter(self.process.stdout.readline, ""):
            fields = line.rstrip("\n").split("\t")
            if fields == ["end"]:
                break
            if fields[0] in ("forward", "backward"):
                result[fields[0]][fields[1]] = result[fields[0]].get(fields[1], 0.0) + float(
                    fields[2])
            else:
                result[fields[0]] = float(fields[1])
        forward, backward = result["forward"], result["backward"]
        backward["other"] += result["backward total"] - sum(backward.values())
        forward["other"] += (result["step"] - result["backward total"]
                             - sum(forward.values()))
        return result

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def export_onnx(size, path):
    """The PyTorch generator (seed 0, as the PyTorch worker builds it) as ONNX at `size`, with
    the TorchScript exporter (the torch.export one needs onnxscript, which is not installed)."""
    import warnings
    import torch
    generator = make_generator(0).eval()
    image = torch.zeros(1, 3, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(generator, (image,), path, input_names=["image"],
                          output_names=["output"], opset_version=17, dynamo=False)


def print_breakdown(size, ours, theirs, medians):
    print()
    print(f"per-layer breakdown of one training step at {size}x{size}, ms "
          "(Transmute: its Profiler; PyTorch: torch.profiler; Adam in the forward column)")
    header = (f"{'kind':16} {'T forward':>10} {'T backward':>11} {'P forward':>10} "
              f"{'P backward':>11} {'T/P':>6}")
    print(header)
    print("-" * len(header))
    for kind in KINDS:
        t = ours["forward"].get(kind, 0.0) + ours["backward"].get(kind, 0.0)
        p = theirs["forward"].get(kind, 0.0) + theirs["backward"].get(kind, 0.0)
        ratio = f"{t / p:6.2f}" if p > 0 else f"{'-':>6}"
        print(f"{kind:16} {ours['forward'].get(kind, 0) * 1e3:10.0f} "
              f"{ours['backward'].get(kind, 0) * 1e3:11.0f} "
              f"{theirs['forward'].get(kind, 0) * 1e3:10.0f} "
              f"{theirs['backward'].get(kind, 0) * 1e3:11.0f} {ratio}")
    print("-" * len(header))
    t_fwd, t_bwd = sum(ours["forward"].values()), sum(ours["backward"].values())
    p_fwd, p_bwd = sum(theirs["forward"].values()), sum(theirs["backward"].values())
    print(f"{'profiled step':16} {t_fwd * 1e3:10.0f} {t_bwd * 1e3:11.0f} {p_fwd * 1e3:10.0f} "
          f"{p_bwd * 1e3:11.0f} {(t_fwd + t_bwd) / (p_fwd + p_bwd):6.2f}")
    print(f"(unprofiled medians above: Transmute {medians[0]:.2f} s, PyTorch {medians[1]:.2f} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None,
                        help="repetitions of every row (default: 3 for step256, 5 for step128 "
                             "and infer512, 7 for infer256)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", default=",".join(ROWS),
                        help="comma-separated subset of " + ", ".join(ROWS))
    parser.add_argument("--worker", choices=["torch", "ort"], help=argparse.SUPPRESS)
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--onnx", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        return worker(arguments)
    rows = [row.strip() for row in arguments.rows.split(",") if row.strip()]
    unknown = [row for row in rows if row not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")

    subprocess.run(["swift", "build", "-c", "release", "--product", "CycleGANBench"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    binary = os.path.join(
        subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                       check=True, capture_output=True, text=True).stdout.strip(),
        "CycleGANBench")
    import onnxruntime
    import torch
    started = time.perf_counter()
    print(f"Transmute, torch {torch.__version__}, onnxruntime {onnxruntime.__version__}; "
          f"{arguments.threads} threads each; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores at start")
    profiled = next((row for row in ["step256", "step128"] if row in rows), None)
    results = []
    breakdown = None
    with tempfile.TemporaryDirectory() as scratch:
        for row in rows:
            description, kind, size, default_repeats = ROWS[row]
            repeats = arguments.repeats or default_repeats
            common = ["--row", row, "--threads", str(arguments.threads)]
            sides = {"Transmute": Side([binary] + common),
                     "PyTorch": Side([sys.executable, __file__, "--worker", "torch"] + common)}
            if kind == "infer":
                path = os.path.join(scratch, f"generator{size}.onnx")
                export_onnx(size, path)
                sides["ORT"] = Side([sys.executable, __file__, "--worker", "ort", "--onnx", path]
                                    + common)
            times = {name: [] for name in sides}
            for repetition in range(repeats + 1):
                for name, side in sides.items():
                    elapsed = side.time()
                    if repetition > 0:
                        times[name].append(elapsed)
                    time.sleep(PAUSE)
            flops = int(sides["PyTorch"].ask("flops"))
            if row == profiled:
                ours = sides["Transmute"].swift_profile()
                time.sleep(PAUSE)
                theirs = json.loads(sides["PyTorch"].ask("profile"))
                breakdown = (size, ours, theirs)
            peaks = {name: int(side.ask("peak")) / 1024 for name, side in sides.items()}
            for side in sides.values():
                side.close()
            medians = {name: statistics.median(values) for name, values in times.items()}
            results.append((row, description, repeats, flops, medians, peaks))
            print(f"  {row}: {repeats} repetitions done at {time.perf_counter() - started:.0f} s",
                  flush=True)

    print()
    header = (f"{'row':28} {'reps':>4} {'GFLOP':>6} {'T s':>7} {'P s':>7} {'ORT s':>7} "
              f"{'T/P':>5} {'T/best':>6} {'T GF/s':>6} {'P GF/s':>6} {'O GF/s':>6} "
              f"{'T MiB':>6} {'P MiB':>6} {'O MiB':>6}")
    print(header)
    print("-" * len(header))
    for row, description, repeats, flops, medians, peaks in results:
        gflop = flops / 1e9
        t, p, o = medians["Transmute"], medians["PyTorch"], medians.get("ORT")
        best = min(p, o) if o is not None else p
        ort_columns = ((f"{o:7.3f}", f"{gflop / o:6.1f}", f"{peaks['ORT']:6.0f}")
                       if o is not None else (f"{'-':>7}", f"{'-':>6}", f"{'-':>6}"))
        print(f"{description:28} {repeats:4d} {gflop:6.0f} {t:7.3f} {p:7.3f} {ort_columns[0]} "
              f"{t / p:5.2f} {t / best:6.2f} {gflop / t:6.1f} {gflop / p:6.1f} "
              f"{ort_columns[1]} {peaks['Transmute']:6.0f} {peaks['PyTorch']:6.0f} "
              f"{ort_columns[2]}")
    print("-" * len(header))
    print("T = Transmute, P = PyTorch eager, ORT = ONNX Runtime (inference rows); seconds are\n"
          "medians; T/best = Transmute / min(PyTorch, ORT); GFLOP = convolution work (2 per\n"
          "multiply-add, forward and the gradients the step needs); MiB = peak resident set\n"
          "(VmHWM) of each row's own process")
    if breakdown is not None:
        size, ours, theirs = breakdown
        step_row = next(r for r in results if r[0] == profiled)
        print_breakdown(size, ours, theirs,
                        (step_row[4]["Transmute"], step_row[4]["PyTorch"]))
    print(f"load average {os.getloadavg()[0]:.1f} at the end; "
          f"{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    sys.exit(main())
