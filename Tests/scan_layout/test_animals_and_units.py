"""Scans as they come off the scanner: padded with air, a bed and a tube, with two or three
animals side by side, and with a voxel size in the wrong unit. Built from the bundled sample
(always present), segmented with the bundled model and --crop body."""
import csv
import os

import nibabel as nib
import numpy as np
import pytest

from conftest import SAMPLE, dice, read, require_cli, save, segment

GAP = 12          # voxels between animals (6 mm); all offsets even, as the 1 mm body search
MARGIN = 20       # blocks are two 0.5 mm voxels, so every animal meets the same blocks


def bed_scan(copies, seed=3):
    """The sample `copies` times side by side along x (its left-right axis) on a bed below z
    (its belly side), with a tube beside them; returns the scan and each animal's x offset."""
    image = nib.load(SAMPLE)
    animal = np.asarray(image.dataobj).astype(np.int16)
    nx, ny, nz = animal.shape
    air = animal[:4, :4, :].astype(float)
    rng = np.random.default_rng(seed)
    shape = (2 * MARGIN + copies * nx + (copies - 1) * GAP, ny + 2 * MARGIN, nz + 16)
    scan = rng.normal(air.mean(), max(air.std(), 1.0), shape).astype(np.int16)
    scan[:, :, 6:10] = 150                                          # a 2 mm plastic bed
    xx, zz = np.meshgrid(np.arange(shape[0]), np.arange(shape[2]), indexing="ij")
    scan[((xx - 8) ** 2 + (zz - 20) ** 2 <= 4)[:, None, :].repeat(shape[1], axis=1)] = 60   # a tube
    offsets = [MARGIN + k * (nx + GAP) for k in range(copies)]
    for x in offsets:
        scan[x:x + nx, MARGIN:MARGIN + ny, 12:12 + nz] = animal
    return scan, offsets, image.header.get_zooms()[:3], animal.shape


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    require_cli()
    work = tmp_path_factory.mktemp("single")
    scan, offsets, spacing, shape = bed_scan(1)
    path = str(work / "one.nii.gz")
    save(scan, np.diag(list(spacing) + [1.0]), path)
    run = segment(path, str(work / "one_labels.nii.gz"), "--crop", "body")
    labels = read(str(work / "one_labels.nii.gz"))
    x = offsets[0]
    return labels[x:x + shape[0], MARGIN:MARGIN + shape[1], 12:12 + shape[2]], run.stdout


@pytest.mark.parametrize("copies", [2, 3])
def test_each_animal_segmented_as_if_alone(tmp_path, single, copies):
    alone, alone_stdout = single
    scan, offsets, spacing, shape = bed_scan(copies)
    path = str(tmp_path / "bed.nii.gz")
    save(scan, np.diag(list(spacing) + [1.0]), path)
    out = str(tmp_path / "labels.nii.gz")
    run = segment(path, out, "--crop", "body", "--split-animals", "--volumes", str(tmp_path / "table.csv"))
    assert run.stdout.count("animal ") >= copies, run.stdout
    labels = read(out)
    for k, x in enumerate(offsets):
        mine = labels[x:x + shape[0], MARGIN:MARGIN + shape[1], 12:12 + shape[2]]
        assert dice(mine, alone) >= 0.95, (k, dice(mine, alone))
        # Its own label map holds its organs and nobody else's.
        own = read(str(tmp_path / f"labels_animal{k + 1}.nii.gz"))
        assert np.array_equal(own[x:x + shape[0], MARGIN:MARGIN + shape[1], 12:12 + shape[2]], mine)
        others = np.ones(own.shape, bool)
        others[x - GAP // 2:x + shape[0] + GAP // 2] = False
        assert not own[others].any(), k
    # Nothing on the bed or the tube, away from the animals.
    assert not labels[:, :, :10].any() or labels[:, :, :10].mean() < 0.001
    # The organ table: one block of rows per animal, each animal's volumes its own label map's.
    rows = list(csv.DictReader(open(tmp_path / "table.csv")))
    assert {int(r["animal"]) for r in rows} == set(range(1, copies + 1))
    voxel_mm3 = float(np.prod(spacing))
    for k, x in enumerate(offsets):
        mine = read(str(tmp_path / f"labels_animal{k + 1}.nii.gz"))
        for r in rows:
            if int(r["animal"]) == k + 1 and int(r["class_index"]) > 0:
                assert float(r["volume_mm3"]) == pytest.approx((mine == int(r["class_index"])).sum() * voxel_mm3, rel=1e-6, abs=1e-6)


def test_voxel_size_in_the_wrong_unit_is_caught(tmp_path):
    require_cli()
    image = nib.load(SAMPLE)
    data = np.asarray(image.dataobj)
    spacing = [float(s) for s in image.header.get_zooms()[:3]]
    wrong = str(tmp_path / "micrometres.nii.gz")
    save(data, np.diag([s * 1000 for s in spacing] + [1.0]), wrong)        # 500 um written as 500 mm
    table = str(tmp_path / "volumes.csv")
    run = segment(wrong, str(tmp_path / "labels.nii.gz"), "--volumes", table, check=False)
    assert run.returncode == 2, run.stderr
    assert "0.001" in run.stderr and "--voxel-size" in run.stderr, run.stderr
    assert os.listdir(tmp_path) == ["micrometres.nii.gz"]
    # Without a table it segments, and warns.
    run = segment(wrong, str(tmp_path / "labels.nii.gz"))
    assert "implausible" in run.stderr and "Bone" not in run.stdout
    # --voxel-size confirms the size: the table is the one of the scan with the right header.
    run = segment(wrong, str(tmp_path / "labels.nii.gz"), "--volumes", table, "--voxel-size", ",".join(map(str, spacing)))
    right = str(tmp_path / "right.nii.gz")
    save(data, np.diag(spacing + [1.0]), right)
    segment(right, str(tmp_path / "right_labels.nii.gz"), "--volumes", str(tmp_path / "right.csv"))
    fixed = [(r["class"], r["voxels"], float(r["volume_mm3"])) for r in csv.DictReader(open(table))]
    expected = [(r["class"], r["voxels"], float(r["volume_mm3"])) for r in csv.DictReader(open(tmp_path / "right.csv"))]
    assert [f[:2] for f in fixed] == [e[:2] for e in expected]
    for f, e in zip(fixed, expected):
        assert f[2] == pytest.approx(e[2], rel=1e-5)
