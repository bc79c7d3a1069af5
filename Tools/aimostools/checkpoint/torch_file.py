"""Reads torch.save files (AIMOS checkpoints such as NACTmodel.pt) without importing PyTorch.

Two containers exist:
- zip (PyTorch >= 1.6): <prefix>/data.pkl holds the pickled object, <prefix>/data/<key> the raw
  bytes of each storage, <prefix>/byteorder the byte order (little when absent);
- legacy (PyTorch < 1.6, or _use_new_zipfile_serialization=False): consecutive pickles of the
  magic number, the protocol version and a sys-info dict, then the object, then the list of
  storage keys; then, per key in that order, an 8-byte element count and the raw elements.

Pickles go through the restricted unpicklers of checkpoint_unpickler, so a hostile file is
refused instead of run. Tensors come back as numpy arrays (bfloat16 as float32).
"""
import collections
import os
import struct
import tarfile
import zipfile
import zlib

import numpy as np

from aimostools.checkpoint.unpickler import (CheckpointError, CheckpointUnpickler, PlainDataUnpickler,
                                   materialize, tensor_values, unpickle)

__all__ = ["CheckpointError", "load", "load_state_dict", "state_dict_of"]

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001


def load(path):
    """The object stored by torch.save at `path`, with every tensor as a numpy array."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
        if head.startswith(b"PK\x03\x04"):
            if not zipfile.is_zipfile(path):
                raise CheckpointError("is a damaged zip archive (truncated download?)")
            return _load_zip(path)
        if head.startswith(b"\x80"):
            return _load_legacy(path)
        if tarfile.is_tarfile(path):
            raise CheckpointError("is a tar checkpoint of PyTorch < 0.4, which this reader does not support; "
                                  "re-save it with a newer PyTorch")
    except CheckpointError as error:
        raise CheckpointError(f"{path}: {error}") from None
    except OSError as error:
        raise CheckpointError(f"{path}: {error.strerror or error}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, ValueError,
            struct.error, EOFError) as error:
        raise CheckpointError(f"{path}: damaged file ({error})") from None
    raise CheckpointError(f"{path}: not a torch.save file (neither a zip archive nor a legacy pickle stream)")


def _load_zip(path):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise CheckpointError("is a zip archive but not a torch.save file (no single <name>/data.pkl)")
        prefix = pickles[0][:-len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise CheckpointError(f"unknown byte order {byteorder!r}")
        with archive.open(pickles[0]) as f:
            obj, unpickler = unpickle(f, CheckpointUnpickler, False)
        storages = {}
        for key, storage_type in unpickler.storage_types.items():
            name = prefix + "data/" + key
            if name not in names:
                raise CheckpointError(f"storage record '{name}' is missing")
            storages[key] = archive.read(name)
    return materialize(obj, lambda t: tensor_values(t, storages[t.storage.root_key], byteorder))


def _load_legacy(path):
    with open(path, "rb") as f:
        magic, _ = unpickle(f, PlainDataUnpickler)
        if magic != LEGACY_MAGIC_NUMBER:
            raise CheckpointError("is a pickle but not a torch.save file (wrong magic number)")
        version, _ = unpickle(f, PlainDataUnpickler)
        if version != LEGACY_PROTOCOL_VERSION:
            raise CheckpointError(f"has legacy protocol version {version!r}, not {LEGACY_PROTOCOL_VERSION}")
        sys_info, _ = unpickle(f, PlainDataUnpickler)
        little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
        byteorder = "little" if little else "big"
        obj, unpickler = unpickle(f, CheckpointUnpickler, True)
        keys, _ = unpickle(f, PlainDataUnpickler)
        if (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)
                or len(keys) != len(set(keys)) or set(keys) != set(unpickler.storage_types)):
            raise CheckpointError("the list of storage keys does not match the storages the object uses")
        storages = {}
        for key in keys:
            (numel,) = struct.unpack("<q" if little else ">q", _read_exactly(f, 8, key))
            itemsize = unpickler.storage_types[key].dtype.itemsize
            if numel < 0 or numel * itemsize > os.fstat(f.fileno()).st_size:
                raise CheckpointError(f"storage '{key}' claims {numel} elements, more than the file holds")
            storages[key] = _read_exactly(f, numel * itemsize, key)
    return materialize(obj, lambda t: tensor_values(t, storages[t.storage.root_key], byteorder))


def _read_exactly(f, count, key):
    data = f.read(count)
    if len(data) != count:
        raise CheckpointError(f"file ends inside storage '{key}' (truncated download?)")
    return data


def state_dict_of(obj):
    """The state_dict inside a loaded checkpoint: its 'model_state_dict' (as AIMOS saves),
    else its 'state_dict', else the object itself when it is a dict of tensors. Names lose a
    leading 'module.' (how torch.nn.DataParallel saves)."""
    if isinstance(obj, dict) and isinstance(obj.get("model_state_dict"), dict):
        obj = obj["model_state_dict"]
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError("holds no state_dict (no 'model_state_dict' entry and not a dict of tensors)")
    state = collections.OrderedDict()
    for name, value in obj.items():
        if not isinstance(value, np.ndarray):
            keys = ", ".join(repr(k) for k in list(obj)[:8])
            raise CheckpointError(f"entry {name!r} is a {type(value).__name__}, not a tensor, so this is not a "
                                  f"state_dict and has no 'model_state_dict' entry (keys: {keys})")
        if not isinstance(name, str):
            raise CheckpointError(f"state_dict name {name!r} is not a string")
        plain = name[len("module."):] if name.startswith("module.") else name
        if plain in state:
            raise CheckpointError(f"state_dict has both '{plain}' and 'module.{plain}'")
        state[plain] = value
    return state


def load_state_dict(path):
    """Ordered dict name -> numpy array of the model weights in the checkpoint at `path`."""
    obj = load(path)
    try:
        return state_dict_of(obj)
    except CheckpointError as error:
        raise CheckpointError(f"{path}: {error}") from None
