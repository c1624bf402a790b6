#!/usr/bin/env python3
"""Writes the reference fixtures of Tests/TrainingTests/Fixtures.

Run from the package root:  python3 scripts/make_training_fixtures.py
Needs numpy, Pillow, torch and safetensors. Everything is deterministic (seeds below).

preprocess.safetensors / preprocess.json
    The reference's `get_transform` (resize with Pillow's BICUBIC, crop, flip, scale to [-1, 1])
    applied to ../shared/photos/chelsea.png for each preprocess mode (for "none", to its
    45×30 region at x 100, y 50), with the crop offsets and
    flips fixed here so that the Swift loader can be given the same ones. Pillow resizes each
    channel in float mode ("F"), the precision Transmute works in, and clips the result to
    [0, 1] as an 8-bit resize does; the reference resizes 8-bit images, which differs by up to
    one level in 255.

one_step_CASE.safetensors / one_step.json
    Two CycleGAN training steps of the reference (`cycle_gan_model.py`: forward, backward_G
    with the discriminators frozen, backward_D_A and backward_D_B on pooled fakes, Adam
    lr 2e-4, betas (0.5, 0.999)) on tiny networks, from initial weights drawn here
    (`init_weights` normal, gain 0.02, torch.manual_seed(SEED)). The networks come from
    make_model_fixtures.py, which defines the reference's ResnetGenerator and
    NLayerDiscriminator. Stored: init.ROLE.KEY (weights before), input.stepK.A/B (the batches),
    grad.step1.ROLE.KEY (gradients of step 1), after.step2.ROLE.KEY (weights after step 2);
    the eight losses of each step are in one_step.json. The pools (size 50) are still filling
    in both steps, so they return the fresh fakes.
"""

import json
import os
import sys

import numpy as np
from PIL import Image
from safetensors.numpy import save_file

SEED = 20261203

ROOT = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(ROOT, "..", "Tests", "TrainingTests", "Fixtures")
PHOTO = os.path.join(ROOT, "..", "..", "shared", "photos", "chelsea.png")


def resize_float(planes, width, height):
    """Pillow's bicubic resize of each [H, W] float plane (values in [0, 1]), clipped to [0, 1]
    as the 8-bit resize of the reference clips its overshoot."""
    return np.clip(np.stack([
        np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize(
            (width, height), Image.BICUBIC), dtype=np.float32)
        for p in planes
    ]), 0, 1)


def make_power_2(planes, base=4):
    """The reference's __make_power_2: each side rounded to the nearest multiple of `base`."""
    h, w = planes.shape[1:]
    nh, nw = int(round(h / base) * base), int(round(w / base) * base)
    return planes if (nh, nw) == (h, w) else resize_float(planes, nw, nh)


def scale_width(planes, target, crop):
    """The reference's __scale_width."""
    h, w = planes.shape[1:]
    if w == target and h >= crop:
        return planes
    return resize_float(planes, target, int(max(target * h / w, crop)))


def transform(planes, mode, load, crop, x, y, flip):
    """The reference's get_transform with the random crop at (x, y) and the flip given."""
    if "resize" in mode:
        planes = resize_float(planes, load, load)
    elif "scale_width" in mode:
        planes = scale_width(planes, load, crop)
    if "crop" in mode:
        planes = planes[:, y:y + crop, x:x + crop]
    if mode == "none":
        planes = make_power_2(planes)
    if flip:
        planes = planes[:, :, ::-1]
    return np.ascontiguousarray(planes * 2 - 1, dtype=np.float32)


def preprocess_fixtures():
    rgb = np.asarray(Image.open(PHOTO).convert("RGB"), dtype=np.float32) / 255
    planes = np.ascontiguousarray(rgb.transpose(2, 0, 1))
    grey = (planes[0] * 0.299 + planes[1] * 0.587 + planes[2] * 0.114)[None]
    cases = [
        # name, mode, load, crop, x, y, flip, channels
        ("resize_and_crop", "resize_and_crop", 72, 64, 5, 3, True, 3),
        ("crop", "crop", 286, 48, 200, 100, False, 3),
        ("scale_width_and_crop", "scale_width_and_crop", 96, 40, 31, 17, True, 3),
        ("none", "none", 286, 256, 0, 0, False, 3),  # on the 45×30 region at (100, 50)
        ("grey_resize_and_crop", "resize_and_crop", 40, 32, 8, 0, False, 1),
    ]
    tensors = {}
    described = []
    for name, mode, load, crop, x, y, flip, channels in cases:
        source = planes if channels == 3 else grey
        if mode == "none":
            source = source[:, 50:80, 100:145]
        out = transform(source, mode, load, crop, x, y, flip)
        tensors[name] = out[None]
        described.append({
            "name": name, "preprocess": mode, "loadSize": load, "cropSize": crop, "x": x,
            "y": y, "flip": flip, "channels": channels, "shape": list(out[None].shape),
        })
    save_file(tensors, os.path.join(FIXTURES, "preprocess.safetensors"))
    with open(os.path.join(FIXTURES, "preprocess.json"), "w") as f:
        json.dump(described, f, indent=1)


ROLES = ["G_A", "G_B", "D_A", "D_B"]

ONE_STEP_CASES = [
    # name, input_nc, output_nc, batch, size, gan_mode, lambda_identity, ngf, ndf
    ("lsgan", 3, 3, 1, 32, "lsgan", 0.5, 2, 2),
    ("vanilla_grey_batch2", 1, 3, 2, 32, "vanilla", 0.0, 2, 2),
]


def one_step_fixtures():
    import torch
    import torch.nn as nn

    sys.path.insert(0, ROOT)
    from make_model_fixtures import Generator, PatchDiscriminator

    described = []
    for name, input_nc, output_nc, batch, size, gan_mode, lambda_idt, ngf, ndf in ONE_STEP_CASES:
        torch.manual_seed(SEED)
        nets = {
            "G_A": Generator(input_nc, output_nc, ngf, "instance", False, 6),
            "G_B": Generator(output_nc, input_nc, ngf, "instance", False, 6),
            "D_A": PatchDiscriminator(output_nc, ndf, 3, "instance"),
            "D_B": PatchDiscriminator(input_nc, ndf, 3, "instance"),
        }
        # The reference's init_weights('normal', 0.02): conv weights N(0, 0.02), biases 0.
        for net in nets.values():
            for module in net.modules():
                if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                    nn.init.normal_(module.weight, 0.0, 0.02)
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)
            net.train()
        tensors = {}
        for role, net in nets.items():
            for key, value in net.state_dict().items():
                tensors[f"init.{role}.{key}"] = value.detach().numpy().copy()

        lambda_a = lambda_b = 10.0
        if gan_mode == "lsgan":
            criterion = nn.MSELoss()
        else:
            criterion = nn.BCEWithLogitsLoss()

        def gan_loss(prediction, real):
            target = torch.ones_like(prediction) if real else torch.zeros_like(prediction)
            return criterion(prediction, target)

        g_params = list(nets["G_A"].parameters()) + list(nets["G_B"].parameters())
        d_params = list(nets["D_A"].parameters()) + list(nets["D_B"].parameters())
        optimizer_g = torch.optim.Adam(g_params, lr=2e-4, betas=(0.5, 0.999))
        optimizer_d = torch.optim.Adam(d_params, lr=2e-4, betas=(0.5, 0.999))

        steps = []
        for step in (1, 2):
            real_a = torch.rand(batch, input_nc, size, size) * 2 - 1
            real_b = torch.rand(batch, output_nc, size, size) * 2 - 1
            tensors[f"input.step{step}.A"] = real_a.numpy().copy()
            tensors[f"input.step{step}.B"] = real_b.numpy().copy()

            # forward
            fake_b = nets["G_A"](real_a)
            rec_a = nets["G_B"](fake_b)
            fake_a = nets["G_B"](real_b)
            rec_b = nets["G_A"](fake_a)

            # backward_G with the discriminators frozen
            for p in d_params:
                p.requires_grad_(False)
            optimizer_g.zero_grad()
            if lambda_idt > 0:
                idt_a = nets["G_A"](real_b)
                loss_idt_a = nn.L1Loss()(idt_a, real_b) * lambda_b * lambda_idt
                idt_b = nets["G_B"](real_a)
                loss_idt_b = nn.L1Loss()(idt_b, real_a) * lambda_a * lambda_idt
            else:
                loss_idt_a = loss_idt_b = torch.tensor(0.0)
            loss_g_a = gan_loss(nets["D_A"](fake_b), True)
            loss_g_b = gan_loss(nets["D_B"](fake_a), True)
            loss_cycle_a = nn.L1Loss()(rec_a, real_a) * lambda_a
            loss_cycle_b = nn.L1Loss()(rec_b, real_b) * lambda_b
            loss_g = loss_g_a + loss_g_b + loss_cycle_a + loss_cycle_b + loss_idt_a + loss_idt_b
            loss_g.backward()
            optimizer_g.step()

            # backward_D_A and backward_D_B (the pools are filling: they return the fakes)
            for p in d_params:
                p.requires_grad_(True)
            optimizer_d.zero_grad()

            def backward_d(net, real, fake):
                loss = (gan_loss(net(real), True) + gan_loss(net(fake.detach()), False)) * 0.5
                loss.backward()
                return loss

            loss_d_a = backward_d(nets["D_A"], real_b, fake_b)
            loss_d_b = backward_d(nets["D_B"], real_a, fake_a)
            optimizer_d.step()

            steps.append({
                "G_A": loss_g_a.item(), "G_B": loss_g_b.item(), "D_A": loss_d_a.item(),
                "D_B": loss_d_b.item(), "cycle_A": loss_cycle_a.item(),
                "cycle_B": loss_cycle_b.item(), "idt_A": loss_idt_a.item(),
                "idt_B": loss_idt_b.item(),
            })
            if step == 1:
                for role, net in nets.items():
                    for key, parameter in net.named_parameters():
                        tensors[f"grad.step1.{role}.{key}"] = parameter.grad.numpy().copy()
        for role, net in nets.items():
            for key, value in net.state_dict().items():
                tensors[f"after.step2.{role}.{key}"] = value.detach().numpy().copy()

        save_file(tensors, os.path.join(FIXTURES, f"one_step_{name}.safetensors"))
        described.append({
            "name": name, "input_nc": input_nc, "output_nc": output_nc, "batch": batch,
            "size": size, "gan_mode": gan_mode, "lambda_identity": lambda_idt, "ngf": ngf,
            "ndf": ndf, "n_blocks": 6, "losses": steps,
        })
    with open(os.path.join(FIXTURES, "one_step.json"), "w") as f:
        json.dump(described, f, indent=1)


if __name__ == "__main__":
    os.makedirs(FIXTURES, exist_ok=True)
    preprocess_fixtures()
    one_step_fixtures()
