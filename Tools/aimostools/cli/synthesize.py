#!/usr/bin/env python3
r"""Synthesises CT-like or light-sheet-like mouse scans with organ labels from real label maps.

Training / test data (DIR/dataset.json plus NIfTI files, see Tools/aimostools/synthesis/scans.py):

    aimos-synthesize --maps ../shared/data/label-maps/digimouse_atlas.nii.gz \
        ../shared/data/label-maps/rosenhain_organs_a.nii.gz --out /tmp/synth --count 20 \
        --seed 1 --modality mixed --spacing-range 0.1 0.5 --max-dim 256 --second-annotation

Scans as real scanners deliver them (see MODELS.md for every range):

    aimos-synthesize --maps M1 M2 M3 --out /tmp/synth --count 40 --seed 100 \
        --random-intensity 0.4 --scene 0.7 --extra-animals 0.25 --size-range 0.8 1.15

--random-intensity P gives a fraction P of the scans SynthSeg-style random tissue intensities;
--scene P draws bed, tubes, wires, nose cone and reconstruction circle into a fraction P of the
CT scans; --extra-animals P puts one or two more animals (from the maps given) beside the first;
--organ-body P gives a fraction P of the animals of a map with a body outline (Digimouse) a trunk
built around their organs and bones instead, as the organ-only maps get.
--count is the number of scans per map; case k of a map uses seed S+k. With
--pair-annotations, a map named *_v1* whose *_v2* sibling exists (the two real annotations of
rosenhain_ct280) gets that sibling, resampled with the same transform, as its second annotation.
Maps not described in a labels.json beside them need --label-mapping (see aimostools/synthesis/organs.py).

Scans are in one anatomical layout whatever the map's: axis 0 left-right, axis 1 head-tail,
axis 2 dorsal-ventral (AIMOS slices along axis 2 are coronal views).

One small CT-like sample scan for demos (0.5 mm, int16 HU, no
geometric augmentation or artefacts, low noise), fixed by the seed:

    aimos-synthesize --maps ../shared/data/label-maps/digimouse_atlas.nii.gz \
        --sample sample_scan.nii.gz --sample-labels sample_labels.nii.gz --seed 1
"""
import argparse
import os
import sys
import time

import numpy as np

from aimostools.synthesis import scans as synthesis

# The sample must stay small enough to commit (under 1 MB): 0.5 mm voxels, int16 HU. Its air
# keeps its noise, as in the training scans: a model trained on noisy air sees clipped, flat
# air as something new (it then finds organs in it).
SAMPLE_SPACING_MM = 0.5


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--maps", nargs="+", required=True, help="label maps (NIfTI)")
    parser.add_argument("--label-mapping",
                        help="JSON describing the maps' labels (default: labels.json beside each map)")
    parser.add_argument("--out", help="output directory of the dataset")
    parser.add_argument("--count", type=int, default=1, help="scans per map (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first case (default 0)")
    parser.add_argument("--modality", choices=["ct", "lightsheet", "mixed"], default="ct")
    parser.add_argument("--spacing-range", nargs=2, type=float, metavar=("MIN", "MAX"),
                        help="voxel size range in mm (default 0.1 0.5; sample: 0.5 0.5)")
    parser.add_argument("--max-dim", type=int, help="crop the field of view to at most this many voxels per axis")
    parser.add_argument("--second-annotation", action="store_true",
                        help="also write a synthetic second annotation (labels2)")
    parser.add_argument("--pair-annotations", action="store_true",
                        help="use the real *_v2 annotation of a *_v1 map as labels2")
    parser.add_argument("--no-geometry", action="store_true", help="no deformation, rotation, scaling or cropping")
    parser.add_argument("--no-artefacts", action="store_true", help="no ring, streak or stripe artefacts")
    parser.add_argument("--noise-level", choices=["low", "medium", "high"], help="fix the noise level")
    parser.add_argument("--random-intensity", type=float, default=0.0, metavar="P",
                        help="fraction of scans with random tissue intensities (SynthSeg style; default 0)")
    parser.add_argument("--scene", type=float, default=0.0, metavar="P",
                        help="fraction of CT scans with bed, tubes, wires, nose cone, reconstruction circle")
    parser.add_argument("--extra-animals", type=float, default=0.0, metavar="P",
                        help="fraction of scans with one or two more animals beside the first")
    parser.add_argument("--organ-body", type=float, default=0.0, metavar="P",
                        help="fraction of animals of maps with a body outline given a trunk built around "
                             "their organs and bones instead (default 0)")
    parser.add_argument("--body-axis-cut", type=float, default=0.2, metavar="F",
                        help="each end of the body axis is cut off (probability 0.6) by up to this fraction of "
                             "its length (default 0.2; more draws scans of the trunk or abdomen only)")
    parser.add_argument("--elastic-range", nargs=2, type=float, default=(0.2, 1.0), metavar=("MIN", "MAX"),
                        help="amplitude of the elastic deformation in mm, 4-8 mm features (default 0.2 1.0)")
    parser.add_argument("--size-range", nargs=2, type=float, default=(0.9, 1.1), metavar=("MIN", "MAX"),
                        help="scale of the animal (default 0.9 1.1)")
    parser.add_argument("--sample", help="write one CT-like sample scan (int16 HU) to this NIfTI path")
    parser.add_argument("--sample-labels", help="labels of the sample scan")
    args = parser.parse_args(argv)
    if args.sample or args.sample_labels:
        if not (args.sample and args.sample_labels) or len(args.maps) != 1:
            parser.error("--sample needs --sample-labels and exactly one map")
    elif not args.out:
        parser.error("--out is required (or --sample / --sample-labels)")
    if args.count < 1 or args.seed < 0:
        parser.error("--count must be >= 1 and --seed >= 0")
    for name in ("random_intensity", "scene", "extra_animals", "organ_body"):
        if not 0 <= getattr(args, name) <= 1:
            parser.error(f"--{name.replace('_', '-')} must be a fraction between 0 and 1")
    if not 0 <= args.body_axis_cut < 0.5:
        parser.error("--body-axis-cut must be at least 0 and below 0.5 (both ends are cut)")
    if not 0 <= args.elastic_range[0] <= args.elastic_range[1] <= 5:
        parser.error("--elastic-range needs 0 <= MIN <= MAX <= 5 (mm)")
    if not 0 < args.size_range[0] <= args.size_range[1]:
        parser.error("--size-range needs 0 < MIN <= MAX")
    if args.max_dim is not None and args.max_dim < 8:
        parser.error("--max-dim must be at least 8")
    if args.spacing_range and not 0 < args.spacing_range[0] <= args.spacing_range[1]:
        parser.error("--spacing-range needs 0 < MIN <= MAX")
    return args


def partner_path(map_path):
    """The *_v2 sibling of a *_v1 map, or None."""
    directory, name = os.path.split(map_path)
    if "_v1" not in name:
        return None
    candidate = os.path.join(directory, name.replace("_v1", "_v2"))
    return candidate if os.path.exists(candidate) else None


def make_sample(args):
    """The demo sample: a typical CT scan (no augmentation of geometry, no artefacts, low noise)."""
    label_map = synthesis.load_label_map(args.maps[0], args.label_mapping)
    spacing = args.spacing_range or (SAMPLE_SPACING_MM, SAMPLE_SPACING_MM)
    options = synthesis.SynthesisOptions(modality="ct", spacing_range=tuple(spacing), max_dim=args.max_dim,
                                         geometry=False, artefacts=False, noise_level="low")
    started = time.perf_counter()
    case = synthesis.synthesize_case(label_map, args.seed, options)
    for path in (args.sample, args.sample_labels):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    scan = np.round(case.scan).astype(np.int16)
    synthesis.write_nifti(args.sample, scan, case.spacing, False)
    synthesis.write_nifti(args.sample_labels, case.labels, case.spacing, True)
    print(f"{args.sample}: {case.scan.shape} at {case.spacing} mm in {time.perf_counter() - started:.1f} s")


def make_dataset(args):
    options = synthesis.SynthesisOptions(
        modality=args.modality, spacing_range=tuple(args.spacing_range or (0.1, 0.5)), max_dim=args.max_dim,
        geometry=not args.no_geometry, artefacts=not args.no_artefacts, noise_level=args.noise_level,
        second_annotation=args.second_annotation, random_intensity=args.random_intensity, scene=args.scene,
        extra_animals=args.extra_animals, size_range=tuple(args.size_range), organ_body=args.organ_body,
        body_axis_cut=args.body_axis_cut, elastic_range=tuple(args.elastic_range))
    os.makedirs(args.out, exist_ok=True)
    entries = []
    label_maps = [synthesis.load_label_map(map_path, args.label_mapping) for map_path in args.maps]
    for map_path, label_map in zip(args.maps, label_maps):
        partner = None
        if args.pair_annotations and partner_path(map_path):
            partner = synthesis.load_label_map(partner_path(map_path), args.label_mapping, label_map.orientation)
            print(f"{os.path.basename(map_path)}: second annotation from {os.path.basename(partner.path)}")
        for k in range(args.count):
            seed = args.seed + k
            started = time.perf_counter()
            case = synthesis.synthesize_case(label_map, seed, options, partner, companions=label_maps)
            entry = synthesis.write_case(case, args.out, synthesis.case_id(label_map, case.modality, seed))
            entries.append(entry)
            extras = f", {case.intensity} intensities, {case.animals} animal(s)" + "".join(f", {d}" for d in case.scene)
            print(f"{entry['id']}: {case.scan.shape} at {case.spacing} mm{extras} in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
    synthesis.write_dataset(args.out, entries)
    print(f"{len(entries)} cases in {os.path.join(args.out, 'dataset.json')}")


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.sample:
            make_sample(args)
        else:
            make_dataset(args)
    except ValueError as error:
        sys.exit(f"synthesize.py: {error}")


if __name__ == "__main__":
    main()
