"""Reading the project's training datasets (DIR/dataset.json plus scan and label NIfTIs, see
aimos-synthesize) and the data side of AIMOS training: class lists, the split by subject,
the slices that hold organs, and the two targets of dual-annotation training.

Volumes are returned in numpy (z, y, x) order, the order reference.slice_view cuts, so the
training slices are the very slices the published inference (and the aimos engine) sees.
"""
import json
import os
from dataclasses import dataclass
from typing import Optional

import nibabel
import numpy as np

from aimostools.unet import reference
from aimostools.synthesis.organs import AIMOS_CLASSES

PROJECT_CLASSES = AIMOS_CLASSES  # the class list of the synthesized datasets


@dataclass
class Case:
    """One scan of a dataset with its annotation(s)."""
    id: str
    subject: str
    modality: str
    scan_path: str
    labels_path: str
    labels2_path: Optional[str]
    classes: list          # the class list of the dataset the case belongs to
    spacing_mm: tuple


def read_dataset(directory):
    """The cases of one dataset directory, in the order dataset.json lists them."""
    with open(os.path.join(directory, "dataset.json")) as f:
        description = json.load(f)
    classes = list(description["classes"])
    if not classes or classes[0] != "background":
        raise ValueError(f"{directory}/dataset.json: the first class must be 'background'")
    cases = []
    for entry in description["cases"]:
        labels2 = entry.get("labels2")
        cases.append(Case(
            id=entry["id"], subject=entry["subject"], modality=entry.get("modality", ""),
            scan_path=os.path.join(directory, entry["scan"]),
            labels_path=os.path.join(directory, entry["labels"]),
            labels2_path=os.path.join(directory, labels2) if labels2 else None,
            classes=classes, spacing_mm=tuple(entry.get("spacing_mm", (1.0, 1.0, 1.0)))))
    return cases


def read_datasets(directories):
    """All cases of several dataset directories; case ids must be unique."""
    cases = [case for directory in directories for case in read_dataset(directory)]
    ids = [case.id for case in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"case ids occur in more than one place: {', '.join(duplicates)}")
    return cases


def merged_classes(cases):
    """One class list for all cases: the first dataset's order, then names new in later ones."""
    merged = []
    for case in cases:
        for name in case.classes:
            if name not in merged:
                merged.append(name)
    return merged


def class_lookup(source_classes, target_classes):
    """uint8 table: label value in source_classes -> index in target_classes (0 where absent)."""
    table = np.zeros(256, np.uint8)
    for index, name in enumerate(source_classes):
        if name in target_classes:
            table[index] = target_classes.index(name)
    return table


def load_nifti_xyz(path, dtype):
    """The voxel array in NIfTI (x, y, z) order and the voxel spacing in mm."""
    image = nibabel.load(path)
    if np.dtype(dtype).kind == "f":
        data = image.get_fdata(dtype=np.float32).astype(dtype, copy=False)
    else:
        data = np.asarray(image.dataobj).astype(dtype)
    if data.ndim != 3:
        raise ValueError(f"{path}: expected a 3D volume, found shape {data.shape}")
    return data, tuple(float(z) for z in image.header.get_zooms()[:3])


def xyz_to_zyx(volume):
    """NIfTI (x, y, z) array -> the (z, y, x) array reference.slice_view expects."""
    return np.ascontiguousarray(volume.transpose(2, 1, 0))


def organ_slices(labels_zyx, axis):
    """Indices of the slices along axis that hold at least one organ voxel (the paper: only
    such slices are fed to the network during training)."""
    along = reference.volume_axis(axis)
    other = tuple(a for a in range(3) if a != along)
    return np.flatnonzero(np.any(labels_zyx > 0, axis=other))


def evenly_spaced(indices, limit):
    """At most limit of the indices, spread evenly from the first to the last."""
    if limit is None or len(indices) <= limit:
        return np.asarray(indices)
    picks = np.unique(np.round(np.linspace(0, len(indices) - 1, limit)).astype(int))
    return np.asarray(indices)[picks]


def dual_annotation_targets(labels1, labels2):
    """The two targets of dual-annotation training (paper: organs where both annotators agree,
    and the regions where they disagree): agreement holds a class where both annotations give
    that same class, background elsewhere; disagreement is 1 where the annotations differ."""
    same = labels1 == labels2
    agreement = np.where(same, labels1, 0).astype(np.uint8)
    disagreement = (~same).astype(np.uint8)
    return agreement, disagreement


def split_by_subject(cases, val_subjects=None, test_subjects=None, seed=0):
    """(train, validation, test) case lists, split by subject (animal), never by scan.

    Test subjects are left out of training and validation. Without val_subjects one subject of
    the rest is drawn with the seed for validation, as the published code draws one mouse; with
    a single subject left there is no validation set (returned empty)."""
    subjects = sorted({case.subject for case in cases})
    test = set(test_subjects or [])
    unknown = sorted((test | set(val_subjects or [])) - set(subjects))
    if unknown:
        raise ValueError(f"unknown subjects: {', '.join(unknown)} (known: {', '.join(subjects)})")
    remaining = [s for s in subjects if s not in test]
    if val_subjects is None:
        rng = np.random.default_rng(seed)
        val = {remaining[rng.integers(len(remaining))]} if len(remaining) > 1 else set()
    else:
        val = set(val_subjects)
        if val & test:
            raise ValueError(f"subjects both in validation and test: {', '.join(sorted(val & test))}")
    train_cases = [c for c in cases if c.subject not in val and c.subject not in test]
    val_cases = [c for c in cases if c.subject in val]
    test_cases = [c for c in cases if c.subject in test]
    if not train_cases:
        raise ValueError("no training case is left after the validation and test subjects")
    return train_cases, val_cases, test_cases
