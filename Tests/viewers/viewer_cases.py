"""Scans, models and readers shared by the viewer tests (conftest.py turns the cases into a
fixture; a module of its own so that the tests can import it by a unique name).

The bundled sample scan is given two geometries a viewer must place correctly:
- NIfTI-1, int16, gzip'd, rotated about two axes with anisotropic voxels, qform and sform both set;
- float32, uncompressed, sform only, with the first axis flipped (an LPS-like header),
  segmented by a copy of the bundled micro-CT model whose class names hold spaces, quotes, a tab and
  line breaks (names a converted checkpoint may carry).
Both are NIfTI-1: neither viewer reads NIfTI-2 (3D Slicer 5 says "NIfTI-2 file format is not
supported"; ITK 5.4, whose reader ITK-SNAP uses, finds no reader for it).
"""
import json
import os
import struct
from dataclasses import dataclass

import nibabel as nib
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("AIMOS_CLI", os.path.join(ROOT, ".build", "release", "aimos-cli"))
DEMO_MODEL = os.path.join(ROOT, "models", "aimos-demo.safetensors")
SAMPLE_SCAN = os.path.join(ROOT, "data", "sample", "sample_ct.nii.gz")
SLICER_SCRIPT = os.path.join(ROOT, "Examples", "slicer", "load_aimos_results.py")

# (class name in the model, as ITK-SNAP must show it, as 3D Slicer must show it). The .ctbl
# file holds underscores for white space; Slicer shows them as spaces again.
AWKWARD_CLASSES = [
    ("background", "background", "background"),
    ("Brain", "Brain", "Brain"),
    ('Heart "left" ventricle', "Heart 'left' ventricle", 'Heart "left" ventricle'),
    ("Lung\nright", "Lung right", "Lung right"),
    ("Liver\tlobe", "Liver lobe", "Liver lobe"),
    ("Kidney (both), cortex", "Kidney (both), cortex", "Kidney (both), cortex"),
    ("Spleen\r\n", "Spleen ", "Spleen "),
    ("Bladder", "Bladder", "Bladder"),
    ("Stomach", "Stomach", "Stomach"),
    ("small intestine", "small intestine", "small intestine"),
    ("Bone", "Bone", "Bone"),
]


@dataclass
class Segmented:
    scan: str
    labels: str
    itksnap_labels: str
    slicer_colors: str
    classes: list          # (model name, ITK-SNAP name, Slicer name) per class index
    volumes: list          # rows of the organ table aimos wrote


def rotation(axis, degrees):
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    i, j = [k for k in range(3) if k != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def affine(directions, spacing, origin):
    a = np.eye(4)
    a[:3, :3] = directions @ np.diag(spacing)
    a[:3, 3] = origin
    return a


def write_oblique_nifti1(path):
    voxels = np.asarray(nib.load(SAMPLE_SCAN).dataobj).astype(np.int16)
    a = affine(rotation(2, 30) @ rotation(0, 10), [0.14, 0.16, 0.2], [-5.5, 3.25, 12.0])
    image = nib.Nifti1Image(voxels, a)
    image.set_qform(a, code=1)
    image.set_sform(a, code=2)
    nib.save(image, path)


def write_flipped_float32(path):
    voxels = np.asarray(nib.load(SAMPLE_SCAN).dataobj).astype(np.float32)
    a = affine(np.diag([-1.0, 1.0, 1.0]) @ rotation(1, -20), [0.3, 0.25, 0.5], [20.0, -7.5, 1.5])
    image = nib.Nifti1Image(voxels, a)
    image.set_qform(None, code=0)
    image.set_sform(a, code=1)
    nib.save(image, path)


def write_renamed_model(path, classes):
    """The bundled micro-CT model with other class names: only the header's metadata changes."""
    with open(DEMO_MODEL, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        payload = f.read()
    metadata = json.loads(header["__metadata__"]["aimos"])
    assert len(metadata["classes"]) == len(classes)
    metadata["classes"] = classes
    header["__metadata__"]["aimos"] = json.dumps(metadata)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + payload)


CASES = {
    "nifti1_oblique_int16": (write_oblique_nifti1, "scan.nii.gz", None),
    "flipped_float32_awkward_names": (write_flipped_float32, "scan.nii", AWKWARD_CLASSES),
}


def read_label_descriptions(path):
    """{index: (r, g, b, alpha, visible, mesh, label)} by ITK-SNAP's reading rules."""
    table = {}
    with open(path) as f:
        for number, line in enumerate(f.read().split("\n"), start=1):
            if line.startswith("#") or not line:
                continue
            head, quote, rest = line.partition('"')
            fields = head.split()
            assert quote and len(fields) == 7, f"ITK-SNAP would stop: syntax error on line {number}: {line!r}"
            label = rest.split('"')[0]
            index, r, g, b = (int(v) for v in fields[:4])
            table[index] = (r, g, b, float(fields[4]), int(fields[5]), int(fields[6]), label)
    return table
