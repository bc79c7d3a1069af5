#!/usr/bin/env python3
"""Converts official AIMOS PyTorch checkpoints (torch.save files such as NACTmodel.pt from the
Harvard Dataverse, doi:10.7910/DVN/G6VLZN) into the safetensors model file that libaimos loads.

Needs Python 3 and numpy only: the checkpoint is read without PyTorch, by an unpickler that
rebuilds tensors and plain data and refuses anything else, so a hostile file cannot run code.
"""
import argparse
import os
import sys

from aimostools.checkpoint.torch_file import CheckpointError
from aimostools.checkpoint.architecture import ARCHITECTURES, CROPS
from aimostools.checkpoint.class_ids import load_class_names
from aimostools.checkpoint.convert import OUTPUT_DTYPES, ConversionError, convert
from aimostools.layout.orientation_codes import PUBLISHED

EXIT_OK, EXIT_WRITE_FAILED, EXIT_BAD_INPUT = 0, 1, 2

EPILOG = """\
class names:
  Output channel c of the network is class c, and channel 0 is the background. Either list
  them all with --classes (background first), or give AIMOS's trainingCIDs file (the pickled
  dict class name -> id that AIMOS_prepare_custom_data.py writes as trainingCIDs.pickledump);
  then the background is added as class 0.

examples:
  convert_checkpoint.py --architecture Unet768 --class-ids data/NACT/trainingCIDs.pickledump \\
      -o nact.safetensors NACTmodel.pt
  convert_checkpoint.py --architecture Unet768 --dtype F16 -o ensemble.safetensors \\
      --classes background,Brain,Heart,Lung,Liver,Kidney,Spleen,Bladder m1.pt m2.pt m3.pt

slice layout:
  The published models were trained on slices with the head at the top row, the animal's
  left to the right (the scans' x) and slice indices from belly to back: code TLD, on the
  whole field of view. Give --orientation and --crop for networks trained otherwise.

voxel size:
  --voxel-size-mm records the (isotropic) voxel size of the scans the network was trained on;
  aimos takes it as the default grid when it streams a light-sheet stack down to a coarser one.
  Not written unless given.

exit status:
  0  the model file was written
  1  the model file could not be written (disk, permissions)
  2  bad input: unreadable, refused or mismatching checkpoint, bad class list or option;
     nothing is written
"""


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="aimos-convert", description=__doc__, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", metavar="CKPT", nargs="+",
                        help="torch.save checkpoint (zip or legacy format); several make one ensemble "
                             "file (members in this order; their probabilities are combined by median)")
    parser.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    parser.add_argument("--architecture", required=True, choices=ARCHITECTURES,
                        help="the U-Net the checkpoints were trained as (AIMOS's default: Unet768)")
    names = parser.add_mutually_exclusive_group(required=True)
    names.add_argument("--classes", help="comma-separated class names, background first")
    names.add_argument("--class-ids", metavar="FILE", help="AIMOS's trainingCIDs pickle (names by class id)")
    parser.add_argument("--uncertainty", action="store_true",
                        help="the classifier has one extra, last output: the annotator-disagreement heatmap")
    parser.add_argument("--input-size", type=int, default=256,
                        help="side of the square slices the network was trained on (default: 256)")
    parser.add_argument("--slice-axis", type=int, default=2, choices=(0, 1, 2),
                        help="volume axis the network slices along: 2 = z, AIMOS's coronal slices (default: 2)")
    parser.add_argument("--orientation", metavar="CODE", default=PUBLISHED,
                        help="anatomical layout of the training slices (rows, columns, slice index), one "
                             f"letter each of H/T, L/R, D/V (default: {PUBLISHED}, the published models)")
    parser.add_argument("--crop", default="none", choices=CROPS,
                        help="body: trained on slices cut from the animal's box; none: the whole field "
                             "of view (default: none, the published models)")
    parser.add_argument("--voxel-size-mm", type=float, default=None, metavar="MM",
                        help="voxel size in mm of the training scans (isotropic; > 0); written as "
                             "voxel_size_mm (default: not written)")
    parser.add_argument("--dtype", default="F32", choices=OUTPUT_DTYPES,
                        help="storage type of the weights in the model file (default: F32)")
    return parser.parse_args(argv)


def main(argv=None):
    """Runs the converter; returns the exit status."""
    args = parse_arguments(argv)
    try:
        if args.class_ids:
            classes = load_class_names(args.class_ids)
        else:
            classes = [name.strip() for name in args.classes.split(",")]
        metadata = convert(args.checkpoints, args.output, args.architecture, classes,
                           uncertainty=args.uncertainty, input_size=args.input_size,
                           slice_axis=args.slice_axis, dtype=args.dtype, orientation=args.orientation,
                           crop=args.crop, voxel_size_mm=args.voxel_size_mm)
    except (CheckpointError, ConversionError) as error:
        print(f"convert_checkpoint.py: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"convert_checkpoint.py: error: cannot write {args.output}: {error.strerror or error}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    members = metadata["ensemble_members"]
    print(f"wrote {args.output}: {metadata['architecture']}, {members} member{'s' if members > 1 else ''}, "
          f"{len(classes)} classes ({', '.join(classes)}){', with uncertainty' if args.uncertainty else ''}, "
          f"{args.dtype}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
