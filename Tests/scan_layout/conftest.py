"""Shared helpers of the scan-layout tests: the built command, the bundled model and sample,
writing a scan in another layout, and Dice."""
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# aimostools from this checkout, here and in the tools the tests start (also when not installed).
sys.path.insert(0, os.path.join(ROOT, "Tools"))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.join(ROOT, "Tools"), os.environ.get("PYTHONPATH")) if p)
CLI = os.environ.get("AIMOS_CLI", os.path.join(ROOT, ".build", "release", "aimos-cli"))
MODEL = os.path.join(ROOT, "models", "aimos-demo.safetensors")
# The bundled model per modality (`aimos segment --model ct|lightsheet`).
MODELS = {"ct": MODEL, "lightsheet": os.path.join(ROOT, "models", "aimos-lightsheet.safetensors")}
SAMPLE = os.path.join(ROOT, "data", "sample", "sample_ct.nii.gz")
MAPS = os.path.join(ROOT, "..", "shared", "data", "label-maps")


def require_cli():
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")


def segment(scan, output, *options, check=True, model=MODEL):
    """Runs `aimos segment` with a bundled model (the micro-CT one unless told); returns the
    completed process."""
    run = subprocess.run([CLI, "segment", "--model", model, "--input", scan, "--output", output, "--overwrite", *options],
                         capture_output=True, text=True)
    if check:
        assert run.returncode == 0, run.stderr
    return run


def read(path):
    return np.asarray(nib.load(path).dataobj)


def save(data, affine, path, spacing=None):
    image = nib.Nifti1Image(data, affine)
    image.header.set_xyzt_units("mm")
    if spacing is not None:
        image.header.set_zooms(spacing)
    nib.save(image, path)


def dice(a, b):
    """Mean Dice over the organs present in either map."""
    scores = []
    for c in np.union1d(np.unique(a), np.unique(b)):
        if c == 0:
            continue
        x, y = a == c, b == c
        scores.append(2 * np.logical_and(x, y).sum() / (x.sum() + y.sum()))
    return float(np.mean(scores)) if scores else 1.0
