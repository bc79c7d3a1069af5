#!/usr/bin/env python3
"""Makes the golden fixtures of the core engine tests (Tests/AimosCoreTests/Fixtures).

Each case runs the PyTorch reference (aimostools/unet/reference.py: the AIMOS U-Net modules plus
Pillow's BILINEAR resize and scipy's zoom, as the published pipeline) on a small synthetic
volume with deterministic test weights (aimostools/unet/test_weights.py) and stores the volume,
the z-scored model inputs, some logits, the labels, probabilities and uncertainty.

Small models (Unet64) are written as model files here and committed; the larger ones
(Unet128 ... Unet1024, tens of MB) are rebuilt by the Swift tests from the same formula.

    aimos-make-golden-fixtures [--out Tests/AimosCoreTests/Fixtures]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

from aimostools.unet import reference
from aimostools.checkpoint import safetensors_io
from aimostools.unet import test_weights

NUMPY_DTYPE = {"uint8": np.uint8, "int16": np.int16, "uint16": np.uint16, "int32": np.int32,
               "float32": np.float32, "float64": np.float64}


def state_dict_shapes(architecture, channels):
    net = reference.AimosUNet(architecture, channels)
    return {k: tuple(v.shape) for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}


def member_weights(architecture, channels, storage):
    """Formula weights of one member, rounded through the storage dtype."""
    weights = {}
    for key, shape in state_dict_shapes(architecture, channels).items():
        w = test_weights.tensor(key, shape)
        if storage == "F16":
            w = w.astype(np.float16).astype(np.float32)
        elif storage == "BF16":
            w = safetensors_io.from_bf16_bits(safetensors_io.to_bf16_bits(w)).reshape(shape)
        weights[key] = w
    return weights


def build_net(architecture, channels, weights):
    net = reference.AimosUNet(architecture, channels)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    return net.eval()


def synthetic_volume(dims, dtype, seed, flat_slice, axis):
    """Smooth blobs plus noise (x fastest: numpy shape (nz, ny, nx)); one constant slice."""
    nx, ny, nz = dims
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(np.linspace(-1, 1, nz), np.linspace(-1, 1, ny), np.linspace(-1, 1, nx), indexing="ij")
    v = np.zeros((nz, ny, nx))
    for _ in range(4):
        c = rng.uniform(-0.7, 0.7, 3)
        r = rng.uniform(0.2, 0.6)
        v += rng.uniform(0.5, 1.5) * np.exp(-((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2) / r ** 2)
    v += 0.1 * rng.standard_normal(v.shape)
    info = np.iinfo(NUMPY_DTYPE[dtype]) if dtype not in ("float32", "float64") else None
    if info is not None:
        lo, hi = max(info.min, -3000), min(info.max, 60000)
        if dtype == "uint8":
            lo, hi = 0, 255
        v = lo + (v - v.min()) / (v.max() - v.min()) * (hi - lo)
        v = np.round(v)
    else:
        v = v * 500.0 - 100.0
    v = v.astype(NUMPY_DTYPE[dtype])
    if flat_slice is not None:
        reference.slice_view(v, axis, flat_slice)[...] = v.flat[0]
    return v


CASES = [
    # name, architecture, classes, size, dims (nx, ny, nz), dtype, axis, storage, members, uncertainty, flat
    ("unet64_axis2_int16", "Unet64", 3, 32, (23, 17, 6), "int16", 2, "F32", 1, False, 3),
    ("unet64_axis1_uint8", "Unet64", 3, 32, (19, 7, 13), "uint8", 1, "F32", 1, False, None),
    ("unet64_axis0_float64", "Unet64", 3, 32, (5, 21, 30), "float64", 0, "F32", 1, False, 2),
    ("unet64_f16_uint16", "Unet64", 4, 32, (40, 36, 3), "uint16", 2, "F16", 1, False, None),
    ("unet64_bf16_int32", "Unet64", 4, 32, (16, 33, 4), "int32", 2, "BF16", 1, False, None),
    ("unet64_ensemble3_float32", "Unet64", 3, 32, (20, 20, 3), "float32", 2, "F32", 3, False, None),
    ("unet64_ensemble2_int16", "Unet64", 3, 32, (17, 25, 3), "int16", 2, "F32", 2, False, None),
    ("unet64_uncertainty_int16", "Unet64", 3, 32, (26, 18, 4), "int16", 2, "F32", 1, True, 1),
    ("unet64_size256_int16", "Unet64", 3, 256, (270, 190, 2), "int16", 2, "F32", 1, False, None),
    ("unet128_axis2_int16", "Unet128", 4, 32, (29, 23, 3), "int16", 2, "F32", 1, False, None),
    ("unet256_axis1_float32", "Unet256", 4, 32, (24, 3, 31), "float32", 1, "F32", 1, False, None),
    ("unet512_axis0_uint16", "Unet512", 5, 32, (3, 37, 27), "uint16", 0, "F32", 1, False, None),
    ("unet768_axis2_int16", "Unet768", 11, 64, (45, 70, 2), "int16", 2, "F32", 1, False, None),
    ("unet1024_axis2_int16", "Unet1024", 11, 64, (66, 50, 2), "int16", 2, "F32", 1, True, None),
]
ORGANS = ["background", "Brain", "Heart", "Lung", "Liver", "Kidneys", "Spleen", "Bladder", "Stomach",
          "Intestine", "Bone"]


def model_file_name(architecture, classes, size, storage, members, uncertainty):
    tag = f"{architecture.lower()}_c{classes}_s{size}_{storage.lower()}"
    if members > 1:
        tag += f"_x{members}"
    if uncertainty:
        tag += "_unc"
    return tag + ".safetensors"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("Tests", "AimosCoreTests", "Fixtures"),
                        help="fixture directory (default: the engine's, from the repository root)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    for seed, (name, arch, n_classes, size, dims, dtype, axis, storage, members, uncertainty, flat) in enumerate(CASES):
        classes = ORGANS[:n_classes]
        channels = n_classes + (1 if uncertainty else 0)
        meta = {"architecture": arch, "classes": classes, "input_size": size, "uncertainty": uncertainty,
                "ensemble_members": members, "slice_axis": 2}
        weight_sets = []
        for m in range(members):
            w = member_weights(arch, channels, storage)
            if m > 0:  # members differ by a scale of their conv weights (stored in the committed file)
                w = {k: (v * np.float32(1 + 0.1 * m)).astype(np.float32) if k.endswith("conv.weight") else v for k, v in w.items()}
            weight_sets.append(w)
        model_file = model_file_name(arch, n_classes, size, storage, members, uncertainty)
        if arch == "Unet64":
            tensors = {}
            for m, w in enumerate(weight_sets):
                prefix = f"member{m}." if members > 1 else ""
                for k, v in w.items():
                    if storage == "F16":
                        tensors[prefix + k] = v.astype(np.float16)
                    elif storage == "BF16":
                        tensors[prefix + k] = ("BF16", safetensors_io.to_bf16_bits(v).reshape(v.shape))
                    else:
                        tensors[prefix + k] = v
                    if k.endswith("running_var"):
                        tensors[prefix + k.replace("running_var", "num_batches_tracked")] = np.array(7, np.int64)
            # The input-size-256 and ensemble variants of the F32 model are rebuilt by the Swift
            # tests from unet64_c3_s32_f32 (TestWeights.derivedModel), so they are not committed.
            derived = storage == "F32" and not uncertainty and (members > 1 or size != 32)
            if not derived:
                safetensors_io.write(os.path.join(args.out, model_file), tensors, {"aimos": json.dumps(meta), "format": "pt"})
        nets = [build_net(arch, channels, w) for w in weight_sets]
        volume = synthetic_volume(dims, dtype, seed, flat, axis)
        labels, probabilities, heat, inputs, logits = reference.segment(volume, nets, classes, size, axis, uncertainty)
        checked = [i for i, x in enumerate(inputs) if x is not None][:2]
        golden = {
            "volume": volume,
            "labels": labels,
            "probabilities": probabilities,
            "model_input": np.stack([inputs[i] for i in checked]),
            "logits": np.stack([np.stack(logits[i]) for i in checked]),  # [slice, member, channel, S, S]
        }
        if uncertainty:
            golden["uncertainty"] = heat
        case = {"model": model_file, "weights": "file" if arch == "Unet64" else "formula", "aimos": meta,
                "axis": axis, "dtype": dtype, "dims": list(dims), "spacing": [0.1, 0.14, 0.2],
                "checked_slices": checked, "flat_slice": flat}
        safetensors_io.write(os.path.join(args.out, f"{name}.golden.safetensors"), golden, {"case": json.dumps(case)})
        print(f"{name}: labels {np.bincount(labels.ravel(), minlength=n_classes).tolist()}, "
              f"logit range [{golden['logits'].min():.2f}, {golden['logits'].max():.2f}]")


if __name__ == "__main__":
    main()
