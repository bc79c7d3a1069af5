#!/usr/bin/env python3
"""Scores label predictions against a dataset's annotations with the paper's metrics: per case
and organ Dice, HD50/HD95 and centre-of-mass displacement in mm, volume error in %; writes them
as CSV and a per-organ mean table in Markdown (for MODELS.md).

    aimos-evaluate --predictions DIR_OR_FILES --data DATASET_DIR [--cases id,id] \
        --out metrics.csv [--markdown table.md] [--model model.safetensors]

Predictions are label NIfTIs <case id>_pred.nii.gz on the scan's grid, holding indices into the
model's class list: give --model (its metadata lists the classes) or --pred-classes, else the
dataset's class list is assumed. With --engine python the cases are predicted here by the PyTorch
reference of the published inference (aimostools.unet.reference.segment) from --model; add
--save-predictions DIR to keep those label maps.
"""
import argparse
import os
import sys

import torch

from aimostools.evaluation import cases as evaluation
from aimostools.training import data as training_data
from aimostools.training import model_file as training_model_file


def comma_list(text):
    return [s for s in text.split(",") if s]


def parse_arguments(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--predictions", nargs="+", default=[], help="directories or <id>_pred.nii.gz files")
    p.add_argument("--data", action="append", required=True, help="dataset directory (repeatable)")
    p.add_argument("--cases", type=comma_list, default=None, help="comma-separated case ids (default: all)")
    p.add_argument("--engine", default="files", choices=["files", "python"],
                   help="files: read --predictions; python: predict with the PyTorch reference")
    p.add_argument("--model", default=None, help="model file (classes of the predictions; the network for --engine python)")
    p.add_argument("--pred-classes", type=comma_list, default=None, help="class list of the predictions")
    p.add_argument("--reference", default="labels", choices=["labels", "labels2"], help="annotation to score against")
    p.add_argument("--save-predictions", default=None, help="with --engine python: directory for the label maps")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", required=True, help="CSV file of per-case, per-organ metrics")
    p.add_argument("--markdown", default=None, help="Markdown file of the per-organ means")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        cases = training_data.read_datasets(args.data)
        if args.cases:
            known = {c.id for c in cases}
            missing = [c for c in args.cases if c not in known]
            if missing:
                raise ValueError(f"unknown cases: {', '.join(missing)}")
            cases = [c for c in cases if c.id in args.cases]
        nets = metadata = None
        if args.model:
            nets, metadata = training_model_file.load_networks(args.model)
        classes = metadata["classes"] if metadata else (args.pred_classes or cases[0].classes)
        if args.engine == "python":
            if not args.model:
                raise ValueError("--engine python needs --model")
            if metadata.get("crop", "none") != "none":
                # The reference is the published inference, which cuts the whole field of view;
                # scoring a crop-trained model with it would report numbers the engine never gives.
                raise ValueError(f"{args.model} declares crop '{metadata['crop']}', which the python engine does not "
                                 "apply: score the aimos command's predictions instead (--predictions)")
            if args.save_predictions:
                os.makedirs(args.save_predictions, exist_ok=True)
        else:
            predictions = evaluation.index_predictions(
                [item for entry in args.predictions for item in entry.split(",") if item])
            absent = [c.id for c in cases if c.id not in predictions]
            if absent and args.cases:
                raise ValueError(f"no prediction for: {', '.join(absent)}")
            if absent:
                print(f"not scored (no prediction): {', '.join(absent)}", flush=True)
            cases = [c for c in cases if c.id in predictions]
            if not cases:
                raise ValueError("no prediction matches a case of the dataset")
        rows = []
        for case in cases:
            if args.engine == "python":
                labels = evaluation.predict_with_reference(case, nets, metadata)
                if args.save_predictions:
                    evaluation.save_prediction(labels, case, args.save_predictions)
            else:
                labels, _ = training_data.load_nifti_xyz(predictions[case.id], "uint8")
            case_rows = evaluation.evaluate_case(case, labels, classes, args.reference)
            rows += case_rows
            scores = ", ".join(f"{r['organ']} {r['dice']:.3f}" for r in case_rows)
            print(f"{case.id}: Dice {scores}", flush=True)
    except ValueError as error:
        print(f"evaluate.py: {error}", file=sys.stderr)
        return 2
    evaluation.write_csv(rows, args.out)
    table = evaluation.markdown_table(evaluation.organ_summary(rows))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
