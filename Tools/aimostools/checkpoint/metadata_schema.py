"""The keys the `aimos` metadata of a model file may hold and the values each takes, as the
engine reads them (Sources/AimosCore/ModelMetadata.swift), so that aimos-model-metadata
refuses an edit the engine would refuse at load time. numpy-free."""
from aimostools.checkpoint.architecture import ARCHITECTURES, CROPS, check_voxel_size_mm
from aimostools.layout import orientation_codes

REQUIRED_KEYS = ("architecture", "classes")
KEYS = REQUIRED_KEYS + ("input_size", "uncertainty", "ensemble_members", "slice_axis", "orientation", "crop",
                        "voxel_size_mm")
MAX_CLASSES = 255   # labels are uint8
MAX_INPUT_SIZE = 1024
MAX_MEMBERS = 64


def is_integer(value):
    return type(value) is int  # not bool, which Python counts as an int


def check_value(key, value):
    """`value` as it is to be stored under `key` (orientation upper-cased, voxel size a float);
    ValueError, naming the key, for an unknown key or a value the engine refuses."""
    if key not in KEYS:
        raise ValueError(f"unknown key '{key}'; the aimos metadata keys are {', '.join(KEYS)}")
    if key == "architecture":
        if value not in ARCHITECTURES:
            raise ValueError(f"architecture {value!r} is not one of {', '.join(ARCHITECTURES)}")
    elif key == "classes":
        check_classes(value)
    elif key == "input_size":
        if not is_integer(value) or not 1 <= value <= MAX_INPUT_SIZE:
            raise ValueError(f"input_size {value!r} must be an integer from 1 to {MAX_INPUT_SIZE}")
    elif key == "uncertainty":
        if not isinstance(value, bool):
            raise ValueError(f"uncertainty {value!r} must be true or false")
    elif key == "ensemble_members":
        if not is_integer(value) or not 1 <= value <= MAX_MEMBERS:
            raise ValueError(f"ensemble_members {value!r} must be an integer from 1 to {MAX_MEMBERS}")
    elif key == "slice_axis":
        if not is_integer(value) or value not in (0, 1, 2):
            raise ValueError(f"slice_axis {value!r} must be 0, 1 or 2")
    elif key == "orientation":
        if not isinstance(value, str) or not orientation_codes.is_valid(value):
            raise ValueError(f"orientation {value!r} is no layout code: three letters, one each of "
                             "H/T (head/tail), L/R (left/right), D/V (dorsal/ventral), e.g. TLD")
        return value.upper()
    elif key == "crop":
        if value not in CROPS:
            raise ValueError(f"crop {value!r} must be 'body' or 'none'")
    elif key == "voxel_size_mm":
        return check_voxel_size_mm(value)
    return value


def check_classes(classes):
    """2 to 255 distinct, non-empty names (background first, by convention)."""
    if not isinstance(classes, list) or not 2 <= len(classes) <= MAX_CLASSES:
        raise ValueError(f"classes must be a list of 2 to {MAX_CLASSES} names, e.g. [\"background\", \"Heart\"]")
    for name in classes:
        if not isinstance(name, str) or not name.strip() or "\0" in name:
            raise ValueError(f"class name {name!r} is empty or not text")
    duplicates = sorted({n for n in classes if classes.count(n) > 1})
    if duplicates:
        raise ValueError(f"class names repeat: {', '.join(duplicates)}")


def check_required(metadata):
    """ValueError unless the keys the engine requires are present."""
    missing = [key for key in REQUIRED_KEYS if key not in metadata]
    if missing:
        raise ValueError(f"the aimos metadata lacks {' and '.join(missing)}, which the engine requires")
