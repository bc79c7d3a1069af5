#!/usr/bin/env python3
"""Shows or changes the `aimos` metadata of a model file without touching its tensors.

    aimos-model-metadata MODEL                                  # print it
    aimos-model-metadata MODEL --set orientation=HLD --set crop=body [-o OUT]

Values are parsed as JSON where they parse (numbers, true/false), else kept as strings. The
file is rewritten atomically (to OUT, or in place).
"""
import argparse
import json
import os
import struct
import sys
import tempfile


def read_header(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        return header, 8 + size


def write_with_header(source, header, data_start, target):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)          # keep the data 8-byte aligned
    directory = os.path.dirname(os.path.abspath(target))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".aimos-metadata-")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as f:
            out.write(struct.pack("<Q", len(text)))
            out.write(text)
            f.seek(data_start)
            while chunk := f.read(1 << 20):
                out.write(chunk)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def parse_value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("-o", "--output")
    args = parser.parse_args(argv)
    header, data_start = read_header(args.model)
    meta = json.loads(header.get("__metadata__", {}).get("aimos", "{}"))
    if not args.set:
        print(json.dumps(meta, indent=2))
        return 0
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--set needs KEY=VALUE, got '{item}'")
        meta[key] = parse_value(value)
    header.setdefault("__metadata__", {})["aimos"] = json.dumps(meta)
    write_with_header(args.model, header, data_start, args.output or args.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
