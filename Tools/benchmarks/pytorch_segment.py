#!/usr/bin/env python3
"""The benchmark's reference: the published AIMOS inference in PyTorch on the CPU (batched
slices, torch.no_grad, eval mode), from reading the NIfTI scan to writing the label map, so it
does the same work as `aimos segment`.

    python3 Tools/benchmarks/pytorch_segment.py MODEL SCAN OUT [--threads N] [--batch 8]
"""
import argparse
import json
import os
import sys

import nibabel as nib
import numpy as np
import scipy.ndimage
import torch

from aimostools.unet import reference
from aimostools.checkpoint import safetensors_io


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("scan")
    parser.add_argument("out")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tensors, metadata = safetensors_io.read(args.model)
    meta = json.loads(metadata["aimos"])
    classes, size = meta["classes"], meta.get("input_size", 256)
    net = reference.AimosUNet(meta["architecture"], len(classes))
    net.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items()}, strict=False)
    net.eval()
    image = nib.load(args.scan)
    volume = np.asarray(image.dataobj).transpose(2, 1, 0)  # z, y, x
    inputs = [reference.preprocess(volume[z], size) for z in range(volume.shape[0])]
    labels = np.zeros(volume.shape, np.uint8)
    with torch.no_grad():
        for start in range(0, len(inputs), args.batch):
            chunk = [x if x is not None else np.zeros((size, size), np.float32) for x in inputs[start:start + args.batch]]
            logits = net(torch.from_numpy(np.stack(chunk))[:, None]).numpy()
            for k, z in enumerate(range(start, start + len(chunk))):
                grid = np.argmax(reference.sigmoid(logits[k]), axis=0) if inputs[z] is not None else np.zeros((size, size), int)
                rows, cols = volume.shape[1:]
                labels[z] = scipy.ndimage.zoom(grid, (rows / size, cols / size), order=0)
    out = nib.Nifti1Image(labels.transpose(2, 1, 0), image.affine)
    nib.save(out, args.out)


if __name__ == "__main__":
    main()
