"""Model files of the project (safetensors, tensor names = AimosUNet state_dict keys, metadata
`aimos`) to and from reference.AimosUNet: export after training, loading for evaluation and
for transfer learning."""
import json

import numpy as np
import torch

from aimostools.unet import reference
from aimostools.checkpoint import safetensors_io
from aimostools.checkpoint.architecture import aimos_metadata

CLASSIFIER_PREFIX = "classify."
STORAGE_DTYPES = {"F32": np.float32, "F16": np.float16}


def network_tensors(state_dict):
    """The float tensors of a state_dict as float32 numpy arrays (running BatchNorm statistics
    included; the integer num_batches_tracked counters are left out, the engine ignores them)."""
    return {name: value.detach().cpu().float().numpy() for name, value in state_dict.items()
            if value.is_floating_point()}


def model_metadata(architecture, classes, input_size, uncertainty, slice_axis, orientation=None, crop=None,
                   voxel_size_mm=None):
    """The `aimos` metadata object of one trained network (orientation, crop and voxel_size_mm:
    see aimos_metadata)."""
    return aimos_metadata(architecture, classes, int(input_size), uncertainty, int(slice_axis),
                          orientation=orientation, crop=crop, voxel_size_mm=voxel_size_mm)


def export_model(path, state_dict, metadata, dtype="F32", training_info=None):
    """Writes one network as a model file; dtype F32 or F16. training_info (a JSON-able dict)
    goes to the extra metadata key `aimos_training`, which the engine ignores."""
    if dtype not in STORAGE_DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(STORAGE_DTYPES)}")
    tensors = {name: array.astype(STORAGE_DTYPES[dtype]) for name, array in network_tensors(state_dict).items()}
    entries = {"aimos": json.dumps(metadata)}
    if training_info is not None:
        entries["aimos_training"] = json.dumps(training_info)
    safetensors_io.write(path, tensors, entries)


def read_model(path):
    """(tensors as float32 numpy arrays, the `aimos` metadata dict)."""
    tensors, entries = safetensors_io.read(path)
    if "aimos" not in entries:
        raise ValueError(f"{path}: no 'aimos' entry in the safetensors metadata")
    metadata = json.loads(entries["aimos"])
    floats = {name: np.asarray(array, dtype=np.float32) for name, array in tensors.items()
              if np.asarray(array).dtype.kind == "f"}
    return floats, metadata


def output_channels(metadata):
    return len(metadata["classes"]) + (1 if metadata.get("uncertainty", False) else 0)


def load_state(net, tensors, skip_prefix=None):
    """Copies the named tensors into net; every float tensor of net must be given (apart from
    names starting with skip_prefix), and no tensor may be left over."""
    state = net.state_dict()
    wanted = {n for n, v in state.items() if v.is_floating_point()
              and not (skip_prefix and n.startswith(skip_prefix))}
    given = {n for n in tensors if not (skip_prefix and n.startswith(skip_prefix))}
    if wanted != given:
        raise ValueError(f"model tensors do not fit the network: missing {sorted(wanted - given)[:5]}, "
                         f"unexpected {sorted(given - wanted)[:5]}")
    for name in wanted:
        if tuple(tensors[name].shape) != tuple(state[name].shape):
            raise ValueError(f"tensor {name} has shape {tuple(tensors[name].shape)}, the network needs {tuple(state[name].shape)}")
        state[name] = torch.from_numpy(np.array(tensors[name], dtype=np.float32))
    net.load_state_dict(state)
    return net


def load_networks(path):
    """(list of AimosUNet in eval mode, one per ensemble member; the `aimos` metadata)."""
    tensors, metadata = read_model(path)
    members = int(metadata.get("ensemble_members", 1))
    nets = []
    for member in range(members):
        prefix = f"member{member}." if members > 1 else ""
        own = {n[len(prefix):]: v for n, v in tensors.items() if n.startswith(prefix)}
        net = reference.AimosUNet(metadata["architecture"], output_channels(metadata))
        nets.append(load_state(net, own).eval())
    return nets, metadata


def network_from_pretrained(path, architecture, out_channels):
    """The paper's fine-tuning start: a new AimosUNet with every tensor from the pretrained model
    file except the classifier, which keeps its fresh initialisation for the new class list
    (the published load_pretrained_model swaps in a new `classify` layer the same way)."""
    tensors, metadata = read_model(path)
    if int(metadata.get("ensemble_members", 1)) != 1:
        raise ValueError(f"{path}: an ensemble cannot be a pretrained start; export one member")
    if metadata["architecture"] != architecture:
        raise ValueError(f"{path} is a {metadata['architecture']}, not a {architecture}")
    net = reference.AimosUNet(architecture, out_channels)
    return load_state(net, tensors, skip_prefix=CLASSIFIER_PREFIX)
