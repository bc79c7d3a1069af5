#!/usr/bin/env python3
"""Shows or changes the `aimos` metadata of a model file without touching its tensors.

    aimos-model-metadata MODEL                                             # print it
    aimos-model-metadata MODEL --set voxel_size_mm=0.25 [--set KEY=VALUE ...] --out NEW
    aimos-model-metadata MODEL --set orientation=HLD --set crop=body --in-place

Only the safetensors header is rewritten: the tensors' bytes are copied unchanged. VALUE is
parsed as JSON where it parses (0.25, 3, true, ["background", "Heart"], "text"), else taken as
text (crop=body). Only the keys the engine reads are accepted, and each value is checked as the
engine checks it at load time. The new file appears whole or not at all (a temporary file next
to it, then renamed).
"""
import argparse
import json
import os
import sys

from aimostools.checkpoint import metadata_schema
from aimostools.checkpoint.safetensors_header import HeaderError, read_header, rewrite_header

EXIT_OK, EXIT_WRITE_FAILED, EXIT_BAD_INPUT = 0, 1, 2

EPILOG = f"""\
keys:
  {', '.join(metadata_schema.KEYS)}
  (README.md, "Model file", says what each means; architecture and classes are required)

exit status:
  0  printed, or the new file was written
  1  the new file could not be written (disk, permissions); the old one is unchanged
  2  bad input: not a model file, unknown key, refused value, no --out or --in-place;
     nothing is written
"""


class UsageError(Exception):
    """Bad input; nothing has been written."""


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="aimos-model-metadata", description=__doc__, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL", help="model file (.safetensors)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="give KEY the value VALUE (repeatable)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--out", "-o", "--output", dest="out", metavar="NEW",
                        help="write the changed model file here; MODEL stays as it is")
    target.add_argument("--in-place", action="store_true", help="replace MODEL by the changed file")
    return parser, parser.parse_args(argv)


def parse_value(text):
    """JSON where it parses, else the text itself. NaN and Infinity are not JSON numbers."""
    def refuse(constant):
        raise ValueError(constant)
    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError:  # json.JSONDecodeError is one
        return text


def parse_assignment(item):
    """(key, checked value) of one --set KEY=VALUE."""
    key, separator, text = item.partition("=")
    if not separator or not key:
        raise UsageError(f"--set needs KEY=VALUE, got '{item}'")
    try:
        return key, metadata_schema.check_value(key, parse_value(text))
    except ValueError as error:
        raise UsageError(str(error)) from None


def aimos_entry(header, path):
    """The decoded `aimos` metadata of a header ({} when the file has none)."""
    text = header.get("__metadata__", {}).get("aimos")
    if text is None:
        return {}
    try:
        metadata = json.loads(text)
    except json.JSONDecodeError as error:
        raise HeaderError(f"{path}: the 'aimos' metadata is not JSON ({error})") from None
    if not isinstance(metadata, dict):
        raise HeaderError(f"{path}: the 'aimos' metadata is not a JSON object")
    return metadata


def changed_header(args):
    """(header with the edits applied, data offset), after every check; raises UsageError or
    HeaderError (nothing written), OSError when MODEL cannot be read."""
    if not args.out and not args.in_place:
        raise UsageError("--set needs --out NEW or --in-place")
    if args.out and os.path.exists(args.out) and os.path.samefile(args.out, args.model):
        raise UsageError(f"--out {args.out} is MODEL itself; use --in-place to replace it")
    assignments = [parse_assignment(item) for item in args.set]
    header, data_start = read_header(args.model)
    metadata = aimos_entry(header, args.model)
    for key, value in assignments:
        metadata[key] = value
    try:
        metadata_schema.check_required(metadata)
    except ValueError as error:
        raise UsageError(f"{args.model}: {error}") from None
    header.setdefault("__metadata__", {})["aimos"] = json.dumps(metadata)
    return header, data_start


def main(argv=None):
    """Runs the tool; returns the exit status."""
    parser, args = parse_arguments(argv)
    if not args.set:
        if args.out or args.in_place:
            parser.error("--out and --in-place need --set")
        try:
            metadata = aimos_entry(read_header(args.model)[0], args.model)
        except (HeaderError, OSError) as error:
            print(f"aimos-model-metadata: error: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(json.dumps(metadata, indent=2))
        return EXIT_OK
    try:
        header, data_start = changed_header(args)
    except (UsageError, HeaderError, OSError) as error:
        print(f"aimos-model-metadata: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    target = args.model if args.in_place else args.out
    try:
        rewrite_header(args.model, header, data_start, target)
    except OSError as error:
        print(f"aimos-model-metadata: error: cannot write {target}: {error.strerror or error}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    print(f"wrote {target}: set {', '.join(dict.fromkeys(item.partition('=')[0] for item in args.set))}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
