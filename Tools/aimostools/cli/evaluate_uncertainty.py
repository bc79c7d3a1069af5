#!/usr/bin/env python3
"""Scores predicted annotator-disagreement heatmaps (aimos segment --uncertainty) against the
real disagreement of a dataset's two annotations, as the paper does for dual-annotation
training: Dice between the heatmap thresholded at 0.5 and the voxels where labels and labels2
differ, per case.

    aimos-evaluate-uncertainty --heatmaps DIR --data DATASET_DIR [--threshold 0.5] \
        [--markdown table.md]

Heatmaps are <case id>_uncertainty.nii.gz on the scan's grid. Cases without labels2 are skipped
(named on stderr). Also reports the share of the real disagreement inside the predicted one
(sensitivity) and the share of the prediction that is real disagreement (precision).
"""
import argparse
import os
import sys

import nibabel as nib
import numpy as np

from aimostools.evaluation import metrics
from aimostools.training import data as training_data


def score(heatmap, labels, labels2, threshold=0.5):
    """(Dice, sensitivity, precision) of heatmap >= threshold against labels != labels2."""
    predicted = heatmap >= threshold
    real = labels != labels2
    overlap = int(np.logical_and(predicted, real).sum())
    sensitivity = overlap / real.sum() if real.any() else float("nan")
    precision = overlap / predicted.sum() if predicted.any() else float("nan")
    return metrics.dice(predicted, real), sensitivity, precision


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--heatmaps", required=True, help="directory of <case id>_uncertainty.nii.gz")
    p.add_argument("--data", action="append", required=True, help="dataset directory (repeatable)")
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--markdown", default=None, help="Markdown table of the per-case scores")
    args = p.parse_args(argv)
    rows = []
    for case in training_data.read_datasets(args.data):
        path = os.path.join(args.heatmaps, f"{case.id}_uncertainty.nii.gz")
        if case.labels2_path is None or not os.path.exists(path):
            print(f"{case.id}: skipped ({'no labels2' if case.labels2_path is None else 'no heatmap'})", file=sys.stderr)
            continue
        heatmap = np.asarray(nib.load(path).dataobj, dtype=np.float32)
        labels, _ = training_data.load_nifti_xyz(case.labels_path, np.uint8)
        labels2, _ = training_data.load_nifti_xyz(case.labels2_path, np.uint8)
        if heatmap.shape != labels.shape:
            sys.exit(f"{path}: grid {heatmap.shape} differs from the labels' {labels.shape}")
        rows.append((case.id,) + score(heatmap, labels, labels2, args.threshold))
    if not rows:
        sys.exit("no case with a heatmap and two annotations")
    lines = [f"| case | Dice at {args.threshold} (%) | sensitivity (%) | precision (%) |", "|---|---:|---:|---:|"]
    lines += [f"| {r[0]} | {100 * r[1]:.1f} | {100 * r[2]:.1f} | {100 * r[3]:.1f} |" for r in rows]
    means = np.nanmean(np.array([r[1:] for r in rows], dtype=float), axis=0)
    lines.append(f"| **mean** | {100 * means[0]:.1f} | {100 * means[1]:.1f} | {100 * means[2]:.1f} |")
    table = "\n".join(lines) + "\n"
    print(table, end="")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
