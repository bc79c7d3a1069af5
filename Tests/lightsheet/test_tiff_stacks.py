"""Light-sheet TIFF stacks (libtiff through Sources/CTiffBridge), streamed onto a working grid.

Stacks are made from the bundled sample scan, upsampled, in the layouts microscopes deliver: a
folder of planes with unpadded names (only a natural sort orders them), a multi-page OME-TIFF,
a tiled, compressed BigTIFF and an ImageJ hyperstack. Every layout must give the same label map
on the same working grid; the working grid must hold the exact block means of the stack
(checked through the organ table's intensity means against numpy); the full-resolution label
planes must be the nearest upsampling of the working labels; the C ABI's plane-callback entry
point must give the command's labels; defective stacks are refused with exit code 2 and no
output; and a stack of about 1 GB is segmented within a memory bound far below its size.

Needs the built command and library (.build/release) and tifffile (installed by .ci/run).
"""
import ctypes
import csv
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

tifffile = pytest.importorskip("tifffile", reason="tifffile is not installed (pip install tifffile; .ci/run does)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("AIMOS_CLI", os.path.join(ROOT, ".build", "release", "aimos-cli"))
LIBRARY = os.path.join(os.environ.get("AIMOS_LIBRARY_DIR", os.path.join(ROOT, ".build", "release")), "libaimos.so")
MODEL = os.path.join(ROOT, "models", "aimos-demo.safetensors")
SAMPLE = os.path.join(ROOT, "data", "sample", "sample_ct.nii.gz")
INPUT_ERROR = 2
VOXEL_MM = 0.25          # the stacks' voxel size: the sample's 0.5 mm upsampled twice
WORKING_MM = 0.75        # blocks of 3 x 3 x 3 stack voxels; the sizes below leave partial blocks


@pytest.fixture(autouse=True)
def built():
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")


def segment(stack, output, *options, check=True):
    run = subprocess.run([CLI, "segment", "--model", MODEL, "--input", str(stack), "--output", str(output), "--quiet", *options],
                         capture_output=True, text=True, timeout=600)
    if check:
        assert run.returncode == 0, run.stderr
    return run


@pytest.fixture(scope="module")
def volume():
    """The sample upsampled twice, as uint16 light-sheet-like brightness, (X, Y, Z) = (164, 412, 95)."""
    ct = np.asarray(nib.load(SAMPLE).dataobj).astype(np.float32)
    up = ndimage.zoom(ct, 2, order=1)[:, :, :95]
    return np.clip((up + 1100) * 20, 0, 65535).astype(np.uint16)


def zyx(volume):
    return np.ascontiguousarray(np.transpose(volume, (2, 1, 0)))


def write_planes(folder, volume, ome=False):
    os.makedirs(folder)
    for z in range(volume.shape[2]):
        tifffile.imwrite(os.path.join(folder, f"plane_{z}.tif"), np.ascontiguousarray(volume[:, :, z].T))
    return folder


@pytest.fixture(scope="module")
def stacks(tmp_path_factory, volume):
    """The same stack in four layouts: name -> (path, options needed)."""
    d = tmp_path_factory.mktemp("stacks")
    um = VOXEL_MM * 1000
    out = {"planes": (write_planes(str(d / "planes"), volume), ["--voxel-size", str(VOXEL_MM)])}
    tifffile.imwrite(d / "stack.ome.tif", zyx(volume), ome=True,
                     metadata={"axes": "ZYX", "PhysicalSizeX": um, "PhysicalSizeY": um, "PhysicalSizeZ": um})
    out["ome"] = (str(d / "stack.ome.tif"), [])
    tifffile.imwrite(d / "big.tif", zyx(volume), bigtiff=True, tile=(64, 64), compression="zlib")
    out["bigtiff"] = (str(d / "big.tif"), ["--voxel-size", str(VOXEL_MM)])
    tifffile.imwrite(d / "imagej.tif", zyx(volume), imagej=True, resolution=(1 / um, 1 / um),
                     metadata={"spacing": um, "unit": "um", "axes": "ZYX"})
    out["imagej"] = (str(d / "imagej.tif"), [])
    return out


@pytest.fixture(scope="module")
def segmented(tmp_path_factory, stacks):
    d = tmp_path_factory.mktemp("segmented")
    out = {}
    for name, (path, options) in stacks.items():
        labels, table = d / f"{name}.nii.gz", d / f"{name}.csv"
        segment(path, labels, "--working-voxel-size", str(WORKING_MM), "--volumes", str(table), *options)
        out[name] = (labels, table)
    return out


def block_means(volume, k):
    """Means of k x k x k blocks, the last ones partial (the working grid aimos must build)."""
    dims = [-(-n // k) for n in volume.shape]
    padded = np.zeros([d * k for d in dims], np.float64)
    counts = np.zeros_like(padded)
    padded[:volume.shape[0], :volume.shape[1], :volume.shape[2]] = volume
    counts[:volume.shape[0], :volume.shape[1], :volume.shape[2]] = 1
    shape = (dims[0], k, dims[1], k, dims[2], k)
    return padded.reshape(shape).sum(axis=(1, 3, 5)) / counts.reshape(shape).sum(axis=(1, 3, 5))


def test_every_layout_gives_one_label_map_on_the_working_grid(segmented, volume):
    reference = nib.load(segmented["ome"][0])
    labels = np.asarray(reference.dataobj)
    assert reference.shape == tuple(-(-n // 3) for n in volume.shape)
    assert np.allclose(reference.header.get_zooms(), WORKING_MM)
    # A working voxel sits at the centre of its block of stack voxels (voxel i at i * 0.25 mm).
    assert np.allclose(reference.affine[:3, 3], VOXEL_MM)
    assert len(np.unique(labels)) > 3, "the model found almost nothing"
    for name, (path, _) in segmented.items():
        assert np.array_equal(np.asarray(nib.load(path).dataobj), labels), name


def test_the_working_grid_holds_the_block_means(segmented, volume):
    """The organ table's intensity means (on the working grid) equal numpy's block means."""
    labels = np.asarray(nib.load(segmented["planes"][0]).dataobj)
    means = block_means(volume.astype(np.float64), 3)
    with open(segmented["planes"][1]) as f:
        rows = list(csv.DictReader(f))
    checked = 0
    for row in rows:
        inside = labels == int(row["class_index"])
        if inside.sum() == 0:
            continue
        assert float(row["intensity_mean"]) == pytest.approx(means[inside].mean(), rel=1e-5), row["class"]
        assert int(row["voxels"]) == int(inside.sum())
        checked += 1
    assert checked >= 4
    # The planes folder was named plane_0 ... plane_94: in byte order plane_10 would come second.
    assert float(rows[0]["intensity_mean"]) != pytest.approx(
        block_means(volume[:, :, np.argsort([str(z) for z in range(volume.shape[2])])].astype(np.float64), 3)[labels == 0].mean(), rel=1e-5)


def test_full_resolution_labels_are_the_nearest_upsampling(tmp_path, stacks):
    path, options = stacks["ome"]
    full = tmp_path / "full"
    segment(path, tmp_path / "labels.nii.gz", "--working-voxel-size", str(WORKING_MM), "--full-resolution-labels", str(full))
    working = np.asarray(nib.load(tmp_path / "labels.nii.gz").dataobj)
    names = sorted(os.listdir(full))
    assert names[0] == "labels_00000.tif" and len(names) == 95
    for z in (0, 1, 2, 3, 50, 94):
        plane = tifffile.imread(full / names[z]).T
        assert plane.shape == (164, 412) and plane.dtype == np.uint8
        assert np.array_equal(plane, np.repeat(np.repeat(working[:, :, z // 3], 3, 0), 3, 1)[:164, :412]), z
    # An existing folder is not replaced without --overwrite, and nothing is left behind.
    again = segment(path, tmp_path / "again.nii.gz", "--full-resolution-labels", str(full), check=False)
    assert again.returncode == INPUT_ERROR and "exists" in again.stderr
    assert not (tmp_path / "again.nii.gz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "labels.nii.gz"]


def test_full_resolution_labels_need_a_stack(tmp_path):
    run = segment(SAMPLE, tmp_path / "labels.nii.gz", "--full-resolution-labels", str(tmp_path / "full"), check=False)
    assert run.returncode == INPUT_ERROR and "TIFF stacks" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_stack_without_voxel_size_asks_for_one(tmp_path, stacks):
    run = segment(stacks["planes"][0], tmp_path / "labels.nii.gz", check=False)
    assert run.returncode == INPUT_ERROR and "--voxel-size" in run.stderr
    assert list(tmp_path.iterdir()) == []


def defective_stacks(folder, volume):
    cases = {}
    odd = write_planes(str(folder / "odd_plane"), volume[:, :, :6])
    tifffile.imwrite(os.path.join(odd, "plane_3.tif"), np.zeros((100, 80), np.uint16))
    cases["odd_plane"] = (odd, "plane_3.tif")
    rgb = str(folder / "rgb.tif")
    tifffile.imwrite(rgb, np.zeros((4, 32, 32, 3), np.uint8), photometric="rgb")
    cases["rgb"] = (rgb, "samples per pixel")
    whole = str(folder / "whole.tif")
    tifffile.imwrite(whole, zyx(volume[:, :, :8]))
    data = open(whole, "rb").read()
    truncated = str(folder / "truncated.tif")
    open(truncated, "wb").write(data[: len(data) // 2])
    cases["truncated"] = (truncated, "truncated.tif")
    garbage = str(folder / "garbage.tif")
    open(garbage, "wb").write(b"II*\0" + bytes(range(256)) * 8)
    cases["garbage"] = (garbage, "garbage.tif")
    stray = write_planes(str(folder / "stray_file"), volume[:, :, :5])
    tifffile.imwrite(os.path.join(stray, "overview_0.tif"), np.zeros((412, 164), np.uint16))
    cases["stray_file"] = (stray, "not named like")
    gap = write_planes(str(folder / "missing_plane"), volume[:, :, :6])
    os.unlink(os.path.join(gap, "plane_4.tif"))
    cases["missing_plane"] = (gap, "jump from 3 to 5")
    channels = str(folder / "channels.ome.tif")
    tifffile.imwrite(channels, np.zeros((4, 2, 32, 32), np.uint16), ome=True, metadata={"axes": "ZCYX"})
    cases["two_channels"] = (channels, "2 channels")
    bits = str(folder / "bits.tif")
    tifffile.imwrite(bits, np.zeros((3, 16, 16), np.float16), photometric="minisblack")
    cases["float16"] = (bits, "bit")
    return cases


def test_defective_stacks_are_refused_without_output(tmp_path, volume):
    for name, (path, says) in defective_stacks(tmp_path, volume).items():
        out = tmp_path / f"{name}_labels.nii.gz"
        run = segment(path, out, "--voxel-size", "0.25", check=False)
        assert run.returncode == INPUT_ERROR, (name, run.stderr)
        assert says in run.stderr, (name, run.stderr)
        assert not out.exists(), name
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".aimos")]


class PlaneSource(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("dtype", ctypes.c_int32), ("dims", ctypes.c_int64 * 3),
                ("spacing_mm", ctypes.c_double * 3),
                ("plane", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)),
                ("user_data", ctypes.c_void_p), ("working_voxel_size_mm", ctypes.c_double * 3)]


def library():
    lib = ctypes.CDLL(LIBRARY)
    lib.aimos_load_model.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.aimos_plane_source_init_sized.argtypes = [ctypes.POINTER(PlaneSource), ctypes.c_uint32]
    lib.aimos_segment_planes.argtypes = [ctypes.c_void_p, ctypes.POINTER(PlaneSource), ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.aimos_result_dims.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)]
    lib.aimos_result_spacing.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double)]
    lib.aimos_result_grid_factors.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)]
    lib.aimos_result_labels.argtypes = [ctypes.c_void_p]
    lib.aimos_result_labels.restype = ctypes.POINTER(ctypes.c_uint8)
    lib.aimos_last_error.restype = ctypes.c_char_p
    lib.aimos_free.argtypes = [ctypes.c_void_p]
    return lib


def test_the_abi_plane_callback_gives_the_commands_labels(segmented, volume):
    lib = library()
    model = ctypes.c_void_p()
    assert lib.aimos_load_model(MODEL.encode(), ctypes.byref(model)) == 0
    asked = []
    plane = np.empty(volume.shape[:2][::-1], np.uint16)

    @ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
    def next_plane(_user, z):
        asked.append(z)
        plane[...] = volume[:, :, z].T
        return plane.ctypes.data

    source = PlaneSource()
    lib.aimos_plane_source_init_sized(ctypes.byref(source), ctypes.sizeof(PlaneSource))
    assert source.struct_size == ctypes.sizeof(PlaneSource)
    source.dtype = 3  # AIMOS_DTYPE_UINT16
    source.dims[:] = volume.shape
    source.spacing_mm[:] = [VOXEL_MM] * 3
    source.plane = next_plane
    source.working_voxel_size_mm[:] = [WORKING_MM] * 3
    result = ctypes.c_void_p()
    assert lib.aimos_segment_planes(model, ctypes.byref(source), None, ctypes.byref(result)) == 0, lib.aimos_last_error()
    assert asked == list(range(volume.shape[2])), "planes asked for out of order or more than once"
    dims, spacing, factors = (ctypes.c_int64 * 3)(), (ctypes.c_double * 3)(), (ctypes.c_int64 * 3)()
    assert lib.aimos_result_dims(result, dims) == 0 and lib.aimos_result_spacing(result, spacing) == 0
    assert lib.aimos_result_grid_factors(result, factors) == 0
    assert list(factors) == [3, 3, 3] and np.allclose(list(spacing), WORKING_MM)
    n = dims[0] * dims[1] * dims[2]
    labels = np.ctypeslib.as_array(lib.aimos_result_labels(result), (n,)).reshape(tuple(dims)[::-1]).transpose(2, 1, 0)
    expected = np.asarray(nib.load(segmented["planes"][0]).dataobj)
    assert np.array_equal(labels, expected)
    lib.aimos_free(result)

    # A callback that fails aborts with AIMOS_ERROR_IO (2) and no result.
    @ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
    def failing(_user, z):
        return None if z == 7 else plane.ctypes.data

    source.plane = failing
    result = ctypes.c_void_p()
    status = lib.aimos_segment_planes(model, ctypes.byref(source), None, ctypes.byref(result))
    assert status == 2 and not result.value and b"plane 7" in lib.aimos_last_error()
    source.plane = next_plane
    source.spacing_mm[1] = float("nan")
    assert lib.aimos_segment_planes(model, ctypes.byref(source), None, ctypes.byref(result)) == 1  # INVALID_ARGUMENT
    lib.aimos_free(model)


def test_a_1_gb_stack_is_streamed_in_bounded_memory(tmp_path):
    """About 1 GB of uint16 planes: peak memory far below the stack's size (the goal: 2 GiB at
    any size), and the working grid at the model's training voxel size."""
    shape = (1024, 1536, 340)
    stack_bytes = shape[0] * shape[1] * shape[2] * 2
    stack = tmp_path / "stack"
    subprocess.run([sys.executable, "-m", "aimostools.cli.make_stack", "--shape", ",".join(map(str, shape)),
                    "--voxel-size", "20", "--out", str(stack), "--layout", "planes", "--from-scan", SAMPLE],
                   check=True, timeout=900, env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "Tools")})
    # The peak resident memory of aimos alone (wait4's ru_maxrss, KiB), measured by a small
    # fresh interpreter: a child forked from pytest itself would count pytest's pages too.
    measure = "import os, sys, subprocess; p = subprocess.Popen(sys.argv[1:]); _, s, u = os.wait4(p.pid, 0); print(u.ru_maxrss, os.waitstatus_to_exitcode(s))"
    done = subprocess.run([sys.executable, "-c", measure, CLI, "segment", "--model", MODEL, "--input", str(stack),
                           "--output", str(tmp_path / "labels.nii.gz"), "--voxel-size", "0.02", "--volumes", str(tmp_path / "v.csv"),
                           "--quiet"], capture_output=True, text=True, timeout=900)
    kib, code = map(int, done.stdout.split())
    assert code == 0, done.stderr
    peak = kib * 1024
    print(f"1 GB stack: peak RSS {peak / 2**20:.0f} MiB for {stack_bytes / 2**30:.2f} GiB of planes")
    assert peak < 2 * 2**30
    assert peak < stack_bytes / 4, f"peak {peak / 2**20:.0f} MiB: the stack is not streamed"
    image = nib.load(tmp_path / "labels.nii.gz")
    with open(os.path.join(ROOT, "models", "aimos-demo.safetensors"), "rb") as f:
        header = f.read(8 + int.from_bytes(f.read(8), "little"))
    trained = 0.25 if b"voxel_size_mm" in header else 0.1
    factor = int(trained / 0.02 + 0.5)   # halves round up, as aimos rounds them (Python's round would not)
    assert image.shape == tuple(-(-n // factor) for n in shape)
    assert np.allclose(image.header.get_zooms(), factor * 0.02, rtol=1e-5)


def test_overwrite_replaces_only_a_folder_of_label_planes(tmp_path, stacks):
    path, _ = stacks["ome"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    run = segment(path, tmp_path / "l.nii.gz", "--full-resolution-labels", f"{mine}/", "--overwrite", check=False)
    assert run.returncode == INPUT_ERROR and "which aimos did not write" in run.stderr
    assert os.listdir(mine) == ["notes.txt"] and not (tmp_path / "l.nii.gz").exists()
    # A folder of planes from an earlier run is replaced as a whole (given with a trailing slash).
    full = tmp_path / "full"
    segment(path, tmp_path / "a.nii.gz", "--working-voxel-size", str(WORKING_MM), "--full-resolution-labels", f"{full}/")
    segment(path, tmp_path / "a.nii.gz", "--working-voxel-size", "0.5", "--full-resolution-labels", f"{full}/", "--overwrite")
    assert len(os.listdir(full)) == 95
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".aimos")]
