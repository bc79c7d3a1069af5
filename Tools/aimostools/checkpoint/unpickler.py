"""Restricted unpicklers for torch.save checkpoints, with no PyTorch needed.

A pickle can call any importable function while it loads, so a downloaded checkpoint must not
go through pickle.load. These unpicklers resolve only the few globals that a checkpoint of model
weights contains (OrderedDict, the torch tensor rebuild functions, torch storage type tags, numpy
scalars) to harmless stand-ins written here, and refuse every other global by name.

Tensors come out of unpickling as PendingTensor placeholders (their storage bytes are read
after the pickle in the legacy format); materialize() turns them into numpy arrays.
"""
import _compat_pickle
import collections
import math
import pickle

import numpy as np

from aimostools.checkpoint import safetensors_io

# Limits a hostile file could otherwise abuse (a stride-0 tensor of 10^12 elements, ...).
MAX_TENSOR_ELEMENTS = 1 << 31


class CheckpointError(Exception):
    """The file is not a checkpoint this reader accepts (corrupt, unsupported or refused)."""


class StorageType:
    """Stand-in for torch.FloatStorage & co.: only tells the element type of a storage."""

    def __init__(self, name, dtype, bfloat16=False):
        self.name = name
        self.dtype = np.dtype(dtype)
        self.bfloat16 = bfloat16

    def __repr__(self):
        return f"torch.{self.name}"


STORAGE_TYPES = {t.name: t for t in [
    StorageType("FloatStorage", "<f4"), StorageType("DoubleStorage", "<f8"),
    StorageType("HalfStorage", "<f2"), StorageType("BFloat16Storage", "<u2", bfloat16=True),
    StorageType("LongStorage", "<i8"), StorageType("IntStorage", "<i4"),
    StorageType("ShortStorage", "<i2"), StorageType("CharStorage", "i1"),
    StorageType("ByteStorage", "u1"), StorageType("BoolStorage", "?"),
    StorageType("ComplexFloatStorage", "<c8"), StorageType("ComplexDoubleStorage", "<c16"),
]}


class StorageRef:
    """A storage named by a persistent id: `numel` elements of `storage_type`, starting
    `element_offset` elements into the raw bytes of record `root_key` (legacy storage views)."""

    def __init__(self, storage_type, root_key, numel, element_offset=0):
        self.storage_type = storage_type
        self.root_key = root_key
        self.numel = numel
        self.element_offset = element_offset

    def __setstate__(self, state):
        raise pickle.UnpicklingError("BUILD applied to a tensor storage")


class PendingTensor:
    """A tensor whose values are read once the storage bytes are known."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __setstate__(self, state):
        raise pickle.UnpicklingError("BUILD applied to a tensor")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _int_tuple(value, what):
    if not isinstance(value, (tuple, list)) or not all(_is_int(v) for v in value):
        raise CheckpointError(f"tensor {what} is {value!r}, not a tuple of integers")
    return tuple(value)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    """Stand-in for torch._utils._rebuild_tensor: checks the arguments, keeps them for later."""
    if not isinstance(storage, StorageRef):
        raise CheckpointError(f"a tensor is built on {type(storage).__name__}, not on a storage")
    if not _is_int(storage_offset):
        raise CheckpointError(f"tensor storage offset is {storage_offset!r}, not an integer")
    return PendingTensor(storage, storage_offset, _int_tuple(size, "size"), _int_tuple(stride, "stride"))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    """Stand-in for torch._utils._rebuild_tensor_v2 (gradient flags and hooks are dropped)."""
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    """Stand-in for torch._utils._rebuild_parameter: a Parameter is just its tensor here."""
    if not isinstance(data, PendingTensor):
        raise CheckpointError(f"a Parameter wraps {type(data).__name__}, not a tensor")
    return data


def _torch_size(values=()):
    return _int_tuple(values, "torch.Size")


def _codecs_encode(text, encoding="utf-8"):
    """Stand-in for _codecs.encode, which protocol-2 pickles use to store bytes as latin-1 text."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise CheckpointError(f"refused _codecs.encode({type(text).__name__}, {encoding!r})")
    return text.encode("latin1")


class NumpyDType:
    """Stand-in for numpy.dtype while unpickling a numpy scalar: numeric types only."""

    def __init__(self, code, align=False, copy=True):
        if not isinstance(code, str) or len(code) > 4:
            raise CheckpointError(f"refused numpy dtype {code!r}")
        try:
            dtype = np.dtype(code)
        except TypeError:
            raise CheckpointError(f"refused numpy dtype {code!r}") from None
        if dtype.kind not in "biufc":
            raise CheckpointError(f"refused numpy dtype {code!r}: only numeric scalars are read")
        self.dtype = dtype

    def __setstate__(self, state):
        # (version, byteorder, ...): only the byte order matters for a numeric type.
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">"):
            self.dtype = self.dtype.newbyteorder(state[1])


def _numpy_scalar(dtype, data=None):
    """Stand-in for numpy.core.multiarray.scalar: a numeric numpy scalar from its bytes."""
    if not isinstance(dtype, NumpyDType):
        raise CheckpointError("a numpy scalar without a numeric dtype was refused")
    if isinstance(data, str):  # protocol 0/1 text
        data = data.encode("latin1")
    if not isinstance(data, bytes) or len(data) != dtype.dtype.itemsize:
        raise CheckpointError("a numpy scalar has the wrong number of bytes")
    return np.frombuffer(data, dtype=dtype.dtype)[0]


# Globals that plain data (class id dicts, the legacy header) may reference.
PLAIN_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("_codecs", "encode"): _codecs_encode,
    ("numpy", "dtype"): NumpyDType,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
}

# ...plus what torch.save writes for tensors.
CHECKPOINT_GLOBALS = dict(PLAIN_GLOBALS)
CHECKPOINT_GLOBALS.update({
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch", "Size"): _torch_size,
})
for _name, _type in STORAGE_TYPES.items():
    CHECKPOINT_GLOBALS[("torch", _name)] = _type
    CHECKPOINT_GLOBALS[("torch.cuda", _name)] = _type  # very old files name the device type


class PlainDataUnpickler(pickle.Unpickler):
    """Unpickles plain containers, numbers and strings; refuses every other global."""

    allowed_globals = PLAIN_GLOBALS

    def find_class(self, module, name):
        # Protocol-2 pickles name Python 3 modules by their Python 2 names (__builtin__, ...).
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        found = self.allowed_globals.get((module, name))
        if found is None:
            raise CheckpointError(
                f"refused to load the global '{module}.{name}': a file of model weights never needs "
                "it, so it was not run (the file may be hostile, or holds more than weights)")
        return found

    def persistent_load(self, pid):
        raise CheckpointError(f"unexpected persistent id {pid!r} in plain data")


class CheckpointUnpickler(PlainDataUnpickler):
    """Unpickles the object of a torch.save file; storages become StorageRef placeholders.

    legacy: persistent ids carry a sixth field (storage view metadata), as PyTorch < 1.6 wrote.
    Records the element type seen for each storage key in `storage_types`."""

    allowed_globals = CHECKPOINT_GLOBALS

    def __init__(self, file, legacy):
        super().__init__(file)
        self.legacy = legacy
        self.storage_types = {}
        self.views = {}

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] not in ("storage", b"storage"):
            raise CheckpointError(f"unsupported persistent id {pid!r} (only tensor storages are read)")
        fields = pid[1:]
        if len(fields) != (5 if self.legacy else 4):
            raise CheckpointError(f"malformed storage id {pid!r}")
        storage_type, key, _location, numel = fields[:4]
        key = key.decode("ascii") if isinstance(key, bytes) else key
        if not isinstance(storage_type, StorageType) or not isinstance(key, str) or not _is_int(numel) or numel < 0:
            raise CheckpointError(f"malformed storage id {pid!r}")
        known = self.storage_types.setdefault(key, storage_type)
        if known.dtype.itemsize != storage_type.dtype.itemsize:
            raise CheckpointError(f"storage '{key}' is used with element sizes {known.dtype.itemsize} "
                                  f"and {storage_type.dtype.itemsize}")
        view = fields[4] if self.legacy else None
        if view is None:
            return StorageRef(storage_type, key, numel)
        if (not isinstance(view, tuple) or len(view) != 3 or not isinstance(view[0], str)
                or not _is_int(view[1]) or not _is_int(view[2]) or view[1] < 0 or view[2] < 0
                or view[1] + view[2] > numel):
            raise CheckpointError(f"malformed storage view {view!r}")
        view_key, offset, view_numel = view
        return self.views.setdefault(view_key, StorageRef(storage_type, key, view_numel, offset))


def unpickle(file, unpickler_class, *args):
    """Runs one restricted unpickler on `file`; every failure becomes a CheckpointError."""
    unpickler = unpickler_class(file, *args)
    try:
        return unpickler.load(), unpickler
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError("the pickle nests too deeply") from None
    except Exception as error:  # the pickle machinery raises many types on corrupt input
        raise CheckpointError(f"corrupt pickle ({type(error).__name__}: {error})") from None


def tensor_values(tensor, storage_bytes, byteorder):
    """The numpy array of a PendingTensor, given the raw bytes of its root storage record.

    Checks that offset, size and stride stay inside the storage; bfloat16 becomes float32."""
    storage = tensor.storage
    kind = storage.storage_type
    dtype = kind.dtype.newbyteorder("<" if byteorder == "little" else ">")
    end_element = storage.element_offset + storage.numel
    if end_element * dtype.itemsize > len(storage_bytes):
        raise CheckpointError(f"storage '{storage.root_key}' holds {len(storage_bytes)} bytes, "
                              f"fewer than its {end_element} {kind!r} elements need")
    elements = np.frombuffer(storage_bytes, dtype=dtype, count=end_element)[storage.element_offset:]
    size, stride, offset = tensor.size, tensor.stride, tensor.offset
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0:
        raise CheckpointError(f"tensor with size {size}, stride {stride}, offset {offset} is malformed")
    count = math.prod(size)
    if count > MAX_TENSOR_ELEMENTS:
        raise CheckpointError(f"tensor of size {size} is too large")
    if count == 0:
        values = np.zeros(size, dtype=dtype)
    else:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= storage.numel:
            raise CheckpointError(f"tensor with size {size}, stride {stride}, offset {offset} reaches "
                                  f"past its storage of {storage.numel} elements")
        values = np.lib.stride_tricks.as_strided(
            elements[offset:], shape=size, strides=[s * dtype.itemsize for s in stride], writeable=False).copy()
    values = values.astype(dtype.newbyteorder("="), copy=False)
    if kind.bfloat16:
        values = safetensors_io.from_bf16_bits(values)
    return values


def materialize(obj, read_tensor):
    """Replaces every PendingTensor in nested dicts, lists and tuples by read_tensor(it)."""
    # id(original) -> (original, result); holding the original keeps its id from being reused.
    results = {}

    def visit(node):
        known = results.get(id(node))
        if known is not None:
            return known[1]
        if isinstance(node, PendingTensor):
            result = read_tensor(node)
        elif isinstance(node, dict):
            results[id(node)] = (node, node)
            for key in list(node):
                node[key] = visit(node[key])
            return node
        elif isinstance(node, list):
            results[id(node)] = (node, node)
            node[:] = [visit(item) for item in node]
            return node
        elif type(node) is tuple:
            results[id(node)] = (node, node)  # a cycle back to this tuple sees the original
            result = tuple(visit(item) for item in node)
        else:
            return node
        results[id(node)] = (node, result)
        return result

    try:
        return visit(obj)
    except RecursionError:
        raise CheckpointError("the checkpoint nests too deeply") from None
