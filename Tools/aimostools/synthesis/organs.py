"""What each label of a mouse label map means: its AIMOS organ class and the kind of tissue it
is (for rendering a synthetic scan from it).

The meaning comes from a mapping file read at run time: the `labels.json` that sits beside the
shared label maps (one entry per map file name), or a user's own JSON passed with
--label-mapping, either in the same form or as a single entry:

    {"labels": {"1": "skin", "2": "skeleton", "9": "heart", ...},
     "aimos_organs": {"Heart": [9], "Bone": [2], ...},
     "body_labels": [1],          (optional: labels that fill the body; else guessed from names)
     "subject": "mouse7"}         (optional: the animal, for splits by subject)
"""
import json
import os
import re
from dataclasses import dataclass

import numpy as np

AIMOS_CLASSES = ["background", "Brain", "Heart", "Lung", "Liver", "Kidney", "Spleen", "Bladder",
                 "Stomach", "Intestine", "Bone"]

# Maps that show the same animal share a subject, so that train/test splits can be by animal.
KNOWN_SUBJECTS = {
    "digimouse_atlas": "digimouse",
    "rosenhain_organs_a": "rosenhain_a",
    "rosenhain_ct140_organs": "rosenhain_ct280",
    "rosenhain_ct280_organs_v1": "rosenhain_ct280",
    "rosenhain_ct280_organs_v2": "rosenhain_ct280",
}

# Tissue kinds of labels that are not AIMOS organs, recognised by their names.
_BODY_WORDS = re.compile(r"skin|remaining|soft tissue|body|carcass", re.IGNORECASE)
_AIRWAY_WORDS = re.compile(r"trachea|airway|bronch", re.IGNORECASE)
_FLUID_WORDS = re.compile(r"\beye|vitreous|cyst|ventricle|csf", re.IGNORECASE)


def map_stem(path):
    """File name without directory and without .nii / .nii.gz."""
    name = os.path.basename(path)
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def short_name(path):
    """Compact name of a map for case ids: digimouse_atlas -> digimouse,
    rosenhain_ct280_organs_v1 -> rosenhain_ct280_v1."""
    return map_stem(path).replace("_atlas", "").replace("_organs", "")


@dataclass(frozen=True)
class MapDescription:
    """The meaning of one label map's labels."""
    file_name: str
    label_names: dict          # int label -> name
    organs: dict               # AIMOS organ name -> list of int labels
    body_labels: tuple         # labels that fill the body (skin and remaining soft tissue)
    subject: str

    @property
    def short_name(self):
        return short_name(self.file_name)

    def class_lookup(self):
        """uint8[256] table: source label -> index into AIMOS_CLASSES (0 for non-organs)."""
        table = np.zeros(256, np.uint8)
        for organ, labels in self.organs.items():
            table[list(labels)] = AIMOS_CLASSES.index(organ)
        return table

    def organ_of(self, label):
        """AIMOS organ name of a source label, or None."""
        for organ, labels in self.organs.items():
            if label in labels:
                return organ
        return None

    def tissue_kind(self, label):
        """Kind of tissue a source label stands for: an AIMOS organ in lower case ('lung',
        'bone', ...), 'body' (skin and remaining soft tissue), 'airway', 'fluid' or 'soft'."""
        organ = self.organ_of(label)
        if organ is not None:
            return organ.lower()
        if label in self.body_labels:
            return "body"
        name = self.label_names.get(label, "")
        if _AIRWAY_WORDS.search(name):
            return "airway"
        if _FLUID_WORDS.search(name):
            return "fluid"
        return "soft"


def _entry_to_description(file_name, entry):
    label_names = {int(k): str(v) for k, v in entry.get("labels", {}).items()}
    organs = {}
    seen = {}
    for organ, labels in entry["aimos_organs"].items():
        if organ not in AIMOS_CLASSES[1:]:
            raise ValueError(f"{file_name}: '{organ}' is not an AIMOS organ ({', '.join(AIMOS_CLASSES[1:])})")
        labels = [int(v) for v in labels]
        for label in labels:
            if not 1 <= label <= 255:
                raise ValueError(f"{file_name}: label {label} of {organ} is outside 1..255")
            if label in seen:
                raise ValueError(f"{file_name}: label {label} is mapped to both {seen[label]} and {organ}")
            seen[label] = organ
        organs[organ] = labels
    if "body_labels" in entry:
        body = tuple(int(v) for v in entry["body_labels"])
    else:
        body = tuple(sorted(k for k, name in label_names.items()
                            if k not in seen and _BODY_WORDS.search(name)))
    stem = map_stem(file_name)
    subject = str(entry.get("subject", KNOWN_SUBJECTS.get(stem, short_name(file_name))))
    return MapDescription(os.path.basename(file_name), label_names, organs, body, subject)


def describe_map(map_path, mapping_path=None):
    """Reads the meaning of the labels of the map at map_path: from mapping_path when given
    (a labels.json-style catalogue keyed by file name, or one entry), else from labels.json
    in the map's directory. Raises ValueError when the map is not described."""
    file_name = os.path.basename(map_path)
    if mapping_path is None:
        mapping_path = os.path.join(os.path.dirname(os.path.abspath(map_path)), "labels.json")
        if not os.path.exists(mapping_path):
            raise ValueError(f"no labels.json beside {map_path}; pass --label-mapping")
    with open(mapping_path) as f:
        catalogue = json.load(f)
    if "aimos_organs" in catalogue:
        return _entry_to_description(file_name, catalogue)
    if file_name not in catalogue:
        raise ValueError(f"{mapping_path} does not describe {file_name}; pass --label-mapping")
    return _entry_to_description(file_name, catalogue[file_name])
