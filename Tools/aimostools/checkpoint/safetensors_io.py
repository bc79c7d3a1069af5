"""Minimal safetensors reader/writer (numpy only), so the tools need no extra package."""
import json
import struct

import numpy as np

_NUMPY_OF = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "U8": np.uint8,
             "I8": np.int8, "I16": np.int16, "U16": np.uint16, "I32": np.int32, "I64": np.int64}
_CODE_OF = {np.dtype(v).str: k for k, v in _NUMPY_OF.items()}


def to_bf16_bits(values):
    """float32 -> bfloat16 bit patterns (uint16), rounding to nearest even."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def from_bf16_bits(bits):
    return (np.asarray(bits, dtype=np.uint32) << 16).view(np.float32)


def write(path, tensors, metadata=None):
    """tensors: name -> numpy array, or name -> ("BF16", uint16 bit array)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, value in tensors.items():
        if isinstance(value, tuple):
            code, array = value
        else:
            array = np.ascontiguousarray(value)
            code = _CODE_OF[array.dtype.str]
        data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read(path):
    """Returns (tensors as float32/int numpy arrays, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    metadata = header.pop("__metadata__", {})
    data = raw[8 + length:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        if info["dtype"] == "BF16":
            array = from_bf16_bits(np.frombuffer(data[begin:end], dtype="<u2"))
        else:
            array = np.frombuffer(data[begin:end], dtype=np.dtype(_NUMPY_OF[info["dtype"]]).newbyteorder("<"))
        tensors[name] = array.reshape(info["shape"])
    return tensors, metadata
