"""`aimos volumes` on the real mouse label maps of ../shared/data/label-maps: the organ table
(voxels, mm3, mL per label) must equal an independent count made with nibabel and numpy.

Needs the built command (.build/release/aimos-cli, or $AIMOS_CLI) and ../shared (present in CI;
the test says it skipped, and why, when either is missing).
"""
import csv
import io
import os
import subprocess

import nibabel as nib
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAPS = os.path.join(ROOT, "..", "shared", "data", "label-maps")
CLI = os.environ.get("AIMOS_CLI", os.path.join(ROOT, ".build", "release", "aimos-cli"))
NAMES = ["digimouse_atlas.nii.gz", "rosenhain_organs_a.nii.gz", "rosenhain_ct140_organs.nii.gz",
         "rosenhain_ct280_organs_v1.nii.gz", "rosenhain_ct280_organs_v2.nii.gz"]


@pytest.mark.parametrize("name", NAMES)
def test_volumes_match_an_independent_count(name):
    path = os.path.join(MAPS, name)
    if not os.path.exists(path):
        pytest.skip(f"real label maps not found at {MAPS} (they come with ../shared, present in CI)")
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")
    out = subprocess.run([CLI, "volumes", path], capture_output=True, text=True, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    image = nib.load(path)
    labels = np.asarray(image.dataobj).astype(np.int64)
    counts = np.bincount(labels.ravel())
    voxel_mm3 = float(np.prod(np.asarray(image.header.get_zooms()[:3], dtype=np.float64)))
    assert len(rows) == len(counts)
    for row in rows:
        k = int(row["class_index"])
        assert int(row["voxels"]) == counts[k], (name, k)
        assert float(row["volume_mm3"]) == pytest.approx(counts[k] * voxel_mm3, rel=1e-9)
        assert float(row["volume_ml"]) == pytest.approx(counts[k] * voxel_mm3 / 1000, rel=1e-9)
    # The maps hold real organs: at least one label besides background has voxels.
    assert sum(int(r["voxels"]) > 0 for r in rows[1:]) >= 5
