#!/usr/bin/env python3
"""Writes the reference fixtures of Tests/NeuralNetTests/Fixtures with PyTorch (CPU).

Run from the package root:  python3 scripts/make_nn_fixtures.py
Seed: torch.manual_seed(20261203) before each fixture. Deterministic on CPU.

Fixtures (JSON; a tensor is {"shape": [...], "data": [row-major float32 values]}):
- optimizers.json: ten steps of torch.optim.Adam and torch.optim.SGD (several settings) on a
  small convolution problem, with the initial parameters, the inputs, the loss of each step and
  the parameters after each step.
- schedules.json: the learning rate epoch by epoch of the CycleGAN reference's schedulers
  (linear lambda rule, StepLR, CosineAnnealingLR, ReduceLROnPlateau with a metric sequence).
- layers.json: a Sequential of every layer kind with its state_dict keys, shapes and values,
  a forward in training mode, the buffers after it, and a forward in eval mode.
- initializers.json: the standard deviation each initialiser aims at for several weight shapes,
  from torch.nn.init's own fan and gain rules.
"""

import json
import math
import os

import torch
import torch.nn as nn

SEED = 20261203
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NeuralNetTests", "Fixtures")


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path, os.path.getsize(path), "bytes")


def optimizers():
    """A 3→2 3×3 convolution (padding 1) followed by tanh, fitted to a target by MSE."""
    torch.manual_seed(SEED)
    x = torch.randn(2, 3, 5, 4)
    target = torch.randn(2, 2, 5, 4) * 0.5
    weight0 = torch.randn(2, 3, 3, 3) * 0.3
    bias0 = torch.randn(2) * 0.3

    settings = [
        ("adam_cyclegan", "adam", dict(lr=0.01, betas=(0.5, 0.999), eps=1e-8)),
        ("adam_default_weight_decay", "adam", dict(lr=0.02, weight_decay=0.05)),
        ("adam_large_eps", "adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3)),
        ("sgd_plain", "sgd", dict(lr=0.1)),
        ("sgd_momentum", "sgd", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
        ("sgd_nesterov", "sgd", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ]
    runs = []
    for name, kind, options in settings:
        weight = weight0.clone().requires_grad_(True)
        bias = bias0.clone().requires_grad_(True)
        if kind == "adam":
            optimizer = torch.optim.Adam([weight, bias], **options)
        else:
            optimizer = torch.optim.SGD([weight, bias], **options)
        losses, weights, biases = [], [], []
        for _ in range(10):
            optimizer.zero_grad()
            output = torch.tanh(torch.nn.functional.conv2d(x, weight, bias, padding=1))
            loss = torch.nn.functional.mse_loss(output, target)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            weights.append(tensor_json(weight))
            biases.append(tensor_json(bias))
        options = dict(options)
        if "betas" in options:
            options["betas"] = list(options["betas"])
        runs.append(
            {
                "name": name,
                "kind": kind,
                "options": options,
                "losses": losses,
                "weights": weights,
                "biases": biases,
            }
        )
    write(
        "optimizers.json",
        {
            "seed": SEED,
            "input": tensor_json(x),
            "target": tensor_json(target),
            "weight": tensor_json(weight0),
            "bias": tensor_json(bias0),
            "runs": runs,
        },
    )


def schedules():
    """Learning rates after each scheduler step, as the CycleGAN reference sets them up."""
    base = 2e-4

    def run(make, epochs, metrics=None):
        parameter = torch.zeros(1, requires_grad=True)
        optimizer = torch.optim.Adam([parameter], lr=base)
        scheduler = make(optimizer)
        rates = [optimizer.param_groups[0]["lr"]]
        for epoch in range(epochs):
            optimizer.step()
            if metrics is None:
                scheduler.step()
            else:
                scheduler.step(metrics[epoch])
            rates.append(optimizer.param_groups[0]["lr"])
        return rates

    # The reference's lambda rule, with its option names.
    def linear(n_epochs, n_epochs_decay, epoch_count):
        def rule(epoch):
            return 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1)

        return lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=rule)

    plateau_metrics = [1.0, 0.9, 0.895, 0.894, 0.893, 0.892, 0.891, 0.890, 0.80, 0.80,
                       0.80, 0.80, 0.80, 0.80, 0.80, 0.70, 0.75, 0.76, 0.77, 0.78, 0.79, 0.80,
                       0.81, 0.82, 0.83]
    cases = [
        {"name": "linear_3_4", "policy": "linear", "n_epochs": 3, "n_epochs_decay": 4,
         "epoch_count": 1, "rates": run(linear(3, 4, 1), 9)},
        {"name": "linear_100_100", "policy": "linear", "n_epochs": 100, "n_epochs_decay": 100,
         "epoch_count": 1, "rates": run(linear(100, 100, 1), 200)},
        {"name": "linear_resumed", "policy": "linear", "n_epochs": 5, "n_epochs_decay": 5,
         "epoch_count": 4, "rates": run(linear(5, 5, 4), 8)},
        {"name": "step_3", "policy": "step", "step_size": 3, "gamma": 0.1,
         "rates": run(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.1), 10)},
        {"name": "cosine_5", "policy": "cosine", "t_max": 5, "eta_min": 0.0,
         "rates": run(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5,
                                                                          eta_min=0), 12)},
        {"name": "plateau", "policy": "plateau", "factor": 0.2, "threshold": 0.01,
         "patience": 5, "metrics": plateau_metrics,
         "rates": run(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
             o, mode="min", factor=0.2, threshold=0.01, patience=5), len(plateau_metrics),
             plateau_metrics)},
    ]
    write("schedules.json", {"base_lr": base, "cases": cases})


def layers():
    """Every layer kind in one Sequential: names, forward (train), buffers, forward (eval)."""
    torch.manual_seed(SEED)
    model = nn.Sequential(
        nn.ReflectionPad2d(1),
        nn.Conv2d(3, 4, kernel_size=3, stride=1, padding=0),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(0.2),
        nn.ReplicationPad2d((1, 2, 0, 1)),
        nn.Conv2d(4, 5, kernel_size=3, stride=2, padding=1, bias=False),
        nn.InstanceNorm2d(5, affine=True),
        nn.ReLU(),
        nn.ZeroPad2d((2, 1, 1, 0)),
        nn.ConvTranspose2d(5, 3, kernel_size=3, stride=2, padding=1, output_padding=1),
        nn.InstanceNorm2d(3),
        nn.Tanh(),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(3, 2, kernel_size=1),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        nn.Sigmoid(),
        nn.Dropout(0.5),
    )
    # Make the affine parameters and buffers non-trivial so that their use is tested.
    with torch.no_grad():
        model[2].weight.normal_(1.0, 0.3)
        model[2].bias.normal_(0.0, 0.3)
        model[2].running_mean.normal_(0.0, 0.3)
        model[2].running_var.uniform_(0.5, 1.5)
        model[6].weight.normal_(1.0, 0.3)
        model[6].bias.normal_(0.0, 0.3)
    state = {k: tensor_json(v) for k, v in model.state_dict().items()}
    keys = list(model.state_dict().keys())
    x = torch.randn(2, 3, 6, 7)

    # Training mode: batch statistics (dropout is left out of this check by comparing before it).
    model.train()
    with torch.no_grad():
        train_output = model[:-1](x)
    buffers = {k: tensor_json(v) for k, v in model.state_dict().items()
               if "running" in k or "num_batches" in k}
    model.eval()
    with torch.no_grad():
        eval_output = model(x)
    write(
        "layers.json",
        {
            "seed": SEED,
            "keys": keys,
            "state": state,
            "input": tensor_json(x),
            "train_output_before_dropout": tensor_json(train_output),
            "buffers_after_train": buffers,
            "eval_output": tensor_json(eval_output),
        },
    )


def initializers():
    """The standard deviation torch.nn.init targets, per shape and scheme (gain 0.02)."""
    gain = 0.02
    shapes = [("conv", [64, 3, 7, 7]), ("conv", [256, 256, 3, 3]), ("conv", [1, 512, 4, 4]),
              ("transposed", [256, 128, 3, 3]), ("transposed", [128, 64, 3, 3])]
    cases = []
    for kind, shape in shapes:
        weight = torch.empty(shape)
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(weight)
        xavier = gain * math.sqrt(2.0 / float(fan_in + fan_out))
        kaiming = torch.nn.init.calculate_gain("leaky_relu", 0) / math.sqrt(
            torch.nn.init._calculate_correct_fan(weight, "fan_in"))
        cases.append({"kind": kind, "shape": shape, "fan_in": fan_in, "fan_out": fan_out,
                      "normal_std": gain, "xavier_std": xavier, "kaiming_std": kaiming})
    write("initializers.json", {"gain": gain, "cases": cases})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    optimizers()
    schedules()
    layers()
    initializers()
