#!/usr/bin/env python3
"""Writes the benchmark inputs: a model file with deterministic test weights
(aimostools/unet/test_weights.py) for an architecture, and a synthetic int16 CT-like volume.

    python3 Tools/benchmarks/make_benchmark_inputs.py --architecture Unet768 --slices 12 --out /tmp/aimos-bench
"""
import argparse
import json
import os
import sys

import nibabel as nib
import numpy as np

from aimostools.synthesis import organs
from aimostools.unet import reference
from aimostools.checkpoint import safetensors_io
from aimostools.unet import test_weights

CLASSES = organs.AIMOS_CLASSES


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", default="Unet768")
    parser.add_argument("--size", type=int, default=256, help="model input size")
    parser.add_argument("--slices", type=int, default=12)
    parser.add_argument("--grid", type=int, nargs=2, default=[300, 280], help="nx ny of the volume")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    widths = reference.WIDTHS[args.architecture]
    net = reference.AimosUNet(args.architecture, len(CLASSES))
    tensors = {k: test_weights.tensor(k, tuple(v.shape)) for k, v in net.state_dict().items()
               if not k.endswith("num_batches_tracked")}
    meta = {"architecture": args.architecture, "classes": CLASSES, "input_size": args.size}
    model = os.path.join(args.out, f"{args.architecture.lower()}.safetensors")
    safetensors_io.write(model, tensors, {"aimos": json.dumps(meta)})
    rng = np.random.default_rng(0)
    nx, ny = args.grid
    x, y, z = np.meshgrid(np.linspace(-1, 1, nx), np.linspace(-1, 1, ny), np.linspace(-1, 1, args.slices), indexing="ij")
    body = (x ** 2 / 0.8 + y ** 2 / 0.5 + z ** 2) < 1
    volume = np.where(body, 40.0, -1000.0) + 300.0 * np.exp(-((x - 0.2) ** 2 + y ** 2) / 0.05) + 20 * rng.standard_normal(x.shape)
    image = nib.Nifti1Image(volume.astype(np.int16), np.diag([0.2, 0.2, 0.2, 1.0]))
    nib.save(image, os.path.join(args.out, "volume.nii.gz"))
    print(model, len(widths), "levels")


if __name__ == "__main__":
    main()
