"""Tests of the paper's metrics (aimostools/evaluation/metrics.py) and of the evaluation tool
(aimos-evaluate) on small hand-made masks and a dataset written here:

    python3 -m pytest -q Tools/tests/evaluation/test_metrics.py
"""
import csv
import json
import math
import os
import subprocess
import sys

import nibabel
import numpy as np
import pytest

import torch

TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from aimostools.evaluation import cases as evaluation
from aimostools.evaluation import metrics
from aimostools.unet import reference
from aimostools.training import data as training_data
from aimostools.training import model_file as training_model_file

CLASSES = ["background", "Brain", "Heart", "Lung", "Liver", "Kidney", "Spleen", "Bladder", "Stomach",
           "Intestine", "Bone"]


def cube(shape=(30, 30, 30), start=(8, 8, 8), size=(10, 10, 10)):
    mask = np.zeros(shape, bool)
    mask[tuple(slice(s, s + n) for s, n in zip(start, size))] = True
    return mask


# --- metrics -----------------------------------------------------------------------------

def test_dice_of_identical_disjoint_partial_and_empty_masks():
    a = cube()
    assert metrics.dice(a, a) == 1.0
    assert metrics.dice(a, cube(start=(20, 20, 20), size=(5, 5, 5))) < 1e-7
    half = cube(size=(5, 10, 10))  # the first half of a
    assert metrics.dice(half, a) == pytest.approx(2 * 500 / (500 + 1000), abs=1e-8)
    empty = np.zeros_like(a)
    assert metrics.dice(empty, empty) == 1.0  # eps / eps, as the paper's formula gives
    assert metrics.dice(empty, a) < 1e-7


@pytest.mark.parametrize("axis,shift", [(0, 3), (1, 2), (2, 4)])
def test_hd95_and_com_of_a_shifted_mask_are_the_shift_in_mm(axis, shift):
    spacing = (0.5, 0.3, 0.2)
    reference_mask = cube()
    start = [8, 8, 8]
    start[axis] += shift
    shifted = cube(start=tuple(start))
    expected = shift * spacing[axis]
    distances = metrics.hausdorff_percentiles(shifted, reference_mask, spacing, (50, 95, 100))
    assert distances[95] == pytest.approx(expected, abs=1e-9)
    assert distances[100] == pytest.approx(expected, abs=1e-9)
    assert distances[50] < expected  # most surface voxels of the sides stay in place
    assert metrics.center_of_mass_displacement(shifted, reference_mask, spacing) == pytest.approx(expected)
    assert metrics.hausdorff_percentiles(reference_mask, shifted, spacing)[95] == pytest.approx(expected)


def test_hd_is_zero_for_identical_masks_and_nan_when_a_mask_is_empty():
    a = cube()
    assert metrics.hausdorff_percentiles(a, a, (1, 1, 1))[95] == 0.0
    empty = np.zeros_like(a)
    assert math.isnan(metrics.hausdorff_percentiles(empty, a, (1, 1, 1))[95])
    assert math.isnan(metrics.center_of_mass_displacement(a, empty, (1, 1, 1)))


def test_hd_uses_surfaces_not_volumes():
    outer = cube(start=(5, 5, 5), size=(20, 20, 20))
    inner = cube(start=(9, 9, 9), size=(12, 12, 12))
    # every inner surface voxel is 4 voxels from the outer surface (0 from the outer volume)
    assert np.all(metrics.surface_distances(inner, outer, (1, 1, 1)) == 4.0)
    d = metrics.hausdorff_percentiles(inner, outer, (1, 1, 1), (100,))[100]
    assert d == pytest.approx(4 * math.sqrt(3))  # the outer corner to the inner corner


def test_volume_error_of_a_known_case():
    truth = cube(size=(10, 10, 10))       # 1000 voxels
    bigger = cube(size=(12, 10, 10))      # 1200 voxels
    assert metrics.volume_error_percent(bigger, truth) == pytest.approx(20.0)
    assert metrics.volume_error_percent(truth, bigger) == pytest.approx(-100 * 200 / 1200)
    assert math.isnan(metrics.volume_error_percent(truth, np.zeros_like(truth)))
    row = metrics.organ_metrics(bigger, truth, (0.5, 0.5, 0.5))
    assert row["volume_reference_mm3"] == pytest.approx(125.0) and row["volume_prediction_mm3"] == pytest.approx(150.0)


# --- the evaluation tool -----------------------------------------------------------------

def write_dataset(directory, cases):
    """cases: {id: (scan, labels)} in (x, y, z); 0.5 x 0.5 x 1 mm voxels."""
    os.makedirs(directory, exist_ok=True)
    affine = np.diag([0.5, 0.5, 1.0, 1.0])
    entries = []
    for case_id, (scan, labels) in cases.items():
        entries.append({"id": case_id, "subject": case_id.split("_")[0], "source_map": "toy", "modality": "ct",
                        "seed": 0, "spacing_mm": [0.5, 0.5, 1.0], "scan": f"{case_id}_scan.nii.gz",
                        "labels": f"{case_id}_labels.nii.gz"})
        nibabel.save(nibabel.Nifti1Image(scan.astype(np.float32), affine), os.path.join(directory, entries[-1]["scan"]))
        nibabel.save(nibabel.Nifti1Image(labels.astype(np.uint8), affine), os.path.join(directory, entries[-1]["labels"]))
    with open(os.path.join(directory, "dataset.json"), "w") as f:
        json.dump({"classes": CLASSES, "cases": entries}, f)
    return affine


def toy_labels(shift=0):
    labels = np.zeros((20, 16, 10), np.uint8)
    labels[3 + shift:9 + shift, 4:10, 2:7] = CLASSES.index("Heart")
    labels[11:17, 3:12, 3:8] = CLASSES.index("Liver")
    return labels


def read_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_evaluate_scores_prediction_files_by_class_name(tmp_path):
    data, predictions = str(tmp_path / "data"), tmp_path / "predictions"
    truth = toy_labels()
    affine = write_dataset(data, {"m1_s0": (truth * 10.0, truth), "m2_s0": (truth * 10.0, truth)})
    predictions.mkdir()
    # predictions hold indices into their own class list: background, Liver, Heart
    pred_classes = ["background", "Liver", "Heart"]
    exact = np.select([truth == 2, truth == 4], [2, 1], 0).astype(np.uint8)
    shifted_truth = toy_labels(shift=2)
    shifted = np.select([shifted_truth == 2, shifted_truth == 4], [2, 1], 0).astype(np.uint8)
    nibabel.save(nibabel.Nifti1Image(exact, affine), str(predictions / "m1_s0_pred.nii.gz"))
    nibabel.save(nibabel.Nifti1Image(shifted, affine), str(predictions / "m2_s0_pred.nii.gz"))
    out, table = str(tmp_path / "metrics.csv"), str(tmp_path / "table.md")
    process = subprocess.run(
        [sys.executable, "-m", "aimostools.cli.evaluate", "--predictions", str(predictions), "--data", data,
         "--pred-classes", ",".join(pred_classes), "--out", out, "--markdown", table],
        capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    rows = {(r["case"], r["organ"]): r for r in read_rows(out)}
    assert set(rows) == {("m1_s0", "Heart"), ("m1_s0", "Liver"), ("m2_s0", "Heart"), ("m2_s0", "Liver")}
    assert float(rows["m1_s0", "Heart"]["dice"]) == 1.0 and float(rows["m1_s0", "Liver"]["hd95_mm"]) == 0.0
    heart = rows["m2_s0", "Heart"]
    assert float(heart["dice"]) == pytest.approx(2 * 4 / 12, abs=1e-6)   # 6 rows, shifted by 2
    assert float(heart["hd95_mm"]) == pytest.approx(1.0)                  # 2 voxels of 0.5 mm
    assert float(heart["com_mm"]) == pytest.approx(1.0)
    assert float(heart["volume_error_pct"]) == 0.0
    assert float(rows["m2_s0", "Liver"]["dice"]) == 1.0
    with open(table) as f:
        text = f.read()
    assert text.startswith("| Organ | Cases | Dice mean (%)")
    heart_line = next(line for line in text.splitlines() if line.startswith("| Heart |"))
    assert f"| {100 * (1 + 2 / 3) / 2:.1f} |" in heart_line


def test_evaluate_with_the_python_engine_predicts_and_scores(tmp_path):
    data = str(tmp_path / "data")
    truth = toy_labels()
    rng = np.random.default_rng(0)
    write_dataset(data, {"m1_s0": (truth * 100.0 + rng.normal(0, 5, truth.shape), truth)})
    torch.manual_seed(0)
    net = reference.AimosUNet("Unet64", 3)
    model = str(tmp_path / "model.safetensors")
    training_model_file.export_model(
        model, net.state_dict(), training_model_file.model_metadata("Unet64", ["background", "Heart", "Liver"], 32, False, 2))
    saved, out = tmp_path / "saved", str(tmp_path / "metrics.csv")
    process = subprocess.run(
        [sys.executable, "-m", "aimostools.cli.evaluate", "--engine", "python", "--model", model, "--data", data,
         "--cases", "m1_s0", "--save-predictions", str(saved), "--threads", "1", "--out", out],
        capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    predicted = np.asarray(nibabel.load(str(saved / "m1_s0_pred.nii.gz")).dataobj)
    nets, metadata = training_model_file.load_networks(model)
    scan, _ = training_data.load_nifti_xyz(os.path.join(data, "m1_s0_scan.nii.gz"), np.float32)
    expected = reference.segment(training_data.xyz_to_zyx(scan), nets, metadata["classes"], 32, 2, False)[0]
    assert np.array_equal(predicted, expected.transpose(2, 1, 0))
    rows = read_rows(out)
    assert [r["organ"] for r in rows] == ["Heart", "Liver"]
    heart = predicted == 1
    assert float(rows[0]["dice"]) == pytest.approx(metrics.dice(heart, truth == 2), abs=1e-5)


def test_the_python_engine_refuses_a_model_trained_on_body_crops(tmp_path):
    data = str(tmp_path / "data")
    truth = toy_labels()
    write_dataset(data, {"m1_s0": (truth * 100.0, truth)})
    model = str(tmp_path / "cropped.safetensors")
    metadata = training_model_file.model_metadata("Unet64", ["background", "Heart", "Liver"], 32, False, 2, crop="body")
    training_model_file.export_model(model, reference.AimosUNet("Unet64", 3).state_dict(), metadata)
    out = tmp_path / "metrics.csv"
    process = subprocess.run(
        [sys.executable, "-m", "aimostools.cli.evaluate", "--engine", "python", "--model", model, "--data", data,
         "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert process.returncode != 0 and "crop 'body'" in process.stderr and "--predictions" in process.stderr
    assert not out.exists()


def test_evaluate_reports_a_missing_prediction(tmp_path):
    data = str(tmp_path / "data")
    truth = toy_labels()
    write_dataset(data, {"m1_s0": (truth * 1.0, truth)})
    (tmp_path / "empty").mkdir()
    process = subprocess.run(
        [sys.executable, "-m", "aimostools.cli.evaluate", "--predictions", str(tmp_path / "empty"), "--data", data,
         "--cases", "m1_s0", "--out", str(tmp_path / "m.csv")], capture_output=True, text=True, timeout=60)
    assert process.returncode == 2 and "no prediction for: m1_s0" in process.stderr


def test_organ_summary_and_markdown_leave_undefined_values_out():
    rows = [{"case": "a", "subject": "a", "organ": "Heart", "dice": 0.8, "hd50_mm": 0.5, "hd95_mm": 2.0,
             "com_mm": 1.0, "volume_reference_mm3": 1.0, "volume_prediction_mm3": 1.1, "volume_error_pct": 10.0},
            {"case": "b", "subject": "b", "organ": "Heart", "dice": 1e-9, "hd50_mm": math.nan, "hd95_mm": math.nan,
             "com_mm": math.nan, "volume_reference_mm3": 1.0, "volume_prediction_mm3": 0.0, "volume_error_pct": -100.0}]
    summary = evaluation.organ_summary(rows)
    assert summary[0]["cases"] == 2 and summary[0]["dice_mean"] == pytest.approx(0.4)
    assert summary[0]["hd95_mm_mean"] == 2.0 and summary[0]["abs_volume_error_pct_mean"] == pytest.approx(55.0)
    assert "| Heart | 2 | 40.0 | 40.0 | 2.00 | 1.00 | -45.0 | 55.0 |" in evaluation.markdown_table(summary)
