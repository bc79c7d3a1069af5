"""Converts AIMOS checkpoints into the safetensors model file of libaimos (no PyTorch needed).

Every checkpoint is checked against the architecture (names, shapes, classifier outputs,
finite values) before anything is written; the file appears whole or not at all (it is
written to a temporary file next to the output, then renamed over it).
"""
import json
import os
import secrets

import numpy as np

from aimostools.checkpoint import safetensors_io
from aimostools.checkpoint.torch_file import CheckpointError, load_state_dict
from aimostools.checkpoint.architecture import CLASSIFIER_WEIGHT, WIDTHS, aimos_metadata, expected_shapes, guess_architecture
from aimostools.layout.orientation_codes import PUBLISHED

OUTPUT_DTYPES = ("F32", "F16", "BF16")
MAX_CLASSES = 255  # labels are uint8
MAX_MEMBERS = 64


class ConversionError(Exception):
    """The input cannot be converted; the message names the file and the problem."""


def check_classes(classes):
    """Raises ConversionError unless `classes` is a usable list of 2..255 distinct names."""
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise ConversionError(f"a model needs 2 to {MAX_CLASSES} classes (background included); got {len(classes)}")
    for name in classes:
        if not isinstance(name, str) or not name.strip() or "\0" in name:
            raise ConversionError(f"class name {name!r} is empty or not text")
    duplicates = sorted({n for n in classes if classes.count(n) > 1})
    if duplicates:
        raise ConversionError(f"class names repeat: {', '.join(duplicates)}")


def check_state_dict(state, architecture, classes, uncertainty, origin):
    """Float tensors of `state` (name -> array) in the architecture's order, after checking
    names, shapes and values; integer tensors such as num_batches_tracked are dropped."""
    output_channels = len(classes) + (1 if uncertainty else 0)
    expected = expected_shapes(architecture, output_channels)
    floats = {k: v for k, v in state.items() if v.dtype.kind in "fc"}
    guess = guess_architecture({k: v.shape for k, v in floats.items()})
    hint = f" (the checkpoint looks like {guess})" if guess and guess != architecture else ""
    for name, shape in expected.items():
        if name not in state:
            raise ConversionError(f"{origin}: missing tensor '{name}' of {architecture}{hint}")
        value = state[name]
        if value.dtype.kind not in "f":
            raise ConversionError(f"{origin}: tensor '{name}' has type {value.dtype}, not floating point")
        if value.shape != shape:
            if name == CLASSIFIER_WEIGHT and value.shape[1:] == shape[1:] and not hint:
                forgot_background = value.shape[0] == output_channels + 1 and "background" not in classes
                raise ConversionError(
                    f"{origin}: the classifier ('{name}') has {value.shape[0]} output channels, but "
                    f"{len(classes)} classes were given (background included)"
                    f"{' plus 1 uncertainty channel' if uncertainty else ''}, so {output_channels} are expected"
                    f"{' (is the background missing from the class list?)' if forgot_background else ''}")
            raise ConversionError(f"{origin}: tensor '{name}' has shape {value.shape}, {architecture} "
                                  f"expects {shape}{hint}")
        if not np.isfinite(value).all():
            raise ConversionError(f"{origin}: tensor '{name}' contains NaN or infinite values")
    for name, value in state.items():
        if name not in expected and value.dtype.kind in "fc":
            raise ConversionError(f"{origin}: unexpected tensor '{name}', not part of {architecture}{hint}")
        if name not in expected and not name.endswith("num_batches_tracked"):
            raise ConversionError(f"{origin}: unexpected integer tensor '{name}', not part of {architecture}")
    return {name: state[name] for name in expected}


def encode(value, dtype, name, origin):
    """The array (or ("BF16", bits)) that safetensors_io.write stores for `value` as `dtype`."""
    as_float32 = value.astype(np.float32)
    if dtype == "F32":
        stored, back = as_float32, as_float32
    elif dtype == "F16":
        stored = as_float32.astype(np.float16)
        back = stored
    else:
        bits = safetensors_io.to_bf16_bits(as_float32).reshape(value.shape)
        stored, back = ("BF16", bits), safetensors_io.from_bf16_bits(bits)
    if not np.isfinite(back).all():
        raise ConversionError(f"{origin}: tensor '{name}' has values beyond the range of {dtype}")
    return stored


def convert(checkpoints, output, architecture, classes, uncertainty=False, input_size=256,
            slice_axis=2, dtype="F32", orientation=PUBLISHED, crop="none", voxel_size_mm=None):
    """Writes the model file `output` from one checkpoint, or from several as an ensemble
    (tensors prefixed member0., member1., ...). Returns the `aimos` metadata written.
    orientation and crop default to the published preparation's ("TLD", whole field of view)
    and are written out, so that the file says what it was trained on; voxel_size_mm (the
    training scans' voxel size) only when given.
    Raises ConversionError (nothing written) on bad input."""
    if architecture not in WIDTHS:
        raise ConversionError(f"unknown architecture '{architecture}'; use one of {', '.join(WIDTHS)}")
    if dtype not in OUTPUT_DTYPES:
        raise ConversionError(f"unknown dtype '{dtype}'; use one of {', '.join(OUTPUT_DTYPES)}")
    if not 1 <= len(checkpoints) <= MAX_MEMBERS:
        raise ConversionError(f"give 1 to {MAX_MEMBERS} checkpoints; got {len(checkpoints)}")
    check_classes(classes)
    smallest = 1 << len(WIDTHS[architecture])
    if not smallest <= input_size <= 4096:
        raise ConversionError(f"input size {input_size} must be from {smallest} ({architecture} pools "
                              f"{len(WIDTHS[architecture])} times) to 4096")
    if slice_axis not in (0, 1, 2):
        raise ConversionError(f"slice axis {slice_axis} must be 0, 1 or 2")
    try:
        metadata = aimos_metadata(architecture, classes, input_size, uncertainty, slice_axis, len(checkpoints),
                                  orientation=orientation, crop=crop, voxel_size_mm=voxel_size_mm)
    except ValueError as error:
        raise ConversionError(str(error)) from None
    for path in checkpoints:
        if os.path.exists(output) and os.path.exists(path) and os.path.samefile(path, output):
            raise ConversionError(f"{path}: the output would overwrite this checkpoint")

    tensors = {}
    for member, path in enumerate(checkpoints):
        try:
            state = load_state_dict(path)
        except CheckpointError as error:
            raise ConversionError(str(error)) from None
        prefix = f"member{member}." if len(checkpoints) > 1 else ""
        for name, value in check_state_dict(state, architecture, classes, uncertainty, path).items():
            tensors[prefix + name] = encode(value, dtype, name, path)

    write_atomically(output, tensors, {"aimos": json.dumps(metadata)})
    return metadata


def write_atomically(path, tensors, metadata):
    """safetensors_io.write to a temporary file in the target directory, then rename."""
    folder, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        safetensors_io.write(temporary, tensors, metadata)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
