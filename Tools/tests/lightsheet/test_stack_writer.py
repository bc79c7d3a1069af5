"""The light-sheet stack writer: small stacks in every layout and dtype read back (with tifffile)
as the planes they were made of, OME physical sizes, names that only a natural sort orders,
planes written one at a time in bounded memory, and the classic TIFF's 4 GiB refusal."""
import os
import re
import tracemalloc
import xml.etree.ElementTree as ET

import nibabel as nib
import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile", reason="tifffile not installed (.ci/run installs it)")
from aimostools.cli import make_stack  # noqa: E402
from aimostools.lightsheet import stack_content, stack_writer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SAMPLE_CT = os.path.join(REPO, "data", "sample", "sample_ct.nii.gz")
SAMPLE_LABELS = os.path.join(REPO, "data", "sample", "sample_ct_labels.nii.gz")
OME_NS = {"ome": "http://www.openmicroscopy.org/Schemas/OME/2016-06"}
SHAPE = (23, 41, 7)   # X, Y, Z: odd sizes, X != Y, so that a transposed plane would not fit


def read_stack(path, layout):
    """The stack as a (Z, Y, X) array, planes in natural order for the planes layout."""
    if layout == "planes":
        names = sorted(os.listdir(path), key=natural_key)
        return np.stack([tifffile.imread(os.path.join(path, n)) for n in names])
    return tifffile.imread(path)


def natural_key(name):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def first_description(path, layout):
    first = os.path.join(path, sorted(os.listdir(path), key=natural_key)[0]) if layout == "planes" else path
    with tifffile.TiffFile(first) as tif:
        tag = tif.pages[0].tags.get("ImageDescription")
        return None if tag is None else tag.value


def out_path(tmp_path, layout):
    return str(tmp_path / ("stack" if layout == "planes" else "stack.tif"))


@pytest.mark.parametrize("layout", stack_writer.LAYOUTS)
@pytest.mark.parametrize("dtype", list(stack_writer.DTYPES))
def test_stack_reads_back_as_its_planes(tmp_path, layout, dtype):
    planes = stack_content.LightsheetPlanes(stack_content.synthetic_mouse(SHAPE, seed=3), SHAPE, dtype, seed=3)
    path = out_path(tmp_path, layout)
    written = stack_writer.write_stack(path, planes, SHAPE, dtype, layout, rows_per_strip=5)
    assert len(written) == (SHAPE[2] if layout == "planes" else 1)
    data = read_stack(path, layout)
    assert data.shape == (SHAPE[2], SHAPE[1], SHAPE[0]) and data.dtype == np.dtype(dtype)
    for z in range(SHAPE[2]):
        assert np.array_equal(data[z], planes(z)), f"plane {z}"
    with tifffile.TiffFile(written[0]) as tif:
        page = tif.pages[0]
        assert tif.is_bigtiff == (layout == "bigtiff")
        assert page.compression == 1, "uncompressed"
        assert not page.is_tiled and page.rowsperstrip == 5 and len(page.dataoffsets) == -(-SHAPE[1] // 5)
    assert first_description(path, layout) is None, "without --ome the files carry no voxel size"


@pytest.mark.parametrize("layout", stack_writer.LAYOUTS)
@pytest.mark.parametrize("unit, per_unit", [("µm", 1.0), ("nm", 1e-3), ("mm", 1e3)])
def test_ome_physical_sizes(tmp_path, layout, unit, per_unit):
    path = out_path(tmp_path, layout)
    voxel = (6.0, 6.5, 10.0)
    stack_writer.write_stack(path, lambda z: np.full((SHAPE[1], SHAPE[0]), z, np.uint16), SHAPE, "uint16",
                             layout, voxel_size_um=voxel, ome=True, unit=unit)
    pixels = ET.fromstring(first_description(path, layout)).find("ome:Image/ome:Pixels", OME_NS)
    for axis, size in zip("XYZ", voxel):
        assert float(pixels.get(f"PhysicalSize{axis}")) * per_unit == pytest.approx(size)
        assert pixels.get(f"PhysicalSize{axis}Unit") == unit
    assert (int(pixels.get("SizeX")), int(pixels.get("SizeY"))) == SHAPE[:2]
    assert int(pixels.get("SizeZ")) == (1 if layout == "planes" else SHAPE[2])
    if layout != "planes":
        with tifffile.TiffFile(path) as tif:
            assert tif.is_ome and tif.pages[1].tags.get("ImageDescription") is None, "first page only"
            assert tif.series[0].shape == (SHAPE[2], SHAPE[1], SHAPE[0])


def test_unpadded_names_need_a_natural_sort(tmp_path):
    shape = (8, 6, 12)
    folder = tmp_path / "planes"
    stack_writer.write_stack(str(folder), lambda z: np.full((6, 8), z, np.uint8), shape, "uint8", unpadded=True)
    names = os.listdir(folder)
    assert sorted(names, key=natural_key) == [f"plane_{z}.tif" for z in range(12)]
    assert sorted(names) != sorted(names, key=natural_key), "byte order puts plane_10 before plane_2"
    for z, name in enumerate(sorted(names, key=natural_key)):
        assert tifffile.imread(folder / name)[0, 0] == z


def test_padded_names_sort_in_z_order_both_ways():
    names = stack_writer.plane_names(120000)
    assert names[0] == "plane_000000.tif" and sorted(names) == names


def test_overwrite_removes_a_former_stacks_planes(tmp_path):
    folder = str(tmp_path / "planes")
    plane = lambda z: np.zeros((6, 8), np.uint8)  # noqa: E731
    stack_writer.write_stack(folder, plane, (8, 6, 12), "uint8")
    with pytest.raises(FileExistsError):
        stack_writer.write_stack(folder, plane, (8, 6, 3), "uint8")
    stack_writer.write_stack(folder, plane, (8, 6, 3), "uint8", unpadded=True, overwrite=True)
    assert sorted(os.listdir(folder)) == ["plane_0.tif", "plane_1.tif", "plane_2.tif"]


@pytest.mark.parametrize("layout", ["planes", "multipage"])
@pytest.mark.parametrize("workers", [0, 2])
def test_planes_are_written_one_at_a_time(tmp_path, layout, workers):
    """When plane z is made, every plane but the last workers + 1 is already on disk."""
    shape, plane_bytes = (64, 32, 20), 64 * 32 * 2
    path = out_path(tmp_path, layout)
    made = []

    def on_disk():
        if layout == "planes":
            return len(os.listdir(path)) if os.path.isdir(path) else 0
        return os.path.getsize(path) // plane_bytes if os.path.exists(path) else 0

    def make_plane(z):
        made.append((z, on_disk()))
        return np.full((shape[1], shape[0]), z, np.uint16)

    stack_writer.write_stack(path, make_plane, shape, "uint16", layout, workers=workers)
    assert sorted(z for z, _ in made) == list(range(shape[2])), "each plane made once"
    for z, written in made:
        # A file's buffer may hold back part of one plane, hence the extra 1 for multipage.
        assert written >= z - workers - 1 - (layout == "multipage"), (z, written)


def test_memory_stays_at_a_few_planes(tmp_path):
    """Peak Python-side allocation (numpy's included) while writing 128 planes: a few planes' worth."""
    shape = (256, 256, 128)
    plane_bytes = 256 * 256 * 2
    tracemalloc.start()
    try:
        stack_writer.write_stack(str(tmp_path / "s.tif"), lambda z: np.full((256, 256), z, np.uint16), shape,
                                 "uint16", "bigtiff", workers=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * plane_bytes, f"{peak} bytes at peak for a {128 * plane_bytes}-byte stack"


def test_classic_tiff_refuses_4_gib_before_making_a_plane(tmp_path):
    made = []
    shape = (32768, 32768, 2)   # exactly 4 GiB of uint16

    def make_plane(z):
        made.append(z)
        return np.zeros((shape[1], shape[0]), np.uint16)

    assert not stack_writer.fits_classic_tiff(shape, "uint16")
    assert stack_writer.fits_classic_tiff((32768, 32768, 1), "uint16")
    with pytest.raises(ValueError, match="bigtiff"):
        stack_writer.write_stack(str(tmp_path / "big.tif"), make_plane, shape, "uint16", "multipage")
    assert made == [] and not (tmp_path / "big.tif").exists()
    with pytest.raises(SystemExit, match="bigtiff"):
        make_stack.main(["--shape", "32768,32768,2", "--voxel-size", "6", "--out", str(tmp_path / "big.tif"),
                         "--layout", "multipage"])


def test_linear_weights_align_voxel_centres():
    lower, upper, weight = stack_content.linear_weights(4, 2)
    assert list(lower) == [0, 0, 0, 1] and list(upper) == [1, 1, 1, 1]
    assert np.allclose(weight, [0, 0.25, 0.75, 0])
    lower, upper, weight = stack_content.linear_weights(3, 3)
    assert list(lower) == [0, 1, 2] and np.allclose(weight, 0), "same size: the source itself"


def test_planes_depend_only_on_seed_and_z():
    source = stack_content.synthetic_mouse(SHAPE, seed=1)
    a = stack_content.LightsheetPlanes(source, SHAPE, "uint16", seed=1)
    b = stack_content.LightsheetPlanes(source, SHAPE, "uint16", seed=1)
    assert np.array_equal(a(5), b(5)) and np.array_equal(a(2), b(2))
    assert not np.array_equal(a(5), stack_content.LightsheetPlanes(source, SHAPE, "uint16", seed=2)(5))


def test_from_scan_looks_like_the_scan():
    shape = (82, 206, 48)  # the sample's own grid: the upsampling is the identity
    ct = stack_content.source_from_scan(SAMPLE_CT)
    labels = stack_content.source_from_scan(SAMPLE_LABELS)
    assert ct.shape == labels.shape == (48, 206, 82)
    assert not stack_content.looks_like_labels(np.asarray([-1000.0, 40.0]))
    assert labels.max() > 0 and np.all(labels[labels > 0] >= 0.35), "labels get brightness 0.35 to 1"
    plane = stack_content.LightsheetPlanes(ct, shape, "uint16")(24).astype(float)
    hu = np.asarray(nib.load(SAMPLE_CT).dataobj)[:, :, 24].T
    assert plane[hu > -200].mean() > 3 * plane[hu < -900].mean(), "tissue bright, air dark"


def test_synthetic_mouse_is_brighter_inside():
    shape = (40, 120, 30)
    plane = stack_content.LightsheetPlanes(stack_content.synthetic_mouse(shape), shape, "float32")(15)
    assert plane[50:70, 15:25].mean() > 3 * plane[:5, :5].mean()
    assert plane.min() >= 0


def test_command_writes_an_ome_stack_from_the_sample(tmp_path, capsys):
    out = tmp_path / "s.ome.tif"
    make_stack.main(["--shape", "40,100,12", "--voxel-size", "6,6,10", "--out", str(out), "--layout",
                     "multipage", "--ome", "--from-scan", SAMPLE_CT, "--quiet"])
    assert "40 x 100 x 12 uint16" in capsys.readouterr().out
    assert tifffile.imread(out).shape == (12, 100, 40)
    pixels = ET.fromstring(first_description(str(out), "multipage")).find("ome:Image/ome:Pixels", OME_NS)
    assert pixels.get("PhysicalSizeZ") == "10"
