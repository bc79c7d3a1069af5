#!/usr/bin/env python3
"""Measures `aimos segment --orientation auto` over the 48 anatomical layouts.

Each scan (with its labels, in a known layout, default LHD: the synthesis layout) is written
in every layout with an identity-direction affine (a header that says nothing), segmented
with --orientation auto, and checked: the layout aimos reports must be the one written, and
the labels mapped back must agree with the run in the scan's own layout (--orientation CODE).

    aimos-evaluate-orientation --aimos .build/release/aimos-cli \\
        --model models/aimos-demo.safetensors --scans scan1.nii.gz scan2.nii.gz [--codes LHD,TRV]

Prints one line per scan and layout and a summary (per scan: layouts right, label agreement).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import nibabel as nib
import numpy as np

from aimostools.layout.orientation_codes import ALL_CODES, from_layout, to_layout


def write_layout(data, spacing, source_code, code, path):
    """Writes `data` (in `source_code` layout) in layout `code` with a diagonal affine."""
    out, order = to_layout(data, source_code, code)
    affine = np.diag([float(spacing[a]) for a in order] + [1.0])
    image = nib.Nifti1Image(out, affine)
    image.header.set_xyzt_units("mm")
    nib.save(image, path)


def segment(aimos, model, scan, output, orientation, extra=()):
    started = time.time()
    run = subprocess.run([aimos, "segment", "--model", model, "--input", scan, "--output", output, "--overwrite",
                          "--orientation", orientation, *extra], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"aimos failed on {scan}: {run.stderr}")
    found = re.findall(r"orientation (\w{3,4})(?: \(detected, confidence (\d+) %\))?", run.stdout)
    return found, time.time() - started, np.asarray(nib.load(output).dataobj)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aimos", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--scans", nargs="+", required=True)
    parser.add_argument("--layout", default="LHD", help="layout of the given scans (default LHD)")
    parser.add_argument("--codes", default=None, help="comma-separated layouts to test (default: all 48)")
    args = parser.parse_args(argv)
    codes = args.codes.split(",") if args.codes else ALL_CODES
    summary = []
    with tempfile.TemporaryDirectory() as work:
        for scan in args.scans:
            image = nib.load(scan)
            data = np.asarray(image.dataobj)
            spacing = image.header.get_zooms()[:3]
            reference_path = os.path.join(work, "reference.nii.gz")
            _, _, reference = segment(args.aimos, args.model, scan, reference_path, args.layout)
            right, agreements, seconds = 0, [], []
            for code in codes:
                path = os.path.join(work, f"scan_{code}.nii.gz")
                write_layout(data, spacing, args.layout, code, path)
                found, elapsed, labels = segment(args.aimos, args.model, path, os.path.join(work, "labels.nii.gz"), "auto")
                chosen, confidence = found[0] if found else ("?", "")
                back = from_layout(labels, code, args.layout)
                agreement = float((back == reference).mean())
                right += chosen == code
                agreements.append(agreement)
                seconds.append(elapsed)
                print(f"{os.path.basename(scan)} {code}: detected {chosen} (confidence {confidence} %), "
                      f"label agreement {agreement:.4f}, {elapsed:.2f} s", flush=True)
            summary.append((scan, right, len(codes), min(agreements), float(np.mean(seconds))))
    print("\nscan, layouts right, least label agreement, mean seconds per run")
    for scan, right, total, least, mean_s in summary:
        print(f"{scan}: {right}/{total}, {least:.4f}, {mean_s:.2f} s")
    return 0 if all(r == t for _, r, t, _, _ in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
