"""Writes a volume as a DICOM series with pydicom, the way preclinical scanners hand them out:
one file per plane (CT Image Storage, PET Image Storage) or one enhanced multi-frame file, the
geometry in the DICOM patient frame (LPS) from a NIfTI-style RAS affine, stored integers with a
rescale slope and intercept (one for the series, or one per plane as PET scanners write them),
optionally compressed (RLE Lossless, JPEG-LS Lossless, JPEG 2000 Lossless).

It is the project's own test-data maker for the DICOM reader (Tests/dicom), independent of
GDCM, which aimos reads with.

Geometry: NIfTI voxel (i, j, k) maps to RAS by `affine`; DICOM to LPS, so the first two rows
change sign. Plane k holds voxels [:, :, k], its pixel (row j, column i); Image Orientation
(Patient) is the unit direction of i, then of j; Pixel Spacing is (j's spacing, i's spacing);
Image Position (Patient) of plane k is the LPS position of voxel (0, 0, k).
"""
import os
import random

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLSLossless, RLELossless,
                         generate_uid)

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"
PET_STORAGE = "1.2.840.10008.5.1.4.1.1.128"
COMPRESSIONS = {None: ExplicitVRLittleEndian, "rle": RLELossless, "jpegls": JPEGLSLossless, "jpeg2000": JPEG2000Lossless}
LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def ds_number(x):
    """A DS value within its 16 characters, to about 1e-10 relative."""
    for digits in range(12, 4, -1):
        text = f"{x:.{digits}g}"
        if len(text) <= 16:
            return text
    raise ValueError(x)


def plane_geometry(affine):
    """(row direction, column direction, Pixel Spacing, position of plane k) in LPS."""
    m = LPS @ np.asarray(affine, dtype=float)
    di, dj = np.linalg.norm(m[:3, 0]), np.linalg.norm(m[:3, 1])
    return m[:3, 0] / di, m[:3, 1] / dj, (dj, di), (lambda k: m[:3, 3] + k * m[:3, 2])


def quantise(volume, per_plane, dtype):
    """Stored integers and (slope, intercept) per plane: one scale for the series, or per plane."""
    info = np.iinfo(dtype)
    if not per_plane and np.all(volume == np.round(volume)) and volume.min() >= info.min and volume.max() <= info.max:
        # Integers that fit (a CT in HU): stored as they are, slope 1, intercept 0.
        return [volume[:, :, k].astype(dtype) for k in range(volume.shape[2])], [(1.0, 0.0)] * volume.shape[2]
    planes, scales = [], []
    for k in range(volume.shape[2]):
        data = volume[:, :, k] if per_plane else volume
        low, high = float(data.min()), float(data.max())
        intercept = low if info.min == 0 else 0.0
        span = max(high - intercept, intercept - low if info.min < 0 else 0, 1e-12)
        slope = span / info.max
        stored = np.clip(np.round((volume[:, :, k] - intercept) / slope), info.min, info.max).astype(dtype)
        planes.append(stored)
        scales.append((float(ds_number(slope)), float(ds_number(intercept))))
    return planes, scales


def base_dataset(modality, sop_class, study_uid, series_uid, frame_uid, description, patient_position):
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.Modality = modality
    ds.PatientName = "aimos^synthetic"
    ds.PatientID = "aimos-test"
    ds.PatientPosition = patient_position
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid
    ds.SeriesDescription = description
    ds.SeriesNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    return ds


def finish(ds, sop_class, syntax, path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    if syntax != ExplicitVRLittleEndian:
        ds.compress(syntax, encoding_plugin="pydicom" if syntax == RLELossless else "", generate_instance_uid=False)
    ds.save_as(path, enforce_file_format=True)


def set_pixels(ds, planes, dtype):
    ds.Rows, ds.Columns = planes[0].shape[1], planes[0].shape[0]
    ds.BitsAllocated = ds.BitsStored = 8 * np.dtype(dtype).itemsize
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if np.issubdtype(dtype, np.signedinteger) else 0
    # Pixel (row j, column i) of plane k is voxel (i, j, k): the transposed plane, rows first.
    ds.PixelData = b"".join(np.ascontiguousarray(p.T).astype(np.dtype(dtype).newbyteorder("<")).tobytes() for p in planes)


def write_series(volume, affine, folder, *, modality="CT", description="aimos synthetic", dtype=np.int16,
                 per_plane_scale=False, compression=None, enhanced=False, shuffle=False, drop_plane=None,
                 units=None, decay_correction=None, rescale_type=None, patient_position="FFS",
                 study_uid=None, frame_uid=None, series_uid=None, prefix="IM", seed=0):
    """Writes `volume` (NIfTI order, x fastest) with voxel-to-RAS `affine` into `folder`.

    Returns (series UID, the volume as a reader should see it: stored values times slope plus
    intercept). `shuffle` names the files in random order; `drop_plane` leaves plane k out.
    """
    volume = np.asarray(volume, dtype=float)
    os.makedirs(folder, exist_ok=True)
    study_uid, frame_uid = study_uid or generate_uid(), frame_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    syntax = COMPRESSIONS[compression]
    sop_class = {"CT": ENHANCED_CT_STORAGE if enhanced else CT_STORAGE, "PT": PET_STORAGE}.get(modality, CT_STORAGE)
    row, col, spacing, position = plane_geometry(affine)
    planes, scales = quantise(volume, per_plane_scale, dtype)
    seen = np.stack([p * s + b for p, (s, b) in zip(planes, scales)], axis=2)
    base = base_dataset(modality, sop_class, study_uid, series_uid, frame_uid, description, patient_position)
    for key, value in (("Units", units), ("DecayCorrection", decay_correction), ("RescaleType", rescale_type)):
        if value:
            setattr(base, key, value)
    thickness = ds_number(float(np.linalg.norm((LPS @ np.asarray(affine, float))[:3, 2])))
    orientation = [ds_number(v) for v in (*row, *col)]
    pixel_spacing = [ds_number(v) for v in spacing]
    if enhanced:
        ds = base.copy()
        ds.SOPInstanceUID = generate_uid()
        ds.NumberOfFrames = volume.shape[2]
        shared = Dataset()
        measures = Dataset()
        measures.PixelSpacing, measures.SliceThickness = pixel_spacing, thickness
        plane = Dataset()
        plane.ImageOrientationPatient = orientation
        transform = Dataset()
        transform.RescaleSlope, transform.RescaleIntercept = ds_number(scales[0][0]), ds_number(scales[0][1])
        transform.RescaleType = rescale_type or "US"
        shared.PixelMeasuresSequence = Sequence([measures])
        shared.PlaneOrientationSequence = Sequence([plane])
        shared.PixelValueTransformationSequence = Sequence([transform])
        ds.SharedFunctionalGroupsSequence = Sequence([shared])
        frames = []
        for k in range(volume.shape[2]):
            frame = Dataset()
            where = Dataset()
            where.ImagePositionPatient = [ds_number(v) for v in position(k)]
            frame.PlanePositionSequence = Sequence([where])
            content = Dataset()
            content.InStackPositionNumber = k + 1
            frame.FrameContentSequence = Sequence([content])
            frames.append(frame)
        ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
        set_pixels(ds, planes, dtype)
        finish(ds, sop_class, syntax, os.path.join(folder, f"{prefix}_enhanced.dcm"))
        return series_uid, seen
    order = list(range(volume.shape[2]))
    names = [f"{prefix}{k + 1:04d}.dcm" for k in order]
    if shuffle:
        random.Random(seed).shuffle(names)
    for k in order:
        if k == drop_plane:
            continue
        ds = base.copy()
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [ds_number(v) for v in position(k)]
        ds.ImageOrientationPatient = orientation
        ds.PixelSpacing = pixel_spacing
        ds.SliceThickness = thickness
        ds.RescaleSlope, ds.RescaleIntercept = ds_number(scales[k][0]), ds_number(scales[k][1])
        set_pixels(ds, [planes[k]], dtype)
        finish(ds, sop_class, syntax, os.path.join(folder, names[k]))
    return series_uid, seen


def read_series(folder):
    """An independent reader for the tests (pydicom, no GDCM): (volume, RAS affine) of the one
    series of classic single-plane files in `folder`, planes sorted along the normal."""
    planes = []
    for name in sorted(os.listdir(folder)):
        ds = pydicom.dcmread(os.path.join(folder, name))
        planes.append(ds)
    o = np.array(planes[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(o[:3], o[3:])
    planes.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, dtype=float), normal)))
    data = np.stack([d.pixel_array.T * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in planes], axis=2)
    first, last = (np.array(p.ImagePositionPatient, dtype=float) for p in (planes[0], planes[-1]))
    spacing = [float(v) for v in planes[0].PixelSpacing]
    m = np.eye(4)
    m[:3, 0], m[:3, 1] = o[:3] * spacing[1], o[3:] * spacing[0]
    m[:3, 2] = (last - first) / max(len(planes) - 1, 1)
    m[:3, 3] = first
    return data, LPS @ m
