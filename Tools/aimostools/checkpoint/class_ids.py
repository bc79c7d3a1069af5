"""Reads AIMOS's trainingCIDs file: the class names of a trained model.

The published code (AIMOS_prepare_custom_data.py) builds a dict class name -> class id (1, 2,
...; 0 is the background) and pickles it with protocol 4 to '<dataset>/trainingCIDs.pickledump';
the network's output channel c is the class with id c. It is read here with a restricted
unpickler that allows plain containers and numbers only.
"""
import os

import numpy as np

from aimostools.checkpoint.unpickler import CheckpointError, PlainDataUnpickler, unpickle

BACKGROUND = "background"


def class_names_from_ids(class_ids):
    """["background", then the names ordered by id] from a dict name -> id (ids 1..N)."""
    if not isinstance(class_ids, dict) or not class_ids:
        raise CheckpointError(f"holds a {type(class_ids).__name__}, not a non-empty dict class name -> id")
    by_id = {}
    for name, cid in class_ids.items():
        if not isinstance(name, str) or not name:
            raise CheckpointError(f"class name {name!r} is not a non-empty string")
        if isinstance(cid, bool) or not isinstance(cid, (int, np.integer)):
            raise CheckpointError(f"class '{name}' has id {cid!r}, not an integer")
        if int(cid) in by_id:
            raise CheckpointError(f"classes '{by_id[int(cid)]}' and '{name}' share id {int(cid)}")
        by_id[int(cid)] = name
    if sorted(by_id) != list(range(1, len(by_id) + 1)):
        raise CheckpointError(f"class ids are {sorted(by_id)}; expected 1..{len(by_id)} (0 is the background)")
    return [BACKGROUND] + [by_id[cid] for cid in sorted(by_id)]


def load_class_names(path):
    """Class names (background first) from an AIMOS trainingCIDs pickle. Like AIMOS's pload,
    accepts the path without its '.pickledump' ending."""
    if not os.path.exists(path) and os.path.exists(path + ".pickledump"):
        path += ".pickledump"
    try:
        with open(path, "rb") as f:
            class_ids, _ = unpickle(f, PlainDataUnpickler)
        return class_names_from_ids(class_ids)
    except OSError as error:
        raise CheckpointError(f"{path}: {error.strerror or error}") from None
    except CheckpointError as error:
        raise CheckpointError(f"{path}: {error}") from None
