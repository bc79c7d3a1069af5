"""A scan in any of the 48 anatomical layouts: --orientation CODE, header and auto map it into
the model's layout and every label back onto the input grid.

The bundled sample (always present) is written in all 48 layouts with an identity-direction
affine (a header that says nothing) for auto, and in every third layout for a code and with a
correct affine (all 48 with AIMOS_FULL_LAYOUT_TESTS=1; the Swift test maps all 48 exactly). With
../shared (present in CI), synthetic CT and light-sheet scans of three real anatomies are
checked the same way, each with its modality's bundled model (`--model ct`, `--model
lightsheet`): --orientation CODE and header (a correct affine) map back onto the canonical run,
and auto names the layout each scan was written in (identity affine). CI runs every fourth
layout of these (two per axis order); AIMOS_FULL_LAYOUT_TESTS=1 runs all 48. Auto's accuracy
on wider sets of scans is measured in README, not asserted.
"""
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

from conftest import MAPS, MODELS, SAMPLE, read, require_cli, save, segment
from aimostools.layout.orientation_codes import ALL_CODES, from_layout, to_layout

SAMPLE_LAYOUT = "LHD"   # the synthesis layout: x to the animal's left, y to the head, z to the back
# RAS world direction of each letter (the header reading: +x right, +y head, +z back).
WORLD = {"R": (1, 0, 0), "L": (-1, 0, 0), "H": (0, 1, 0), "T": (0, -1, 0), "D": (0, 0, 1), "V": (0, 0, -1)}


def write_in_layout(data, spacing, source, code, path, header):
    moved, order = to_layout(data, source, code)
    zooms = [float(spacing[a]) for a in order]
    affine = np.eye(4)
    for axis, letter in enumerate(code):
        affine[:3, axis] = (np.array(WORLD[letter]) if header else np.eye(3)[axis]) * zooms[axis]
    save(moved, affine, path)


def reported_layout(stdout):
    """The layout `aimos segment` says it used ("orientation LHD (detected, ...), crop ...")."""
    for line in stdout.splitlines():
        if line.startswith("orientation "):
            return line.split()[1].rstrip(",")
    return None


@pytest.fixture(scope="module")
def sample_reference(tmp_path_factory):
    require_cli()
    work = tmp_path_factory.mktemp("sample")
    out = str(work / "reference.nii.gz")
    segment(SAMPLE, out, "--orientation", SAMPLE_LAYOUT, "--quiet")
    image = nib.load(SAMPLE)
    return np.asarray(image.dataobj), image.header.get_zooms()[:3], read(out), work


def test_preview_is_coronal_head_up_whatever_the_voxel_order(sample_reference):
    """With the layout known the preview shows the same coronal picture for every voxel order;
    with --orientation none it follows the voxel axes, so a reordered scan looks different."""
    data, spacing, _, work = sample_reference
    pictures, unoriented = {}, {}
    for code in (SAMPLE_LAYOUT, "TDL", "VRH", "RTV"):
        scan = str(work / f"preview_{code}.nii.gz")
        write_in_layout(data, spacing, SAMPLE_LAYOUT, code, scan, header=False)
        for options, into in (((f"--orientation", code), pictures), (("--orientation", "none"), unoriented)):
            picture = str(work / f"preview_{code}_{options[1]}.jpg")
            segment(scan, str(work / "preview_labels.nii.gz"), *options, "--preview", picture, "--quiet")
            with open(picture, "rb") as f:
                into[code] = f.read()
    assert len(set(pictures.values())) == 1
    assert len(set(unoriented.values())) > 1


@pytest.mark.parametrize("mode", ["code", "header", "auto"])
def test_sample_in_all_48_layouts(sample_reference, mode):
    data, spacing, reference, work = sample_reference
    wrong = []
    # auto is checked in all 48; code and header, whose mapping the Swift test checks exactly in
    # all 48, in every third here (all with AIMOS_FULL_LAYOUT_TESTS=1).
    full = mode == "auto" or os.environ.get("AIMOS_FULL_LAYOUT_TESTS") == "1"
    for code in ALL_CODES if full else ALL_CODES[::3]:
        scan = str(work / f"{mode}_{code}.nii.gz")
        write_in_layout(data, spacing, SAMPLE_LAYOUT, code, scan, header=mode == "header")
        labels_path = str(work / f"{mode}_{code}_labels.nii.gz")
        run = segment(scan, labels_path, "--orientation", {"code": code, "header": "header", "auto": "auto"}[mode])
        assert reported_layout(run.stdout) == code, (mode, code, run.stdout)
        back = from_layout(read(labels_path), code, SAMPLE_LAYOUT)
        agreement = float((back == reference).mean())
        if agreement < 0.999:
            wrong.append((code, agreement))
        # The label map records the layout it was made in.
        assert f"orientation {code}" in nib.load(labels_path).header["descrip"].tobytes().decode()
    assert wrong == [], wrong


def synthetic_scans(tmp_path_factory, modality):
    maps = [os.path.join(MAPS, n) for n in ("digimouse_atlas.nii.gz", "rosenhain_organs_a.nii.gz", "rosenhain_ct140_organs.nii.gz")]
    if not all(os.path.exists(m) for m in maps):
        pytest.skip(f"real label maps not found at {MAPS} (they come with ../shared, present in CI)")
    out = tmp_path_factory.mktemp(f"synth_{modality}")
    subprocess.run([sys.executable, "-m", "aimostools.cli.synthesize", "--maps", *maps, "--out", str(out),
                    "--count", "1", "--seed", "4242", "--modality", modality, "--spacing-range", "0.45", "0.5",
                    "--max-dim", "160"], check=True, capture_output=True)
    return sorted(str(p) for p in out.glob("*_scan.nii.gz"))


@pytest.mark.parametrize("modality", ["ct", "lightsheet"])
def test_three_anatomies_in_all_48_layouts(tmp_path_factory, modality):
    require_cli()
    scans = synthetic_scans(tmp_path_factory, modality)
    assert len(scans) == 3
    model = MODELS[modality]
    work = tmp_path_factory.mktemp(f"layouts_{modality}")
    for scan in scans:
        image = nib.load(scan)
        data, spacing = np.asarray(image.dataobj), image.header.get_zooms()[:3]
        reference_path = str(work / "reference.nii.gz")
        segment(scan, reference_path, "--orientation", SAMPLE_LAYOUT, "--quiet", model=model)
        reference = read(reference_path)
        codes = ALL_CODES if os.environ.get("AIMOS_FULL_LAYOUT_TESTS") == "1" else ALL_CODES[::4]
        for code in codes:
            moved = str(work / "moved.nii.gz")      # identity affine: for a code and auto
            write_in_layout(data, spacing, SAMPLE_LAYOUT, code, moved, header=False)
            told = str(work / "told.nii.gz")        # a correct affine: for header
            write_in_layout(data, spacing, SAMPLE_LAYOUT, code, told, header=True)
            # Each names the layout the scan was written in, and its labels map back onto the
            # canonical run's.
            for scan_path, orientation in ((moved, code), (told, "header"), (moved, "auto")):
                out = str(work / "labels.nii.gz")
                run = segment(scan_path, out, "--orientation", orientation, model=model)
                assert reported_layout(run.stdout) == code, (scan, orientation, code, run.stdout)
                back = from_layout(read(out), code, SAMPLE_LAYOUT)
                assert (back == reference).mean() >= 0.999, (scan, orientation, code)
