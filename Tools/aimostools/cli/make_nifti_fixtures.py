#!/usr/bin/env python3
"""Makes the small NIfTI/Analyze files of the pipeline tests (Tests/AimosPipelineTests/Fixtures)
with nibabel, an implementation independent of libnifti: every datatype aimos reads, .nii,
.nii.gz, .hdr/.img, NIfTI-2, scaled data, a single-volume 4D file, a multi-volume 4D file, a
truncated file. Every voxel holds pattern(x, y, z) = (x + 7y + 42z) % 100 - 20 (times the
scaling where noted), which the Swift tests recompute.

    aimos-make-nifti-fixtures
"""
import os

import nibabel as nib
import numpy as np

OUT = os.path.join("Tests", "AimosPipelineTests", "Fixtures")   # run from the repository root
DIMS = (7, 6, 5)


def pattern():
    x, y, z = np.meshgrid(*[np.arange(n) for n in DIMS], indexing="ij")
    return (x + 7 * y + 42 * z) % 100 - 20


def affine():
    """An oblique, offset affine, so geometry round trips are meaningful."""
    a = np.array([[0.0, -0.12, 0.01, 10.5], [0.15, 0.0, 0.0, -4.25], [0.0, 0.02, 0.2, 7.0], [0, 0, 0, 1]])
    return a


def save(image, name):
    if hasattr(image.header, "set_xyzt_units"):
        image.header.set_xyzt_units("mm", "sec")
    nib.save(image, os.path.join(OUT, name))


def main():
    os.makedirs(OUT, exist_ok=True)
    values = pattern()
    for dtype in ["uint8", "int8", "int16", "uint16", "int32", "uint32", "float32", "float64"]:
        data = values - values.min() if dtype.startswith("u") else values
        image = nib.Nifti1Image(data.astype(dtype), affine())
        image.set_qform(affine(), code=1)
        image.set_sform(affine(), code=2)
        save(image, f"pattern_{dtype}.nii.gz")
    plain = nib.Nifti1Image(values.astype("int16"), affine())
    save(plain, "pattern_int16.nii")
    save(nib.Nifti1Pair(values.astype("int16"), affine()), "pattern_pair.hdr")
    save(nib.Nifti2Image(values.astype("float32"), affine()), "pattern_nifti2.nii.gz")
    save(nib.AnalyzeImage(values.astype("int16"), np.diag([0.15, 0.12, 0.2, 1.0])), "pattern_analyze.hdr")
    scaled = nib.Nifti1Image(values.astype("int16"), affine())
    scaled.header.set_slope_inter(0.5, 100.0)
    save(scaled, "pattern_scaled.nii.gz")
    save(nib.Nifti1Image(values.astype("int16")[..., None], affine()), "pattern_4d_one.nii.gz")
    save(nib.Nifti1Image(np.stack([values, values], axis=-1).astype("int16"), affine()), "pattern_4d_two.nii.gz")
    full = os.path.join(OUT, "pattern_int16.nii")
    with open(full, "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "truncated.nii"), "wb") as f:
        f.write(data[: len(data) - 100])
    with open(os.path.join(OUT, "not_nifti.nii"), "wb") as f:
        f.write(b"this is not a NIfTI file at all" * 20)
    # Hostile NIfTI-2 headers whose dims multiply past 2**64 (libnifti's own product wraps to a
    # small number, so it reads a few bytes and accepts the file).
    hostile(os.path.join(OUT, "hostile_dims.nii"), [5, 1, 1, 1, 4194305, 17592181850113, 1, 1], "uint8")
    hostile(os.path.join(OUT, "hostile_int64.nii"), [3, 2 ** 61 + 1, 1, 1, 1, 1, 1, 1], "int64")


def hostile(path, dim, dtype):
    """A NIfTI-2 file of 8 voxels whose header claims `dim` (dim[0..7], int64 at byte 16)."""
    image = nib.Nifti2Image(np.zeros(8, dtype=dtype), np.eye(4), dtype=dtype)
    nib.save(image, path)
    with open(path, "r+b") as f:
        f.seek(16)
        f.write(np.asarray(dim, dtype="<i8").tobytes())


if __name__ == "__main__":
    main()
