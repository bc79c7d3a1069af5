"""`aimos evaluate` on the two real annotations of one scan in ../shared (rosenhain_ct280 v1
and v2, numbered differently, matched by name): every organ's metrics must equal
aimostools.evaluation.metrics (numpy and scipy), the two-annotator columns an independent
numpy count, and maps on different grids are refused with no output left behind.

Needs the built command (.build/release/aimos-cli, or $AIMOS_CLI) and ../shared (present in CI;
the test says it skipped, and why, when either is missing).
"""
import csv
import io
import json
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tools"))
from aimostools.evaluation import metrics  # noqa: E402

MAPS = os.path.join(ROOT, "..", "shared", "data", "label-maps")
CLI = os.environ.get("AIMOS_CLI", os.path.join(ROOT, ".build", "release", "aimos-cli"))
V1, V2 = (os.path.join(MAPS, f"rosenhain_ct280_organs_{v}.nii.gz") for v in ("v1", "v2"))


def names(file_name):
    with open(os.path.join(MAPS, "labels.json")) as f:
        return {int(k): v for k, v in json.load(f)[file_name]["labels"].items()}


def option(table):
    return ",".join(f"{name}={label}" for label, name in sorted(table.items()))


@pytest.fixture(scope="module")
def maps():
    if not os.path.exists(V1):
        pytest.skip(f"real label maps not found at {MAPS} (they come with ../shared, present in CI)")
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")
    v1, v2 = (np.asarray(nib.load(p).dataobj).astype(np.int64) for p in (V1, V2))
    spacing = tuple(float(s) for s in nib.load(V1).header.get_zooms()[:3])
    return v1, v2, names("rosenhain_ct280_organs_v1.nii.gz"), names("rosenhain_ct280_organs_v2.nii.gz"), spacing


def test_metrics_match_numpy_scipy_organ_by_organ(maps):
    v1, v2, names1, names2, spacing = maps
    out = subprocess.run([CLI, "evaluate", "--reference", V1, "--map", option(names1), "--prediction", V2,
                          "--prediction-map", option(names2)], capture_output=True, text=True, check=True).stdout
    rows = {row["organ"]: row for row in csv.DictReader(io.StringIO(out))}
    by_name2 = {v: k for k, v in names2.items()}
    # Every organ of v1 (Bladder only there) and of v2.
    assert set(rows) == set(names1.values()) | set(names2.values())
    for label, organ in names1.items():
        expected = metrics.organ_metrics(v2 == by_name2.get(organ, -1), v1 == label, spacing)
        row = rows[organ]
        for column, key in [("dice", "dice"), ("hd50_mm", "hd50_mm"), ("hd95_mm", "hd95_mm"), ("com_mm", "com_mm"),
                            ("volume_reference_mm3", "volume_reference_mm3"),
                            ("volume_prediction_mm3", "volume_prediction_mm3"), ("volume_error_percent", "volume_error_pct")]:
            if np.isnan(expected[key]):
                assert row[column] == "", (organ, column)   # undefined: an empty cell
            else:
                assert float(row[column]) == pytest.approx(expected[key], rel=1e-9, abs=1e-12), (organ, column)


def test_two_references(maps, tmp_path):
    v1, v2, names1, names2, spacing = maps
    out = tmp_path / "table.json"
    # v2 as the prediction and as the second reference: it agrees with itself, so every
    # voxel is "right" and the either-annotator Dice is 1 where v2 has the organ.
    subprocess.run([CLI, "evaluate", "--reference", V1, "--map", option(names1), "--reference2", V2,
                    "--reference2-map", option(names2), "--prediction", V2,
                    "--prediction-map", option(names2), "--output", str(out)], check=True)
    organs = {o["organ"]: o for o in json.loads(out.read_text())["organs"]}
    heart1 = v1 == [k for k, v in names1.items() if v == "Heart"][0]
    heart2 = v2 == [k for k, v in names2.items() if v == "Heart"][0]
    assert organs["Heart"]["dice_annotators"] == pytest.approx(metrics.dice(heart2, heart1), rel=1e-12)
    assert organs["Heart"]["dice_prediction_reference2"] == pytest.approx(1.0)
    assert organs["Heart"]["dice_either_annotator"] == pytest.approx(1.0)
    assert organs["Bladder"]["hd95_mm"] is None


def test_maps_on_different_grids_are_refused(maps, tmp_path):
    other = os.path.join(MAPS, "rosenhain_ct140_organs.nii.gz")
    out = tmp_path / "table.csv"
    run = subprocess.run([CLI, "evaluate", "--reference", V1, "--prediction", other, "--output", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "is not on the grid of" in run.stderr and "dims" in run.stderr
    assert not out.exists()


def test_either_annotator_dice_against_numpy(maps, tmp_path):
    """A non-trivial case: v2 as the prediction, v1 and v1 moved by one voxel as the annotators;
    the voxel-wise rule (right when equal to either annotator) counted in numpy."""
    v1, v2, names1, names2, spacing = maps
    image = nib.load(V1)
    moved = np.roll(v1, 1, axis=0)
    moved_path = tmp_path / "v1_moved.nii.gz"
    nib.save(nib.Nifti1Image(moved.astype(np.uint8), image.affine, image.header), str(moved_path))
    out = tmp_path / "table.json"
    subprocess.run([CLI, "evaluate", "--reference", V1, "--map", option(names1), "--reference2", str(moved_path),
                    "--reference2-map", option(names1), "--prediction", V2, "--prediction-map", option(names2),
                    "--output", str(out)], check=True)
    organs = {o["organ"]: o for o in json.loads(out.read_text())["organs"]}
    # Everything in v1's numbering: v2's labels renamed to v1's ids (unmatched names: 0).
    rename = np.zeros(256, np.int64)
    by_name1 = {v: k for k, v in names1.items()}
    for label, name in names2.items():
        rename[label] = by_name1.get(name, 0)
    p = rename[v2]
    right = (p == v1) | (p == moved)
    for organ in ["Heart", "Liver", "Lung"]:
        k = by_name1[organ]
        tp = np.count_nonzero((p == k) & right)
        fp = np.count_nonzero((p == k) & ~right)
        fn = np.count_nonzero((p != k) & ((v1 == k) | (moved == k)) & ~right)
        expected = (2 * tp + 1e-5) / (2 * tp + fp + fn + 1e-5)
        assert organs[organ]["dice_either_annotator"] == pytest.approx(expected, rel=1e-12), organ
        assert organs[organ]["dice_annotators"] == pytest.approx(metrics.dice(moved == k, v1 == k), rel=1e-12)
        assert organs[organ]["dice_either_annotator"] >= organs[organ]["dice"] - 1e-12


def test_names_from_an_itksnap_label_file(maps, tmp_path):
    """--labels-ref: the reference's names from an ITK-SNAP label description file, as aimos
    segment --itksnap-labels writes them; the result equals the --map one."""
    v1, v2, names1, names2, spacing = maps
    lines = ["# ITK-SNAP Label Description File", '    0     0    0    0        0  0  0    "Clear Label"']
    lines += [f'{label:5d}   255    0    0        1  1  1    "{name}"' for label, name in sorted(names1.items())]
    labels_file = tmp_path / "v1_labels.txt"
    labels_file.write_text("\n".join(lines) + "\n")
    common = ["--prediction", V2, "--prediction-map", option(names2)]
    by_file = subprocess.run([CLI, "evaluate", "--reference", V1, "--labels-ref", str(labels_file)] + common,
                             capture_output=True, text=True, check=True).stdout
    by_map = subprocess.run([CLI, "evaluate", "--reference", V1, "--map", option(names1)] + common,
                            capture_output=True, text=True, check=True).stdout
    assert by_file == by_map and "Heart" in by_file
