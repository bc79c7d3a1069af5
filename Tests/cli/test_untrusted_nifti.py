"""A NIfTI header whose dims claim more voxel data than the file holds is refused from the
header alone, before anything of the claimed size is allocated (libnifti would calloc the
claimed size first: 4 GB for these 352-byte files), for .nii and .nii.gz, under a 1 GB address
space limit; a well-formed file of the same kind still reads.

Needs the built command (.build/release/aimos-cli, or $AIMOS_CLI).
"""
import gzip
import os
import subprocess

import nibabel as nib
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("AIMOS_CLI", os.path.join(ROOT, ".build", "release", "aimos-cli"))


def limited(*args):
    """The command under a 1 GB address-space limit."""
    command = " ".join(f"'{a}'" for a in (CLI,) + args)
    return subprocess.run(["bash", "-c", f"ulimit -v 1000000; exec {command}"], capture_output=True, text=True, timeout=60)


@pytest.fixture(autouse=True)
def built():
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_truncated_file_claiming_gigabytes_is_refused_before_allocating(tmp_path, suffix):
    header = nib.Nifti1Header()
    header.set_data_shape((1000, 1000, 1000))
    header.set_data_dtype(np.float32)
    header["vox_offset"] = 352
    raw = header.binaryblock + b"\0" * 4
    path = tmp_path / f"claims_4gb{suffix}"
    path.write_bytes(gzip.compress(raw) if suffix.endswith(".gz") else raw)
    run = limited("volumes", str(path))
    assert run.returncode == 2, run.stderr
    assert "claim 4000000000 bytes of voxel data" in run.stderr, run.stderr
    # A 4 GB claim in a .gz of ~120 bytes: beyond what deflate can expand it to (1032-fold).
    held = "holds 352 bytes" if suffix == ".nii" else f"more than a gzip file of {path.stat().st_size} bytes can hold"
    assert held in run.stderr, run.stderr
    out = tmp_path / "labels.nii.gz"
    run = limited("segment", "--input", str(path), "--output", str(out), "--quiet")
    assert run.returncode == 2 and "claim" in run.stderr and not out.exists()


def test_a_well_formed_file_still_reads(tmp_path):
    labels = np.zeros((12, 10, 8), np.uint8)
    labels[2:6, 2:6, 2:6] = 1
    path = tmp_path / "ok.nii.gz"
    nib.save(nib.Nifti1Image(labels, np.diag([0.5, 0.5, 0.5, 1])), str(path))
    run = limited("volumes", str(path))
    assert run.returncode == 0, run.stderr
    assert "1,label_1,64," in run.stdout
