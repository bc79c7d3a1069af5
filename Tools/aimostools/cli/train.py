#!/usr/bin/env python3
"""Trains an AIMOS model on project datasets (aimos-synthesize output) and writes the model
file the aimos engine loads (safetensors + metadata `aimos`).

    aimos-train --data DIR [--data DIR2] --architecture Unet64 --input-size 128 \
        --epochs 30 --batch-size 32 --seed 1 --val-subjects digimouse --out model.safetensors \
        [--test-subjects rosenhain_a] [--classes-present-only] [--pretrained P.safetensors] \
        [--dual-annotation] [--max-slices-per-case K] [--crop body] [--classes A,B] [--threads T] \
        [--log train_log.csv] [--voxel-size-mm 0.25] [--time-limit-minutes M] [--workers N] [--bf16]

Splits are by subject (animal), never by scan: validation subjects choose the best epoch,
test subjects are left out entirely (evaluate them with aimos-evaluate). On CPU the run is
seeded and deterministic; CUDA is used when available (--device cpu forces the CPU).
The model file states its slices' layout ("orientation", from --slice-axis and the datasets'
synthesis layout), whether they were cut from the animal's box ("crop", --crop) and, with
--voxel-size-mm, the training scans' voxel size ("voxel_size_mm").
"""
import argparse
import os
import sys

import torch

from aimostools.unet import reference
from aimostools.training import procedure as training
from aimostools.checkpoint.architecture import CROPS, check_voxel_size_mm


def subject_list(text):
    return [s for s in text.split(",") if s]


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def voxel_size_mm(text):
    try:
        return check_voxel_size_mm(float(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_arguments(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", action="append", required=True, help="dataset directory (repeatable)")
    p.add_argument("--architecture", default="Unet768", choices=sorted(reference.WIDTHS))
    p.add_argument("--input-size", type=int, default=256, help="model grid (slices are resized to it)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--val-subjects", type=subject_list, default=None,
                   help="comma-separated validation subjects (default: one drawn with the seed; '' for none)")
    p.add_argument("--test-subjects", type=subject_list, default=None,
                   help="comma-separated subjects left out of training and validation")
    p.add_argument("--slice-axis", type=int, default=2, choices=[0, 1, 2])
    p.add_argument("--crop", default="none", choices=CROPS,
                   help="body: cut every volume to the animal's box before slicing, as the engine does "
                        "at inference for such a model; none: the whole field of view (default)")
    p.add_argument("--voxel-size-mm", type=voxel_size_mm, default=None, metavar="MM",
                   help="voxel size in mm (isotropic) of the training scans, recorded in the model file as "
                        "voxel_size_mm: aimos's default grid when it streams a light-sheet stack down to a "
                        "coarser one. Scans synthesised over a spacing range (--spacing-range A B): give the "
                        "finest, A (default: not recorded)")
    p.add_argument("--max-slices-per-case", type=int, default=None,
                   help="keep at most K organ slices per case, evenly spaced")
    p.add_argument("--classes-present-only", action="store_true",
                   help="keep only the classes that occur in the training labels")
    p.add_argument("--classes", type=subject_list, default=None,
                   help="comma-separated organs to train (others become background), e.g. the light-sheet set "
                        "Brain,Heart,Lung,Liver,Kidney,Spleen")
    p.add_argument("--pretrained", default=None, help="model file to fine-tune (its classifier is replaced)")
    p.add_argument("--dual-annotation", action="store_true",
                   help="train organs on the annotators' agreement and an uncertainty channel on their disagreement")
    p.add_argument("--activation", default="softmax", choices=["softmax", "sigmoid"],
                   help="probabilities inside the soft-Dice loss (softmax: the published loss)")
    p.add_argument("--no-augmentation", action="store_true", help="switch off rotation and crop")
    p.add_argument("--dtype", default="F32", choices=["F32", "F16"], help="storage of the exported tensors")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch")
    p.add_argument("--time-limit-minutes", type=positive_float, default=None, metavar="M",
                   help="stop before an epoch that, as long as the last, would end past M minutes of "
                        "training (the epochs done are recorded in the model file)")
    p.add_argument("--workers", type=int, default=1, help="processes that read the datasets into slices")
    p.add_argument("--bf16", action="store_true",
                   help="forward pass in bfloat16 autocast (for a GPU; weights and loss stay float32)")
    p.add_argument("--log", default=None, help="CSV file with the losses of every epoch")
    p.add_argument("--out", required=True, help="model file to write (.safetensors)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        torch.use_deterministic_algorithms(True)
    else:
        torch.backends.cudnn.benchmark = True  # fixed slice size: let cuDNN pick its fastest convolutions
    options = training.TrainingOptions(
        architecture=args.architecture, input_size=args.input_size, epochs=args.epochs,
        batch_size=args.batch_size, seed=args.seed, learning_rate=args.learning_rate,
        slice_axis=args.slice_axis, max_slices_per_case=args.max_slices_per_case,
        classes_present_only=args.classes_present_only, only_classes=args.classes, dual_annotation=args.dual_annotation,
        activation=args.activation, augment=not args.no_augmentation, device=device, crop=args.crop,
        voxel_size_mm=args.voxel_size_mm, time_limit_minutes=args.time_limit_minutes,
        workers=args.workers, bf16=args.bf16)
    print(f"training {args.architecture} at {args.input_size}x{args.input_size} on {device}", flush=True)
    try:
        training.train_from_datasets(args.data, options, args.out, args.val_subjects, args.test_subjects,
                                     args.pretrained, args.dtype, log=lambda m: print(m, flush=True),
                                     log_csv=args.log)
    except ValueError as error:
        print(f"train.py: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
