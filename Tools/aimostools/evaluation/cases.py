"""Evaluation of label predictions against a dataset's annotations: one row of metrics per case
and organ (aimostools.evaluation.metrics), a per-organ summary and its Markdown table.

As in the paper, a case is scored for the organs its reference annotation contains; organs the
prediction's class list lacks are not scored (a model trained on fewer organs is judged on its
own organs). Organs are matched by class name, so prediction and dataset class lists may differ.
"""
import csv
import math
import os

import nibabel
import numpy as np

from aimostools.evaluation import metrics
from aimostools.unet import reference
from aimostools.training import data as training_data

PREDICTION_SUFFIX = "_pred.nii.gz"
CSV_COLUMNS = ["case", "subject", "organ", "dice", "hd50_mm", "hd95_mm", "com_mm",
               "volume_reference_mm3", "volume_prediction_mm3", "volume_error_pct"]


def index_predictions(items):
    """case id -> prediction file, from directories (holding <id>_pred.nii.gz) and files."""
    found = {}
    for item in items:
        paths = ([os.path.join(item, name) for name in sorted(os.listdir(item))] if os.path.isdir(item) else [item])
        for path in paths:
            name = os.path.basename(path)
            if name.endswith(PREDICTION_SUFFIX):
                found[name[:-len(PREDICTION_SUFFIX)]] = path
            elif not os.path.isdir(item):
                raise ValueError(f"{path}: prediction files are named <case id>{PREDICTION_SUFFIX}")
    return found


def predict_with_reference(case, nets, metadata):
    """Labels (x, y, z) of the case's scan by the PyTorch reference of the published inference."""
    scan_xyz, _ = training_data.load_nifti_xyz(case.scan_path, np.float32)
    labels_zyx = reference.segment(training_data.xyz_to_zyx(scan_xyz), nets, metadata["classes"],
                                   int(metadata.get("input_size", 256)), int(metadata.get("slice_axis", 2)),
                                   bool(metadata.get("uncertainty", False)))[0]
    return np.ascontiguousarray(labels_zyx.transpose(2, 1, 0))


def save_prediction(labels_xyz, case, directory):
    """Writes <id>_pred.nii.gz (uint8) on the scan's grid and affine."""
    scan = nibabel.load(case.scan_path)
    image = nibabel.Nifti1Image(labels_xyz.astype(np.uint8), scan.affine)
    image.header.set_zooms(scan.header.get_zooms()[:3])
    path = os.path.join(directory, case.id + PREDICTION_SUFFIX)
    nibabel.save(image, path)
    return path


def evaluate_case(case, prediction_xyz, prediction_classes, reference_key="labels"):
    """Metric rows (dicts with CSV_COLUMNS) of one case, one per organ of its reference."""
    path = case.labels_path if reference_key == "labels" else case.labels2_path
    if path is None:
        raise ValueError(f"{case.id} has no {reference_key}")
    truth, spacing = training_data.load_nifti_xyz(path, np.uint8)
    if prediction_xyz.shape != truth.shape:
        raise ValueError(f"{case.id}: prediction grid {prediction_xyz.shape} differs from the annotation's {truth.shape}")
    rows = []
    for organ_index, organ in enumerate(case.classes):
        if organ_index == 0 or organ not in prediction_classes[1:]:
            continue
        truth_mask = truth == organ_index
        if not truth_mask.any():
            continue
        predicted_mask = prediction_xyz == prediction_classes.index(organ)
        row = {"case": case.id, "subject": case.subject, "organ": organ}
        row.update(metrics.organ_metrics(predicted_mask, truth_mask, spacing))
        rows.append(row)
    return rows


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def nan_mean(values):
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def organ_summary(rows):
    """Per organ (first-seen order): cases, mean and median Dice, mean HD95, mean CoM
    displacement, mean signed and mean absolute volume error; undefined values (NaN) left out."""
    organs = list(dict.fromkeys(row["organ"] for row in rows))
    summary = []
    for organ in organs:
        own = [row for row in rows if row["organ"] == organ]
        dices = [row["dice"] for row in own]
        errors = [row["volume_error_pct"] for row in own]
        summary.append({"organ": organ, "cases": len(own), "dice_mean": nan_mean(dices),
                        "dice_median": float(np.median(dices)),
                        "hd95_mm_mean": nan_mean([row["hd95_mm"] for row in own]),
                        "com_mm_mean": nan_mean([row["com_mm"] for row in own]),
                        "volume_error_pct_mean": nan_mean(errors),
                        "abs_volume_error_pct_mean": nan_mean([abs(e) for e in errors])})
    return summary


def markdown_table(summary):
    """The per-organ summary as a Markdown table, with the mean over organs as the last row."""
    def number(value, digits=1):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"

    lines = ["| Organ | Cases | Dice mean (%) | Dice median (%) | HD95 mean (mm) | CoM mean (mm) | "
             "Volume error mean (%) | abs. volume error mean (%) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary:
        lines.append(f"| {s['organ']} | {s['cases']} | {number(100 * s['dice_mean'])} | {number(100 * s['dice_median'])} | "
                     f"{number(s['hd95_mm_mean'], 2)} | {number(s['com_mm_mean'], 2)} | "
                     f"{number(s['volume_error_pct_mean'])} | {number(s['abs_volume_error_pct_mean'])} |")
    if summary:
        mean = {k: nan_mean([s[k] for s in summary]) for k in summary[0] if k not in ("organ", "cases")}
        lines.append(f"| **Mean over organs** | | {number(100 * mean['dice_mean'])} | {number(100 * mean['dice_median'])} | "
                     f"{number(mean['hd95_mm_mean'], 2)} | {number(mean['com_mm_mean'], 2)} | "
                     f"{number(mean['volume_error_pct_mean'])} | {number(mean['abs_volume_error_pct_mean'])} |")
    return "\n".join(lines) + "\n"
