#!/usr/bin/env python3
"""Writes a NIfTI scan as a DICOM series folder (pydicom), for trying `aimos segment --input
FOLDER` and for the DICOM tests: one file per plane or one enhanced multi-frame file, CT or PET,
optionally compressed.

    aimos-nifti-to-dicom data/sample/sample_ct.nii.gz /tmp/sample_dicom
    aimos-nifti-to-dicom pet.nii.gz /tmp/pet --modality PT --per-plane-scale --units BQML --decay-correction START
"""
import argparse

import nibabel as nib
import numpy as np

from aimostools.dicom.series_writer import COMPRESSIONS, write_series


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("nifti")
    parser.add_argument("folder")
    parser.add_argument("--modality", default="CT", choices=["CT", "PT"])
    parser.add_argument("--compression", choices=[c for c in COMPRESSIONS if c])
    parser.add_argument("--enhanced", action="store_true", help="one enhanced multi-frame file (CT only)")
    parser.add_argument("--per-plane-scale", action="store_true", help="a rescale slope per plane, as PET scanners write")
    parser.add_argument("--units", help="(0054,1001) Units, e.g. BQML")
    parser.add_argument("--decay-correction", help="(0054,1102) Decay Correction, e.g. START")
    parser.add_argument("--patient-position", default="FFS")
    args = parser.parse_args(argv)
    image = nib.load(args.nifti)
    uid, _ = write_series(np.asarray(image.get_fdata()), image.affine, args.folder, modality=args.modality,
                          compression=args.compression, enhanced=args.enhanced, per_plane_scale=args.per_plane_scale,
                          units=args.units, decay_correction=args.decay_correction,
                          rescale_type="HU" if args.modality == "CT" else None, patient_position=args.patient_position)
    print(f"{args.folder}: series {uid}")


if __name__ == "__main__":
    main()
