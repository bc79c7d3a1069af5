#!/usr/bin/env python3
"""Writes a synthetic light-sheet TIFF stack of any size, plane by plane in bounded memory, for
trying and benchmarking `aimos segment --input STACK` (needs tifffile: pip install 'Tools[lightsheet]').

    aimos-make-stack --shape 2000,6000,1500 --voxel-size 6 --out /tmp/stack
    aimos-make-stack --shape 500,1500,400 --voxel-size 6,6,10 --out /tmp/stack.ome.tif \\
        --layout multipage --ome --from-scan data/sample/sample_ct.nii.gz
    aimos-make-stack --shape 300,900,200 --voxel-size 6 --out /tmp/planes --unpadded --dtype uint8

Shape is X,Y,Z: plane z of X columns and Y rows. Layouts: planes (a folder of plane_00000.tif
..., or with --unpadded plane_0.tif ... plane_N.tif, which only a natural sort orders), multipage
(one classic TIFF, below 4 GiB), bigtiff. --ome puts OME-XML with PhysicalSizeX/Y/Z into the
first page's ImageDescription; without it the files carry no voxel size (aimos then needs
--voxel-size, in mm). Content: --from-scan upsamples a NIfTI scan (a CT in HU or a label map)
trilinearly onto the shape; without it a smooth ellipsoid mouse with a few brighter organs;
light-sheet marks (illumination falloff, stripes, camera noise) added at full resolution.
"""
import argparse
import os
import shutil
import sys
import time

from aimostools.lightsheet import stack_content, stack_writer


def parse_sizes(text, count, name, kind=int):
    try:
        values = [kind(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}: numbers separated by commas, not {text!r}")
    if kind is float and len(values) == 1:
        values = values * count
    if len(values) != count or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"{name}: {count} positive values, not {text!r}")
    return tuple(values)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", required=True, type=lambda t: parse_sizes(t, 3, "--shape"), help="X,Y,Z in voxels")
    parser.add_argument("--voxel-size", required=True, type=lambda t: parse_sizes(t, 3, "--voxel-size", float),
                        help="UM or X,Y,Z in µm (written with --ome; else only reported)")
    parser.add_argument("--out", required=True, help="a folder (planes) or a .tif file")
    parser.add_argument("--layout", choices=stack_writer.LAYOUTS, default="planes")
    parser.add_argument("--dtype", choices=list(stack_writer.DTYPES), default="uint16")
    parser.add_argument("--ome", action="store_true", help="OME-XML with the physical voxel size")
    parser.add_argument("--ome-unit", choices=list(stack_writer.OME_UNITS), default="µm",
                        help="unit of the OME physical sizes (default µm)")
    parser.add_argument("--from-scan", help="NIfTI scan to upsample (a CT in HU or a label map)")
    parser.add_argument("--scan-kind", choices=["auto", "ct", "labels"], default="auto",
                        help="how --from-scan's values map to brightness (auto: a label map if few small integers)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unpadded", action="store_true", help="planes layout: plane_0.tif ... (natural sort needed)")
    parser.add_argument("--rows-per-strip", type=int, help="rows per TIFF strip (default: about 1 MiB a strip)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="threads making planes ahead of the writer (0: none)")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser.parse_args(argv)


def free_bytes_near(path):
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    return shutil.disk_usage(folder).free


def make_stack(args, on_plane=None):
    """Writes the stack args describe; on_plane(z) after each plane is made. Returns the paths."""
    if args.from_scan:
        source = stack_content.source_from_scan(args.from_scan, args.scan_kind, args.seed)
    else:
        source = stack_content.synthetic_mouse(args.shape, args.seed)
    planes = stack_content.LightsheetPlanes(source, args.shape, args.dtype, args.seed)

    def make_plane(z):
        plane = planes(z)
        if on_plane:
            on_plane(z)
        return plane

    return stack_writer.write_stack(args.out, make_plane, args.shape, args.dtype, args.layout,
                                    voxel_size_um=args.voxel_size, ome=args.ome, unit=args.ome_unit,
                                    unpadded=args.unpadded, rows_per_strip=args.rows_per_strip,
                                    workers=args.workers, overwrite=args.overwrite)


def main(argv=None):
    args = parse_args(argv)
    size = stack_writer.stack_bytes(args.shape, args.dtype)
    if args.layout == "multipage" and not stack_writer.fits_classic_tiff(args.shape, args.dtype, args.rows_per_strip):
        sys.exit(f"aimos-make-stack: {size / 2 ** 30:.1f} GiB is too large for a classic TIFF "
                 "(32-bit offsets, under 4 GiB): use --layout bigtiff")
    free = free_bytes_near(args.out)
    if size > free:
        sys.exit(f"aimos-make-stack: the stack takes {size / 1e9:.1f} GB and {args.out}'s disk has "
                 f"{free / 1e9:.1f} GB free")
    start = time.perf_counter()
    depth = args.shape[2]
    step = max(1, depth // 10)

    def progress(z):
        if not args.quiet and (z + 1) % step == 0:
            print(f"  plane {z + 1}/{depth} ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)

    try:
        paths = make_stack(args, progress)
    except (ValueError, OSError) as error:
        sys.exit(f"aimos-make-stack: {error}")
    seconds = time.perf_counter() - start
    x, y, z = args.shape
    print(f"{args.out}: {x} x {y} x {z} {args.dtype} ({args.layout}, {len(paths)} file(s), "
          f"{size / 1e9:.2f} GB) in {seconds:.1f} s ({size / 1e6 / max(seconds, 1e-9):.0f} MB/s)")


if __name__ == "__main__":
    main()
