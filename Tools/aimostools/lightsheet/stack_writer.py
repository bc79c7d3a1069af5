"""Writes a light-sheet stack as TIFF, plane by plane, in bounded memory, with tifffile;
uncompressed strips. At most `workers` + 1 planes exist at once whatever the stack's depth (the
planes being made ahead and the one being written), plus what make_plane keeps per thread.

Layouts, as microscopes and their software deliver them:
- planes:    a folder of one 2D TIFF per z, plane_00000.tif, plane_00001.tif, ... or, with
             unpadded names, plane_0.tif ... plane_1499.tif (only a natural sort orders those);
- multipage: one classic TIFF of Z pages (offsets are 32-bit: refused at 4 GiB and over);
- bigtiff:   one BigTIFF of Z pages (64-bit offsets, any size).

With `ome`, the first page's ImageDescription holds OME-XML (UTF-8) with the stack's size and
PhysicalSizeX/Y/Z (in µm unless another unit is asked for); in the planes layout every file
carries it for its own plane (SizeZ 1). Without it the files say nothing about the voxel size.

Axes: stack voxel (x, y, z) is page (or file) z, row y, column x; shape is given as (X, Y, Z).
"""
import collections
import concurrent.futures
import os

import numpy as np
import tifffile

LAYOUTS = ("planes", "multipage", "bigtiff")
DTYPES = {"uint16": np.uint16, "uint8": np.uint8, "float32": np.float32}
OME_TYPES = {"uint16": "uint16", "uint8": "uint8", "float32": "float"}
# Length units and their size in µm, for PhysicalSize*Unit (OME's default is µm).
OME_UNITS = {"µm": 1.0, "nm": 1e-3, "mm": 1e3}
CLASSIC_TIFF_LIMIT = 1 << 32
STRIP_BYTES = 1 << 20        # about 1 MiB a strip: a page of many strips, as cameras write them
PAGE_OVERHEAD_BYTES = 4096   # a classic page's IFD and tag values, generously (a handful in fact)
SOFTWARE = "aimos-make-stack"


def stack_bytes(shape, dtype):
    """Bytes of pixel data of a stack of shape (X, Y, Z)."""
    x, y, z = shape
    return x * y * z * np.dtype(DTYPES[dtype]).itemsize


def default_rows_per_strip(shape, dtype):
    row_bytes = shape[0] * np.dtype(DTYPES[dtype]).itemsize
    return max(1, min(shape[1], STRIP_BYTES // row_bytes))


def fits_classic_tiff(shape, dtype, rows_per_strip=None):
    """Whether one classic TIFF (32-bit offsets) can hold the stack, with its IFDs and strip tables."""
    rows = rows_per_strip or default_rows_per_strip(shape, dtype)
    strips_per_page = -(-shape[1] // rows)
    tables = shape[2] * (PAGE_OVERHEAD_BYTES + 8 * strips_per_page)
    return stack_bytes(shape, dtype) + tables < CLASSIC_TIFF_LIMIT


def plane_names(count, unpadded=False):
    """File names of the planes layout, in z order."""
    if unpadded:
        return [f"plane_{z}.tif" for z in range(count)]
    width = max(5, len(str(count - 1)))
    return [f"plane_{z:0{width}d}.tif" for z in range(count)]


def ome_xml(shape, voxel_size_um, dtype, unit="µm", planes=None):
    """OME-XML of a single-channel stack of shape (X, Y, Z), voxel size (x, y, z) in µm, as UTF-8
    bytes; `planes`: the number of planes this file holds (default: all Z)."""
    x, y, z = shape
    per_unit = OME_UNITS[unit]
    sx, sy, sz = (f"{size / per_unit:.9g}" for size in voxel_size_um)
    planes = z if planes is None else planes
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 '
        'http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd" Creator="' + SOFTWARE + '">'
        '<Image ID="Image:0" Name="synthetic light-sheet stack">'
        f'<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="{OME_TYPES[dtype]}" BigEndian="false" '
        f'SizeX="{x}" SizeY="{y}" SizeZ="{planes}" SizeC="1" SizeT="1" '
        f'PhysicalSizeX="{sx}" PhysicalSizeXUnit="{unit}" PhysicalSizeY="{sy}" PhysicalSizeYUnit="{unit}" '
        f'PhysicalSizeZ="{sz}" PhysicalSizeZUnit="{unit}">'
        '<Channel ID="Channel:0:0" SamplesPerPixel="1"><LightPath/></Channel>'
        f'<TiffData IFD="0" PlaneCount="{planes}"/>'
        '</Pixels></Image></OME>'
    )
    return xml.encode("utf-8")


def planes_in_order(make_plane, count, workers=1):
    """make_plane(0), ..., make_plane(count - 1), computed up to `workers` ahead on threads
    (numpy releases the GIL, so planes are made while the last is written)."""
    if workers <= 0:
        for z in range(count):
            yield make_plane(z)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        pending = collections.deque()
        next_z = 0
        while next_z < count or pending:
            while next_z < count and len(pending) < workers:
                pending.append(pool.submit(make_plane, next_z))
                next_z += 1
            yield pending.popleft().result()


def _checked(planes, shape, dtype):
    for plane in planes:
        if plane.shape != (shape[1], shape[0]) or plane.dtype != DTYPES[dtype]:
            raise ValueError(f"plane of shape {plane.shape} and {plane.dtype}; expected "
                             f"{(shape[1], shape[0])} and {dtype}")
        yield plane


def write_stack(path, make_plane, shape, dtype="uint16", layout="planes", voxel_size_um=None,
                ome=False, unit="µm", unpadded=False, rows_per_strip=None, workers=1, overwrite=False):
    """Writes the stack of shape (X, Y, Z) whose plane z is make_plane(z), a (Y, X) array of
    `dtype`, to `path` (a folder for the planes layout, else a file). Returns the paths written."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r} ({', '.join(LAYOUTS)})")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r} ({', '.join(DTYPES)})")
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"shape must be three positive sizes X, Y, Z, not {shape}")
    if ome and (voxel_size_um is None or len(voxel_size_um) != 3 or min(voxel_size_um) <= 0):
        raise ValueError("OME metadata needs a positive voxel size (x, y, z) in µm")
    if unit not in OME_UNITS:
        raise ValueError(f"unknown unit {unit!r} ({', '.join(OME_UNITS)})")
    rows = rows_per_strip or default_rows_per_strip(shape, dtype)
    if layout == "multipage" and not fits_classic_tiff(shape, dtype, rows):
        raise ValueError(f"a classic TIFF holds less than 4 GiB and this stack is "
                         f"{stack_bytes(shape, dtype) / 2 ** 30:.1f} GiB: use --layout bigtiff")
    if os.path.lexists(path) and not overwrite:
        raise FileExistsError(f"{path} exists (overwrite=True replaces it)")
    planes = _checked(planes_in_order(make_plane, shape[2], workers), shape, dtype)
    options = dict(photometric="minisblack", rowsperstrip=rows, metadata=None, software=SOFTWARE)
    if layout == "planes":
        return _write_planes(path, planes, shape, dtype, voxel_size_um, ome, unit, unpadded, options)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder; the {layout} layout writes one file")
    description = ome_xml(shape, voxel_size_um, dtype, unit) if ome else None
    with tifffile.TiffWriter(path, bigtiff=layout == "bigtiff", ome=False) as tif:
        tif.write(planes, shape=(shape[2], shape[1], shape[0]), dtype=DTYPES[dtype],
                  description=description, **options)
    return [path]


def _write_planes(folder, planes, shape, dtype, voxel_size_um, ome, unit, unpadded, options):
    os.makedirs(folder, exist_ok=True)
    names = plane_names(shape[2], unpadded)
    stale = set(os.listdir(folder)) - set(names)
    for name in stale:      # a former stack's planes would be read as part of this one
        if name.startswith("plane_") and name.endswith(".tif"):
            os.remove(os.path.join(folder, name))
    description = ome_xml(shape, voxel_size_um, dtype, unit, planes=1) if ome else None
    paths = []
    for name, plane in zip(names, planes):
        path = os.path.join(folder, name)
        tifffile.imwrite(path, plane, description=description, **options)
        paths.append(path)
    return paths
