"""The JSON header of a safetensors file, read and rewritten on its own, so that a model file's
metadata can change without its tensors being decoded: their bytes are copied unchanged.

Layout: an 8-byte little-endian header length N, N bytes of JSON (padded with spaces so that
the data start at a multiple of 8), then the tensors' bytes. stdlib only.
"""
import json
import os
import shutil
import stat
import struct
import tempfile

# safetensors itself refuses headers above 100 MB; a model header is a few kB.
MAX_HEADER_BYTES = 100_000_000


class HeaderError(Exception):
    """The file is not a readable safetensors file; the message names it and the problem."""


def read_header(path):
    """(header dict, offset of the data section) of the safetensors file at `path`.
    Raises HeaderError for a file that is not one; OSError when it cannot be read."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise HeaderError(f"{path}: {size} bytes, too short for a safetensors file")
        (length,) = struct.unpack("<Q", prefix)
        if length > min(MAX_HEADER_BYTES, size - 8):
            raise HeaderError(f"{path}: header length {length} does not fit the file ({size} bytes)")
        text = f.read(length)
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HeaderError(f"{path}: the header is not JSON ({error})") from None
    if not isinstance(header, dict):
        raise HeaderError(f"{path}: the header is not a JSON object")
    data_start = 8 + length
    check_entries(path, header, size - data_start)
    return header, data_start


def check_entries(path, header, data_length):
    """Every tensor's byte range lies inside the data section; __metadata__ maps text to text."""
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise HeaderError(f"{path}: __metadata__ is not a map of strings")
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= data_length):
            raise HeaderError(f"{path}: tensor '{name}' has no byte range inside the data section")


def encode_header(header):
    """The header's bytes as stored: compact JSON padded with spaces to a multiple of 8."""
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return text + b" " * (-len(text) % 8)


def rewrite_header(source, header, data_start, target):
    """Writes `target`: `header`, then the data section of `source` (from data_start) byte for
    byte. Atomic: a temporary file in the target's folder, synced, then renamed over `target`,
    so that a failure leaves the old file (and no temporary one). The new file gets the source's
    permissions, not mkstemp's owner-only ones."""
    text = encode_header(header)
    folder = os.path.dirname(os.path.abspath(target))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".aimos-metadata-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as f:
            out.write(struct.pack("<Q", len(text)))
            out.write(text)
            f.seek(data_start)
            shutil.copyfileobj(f, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(os.stat(source).st_mode))
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
