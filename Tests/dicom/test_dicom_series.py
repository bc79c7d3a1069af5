"""DICOM series in (GDCM through Sources/CDicomBridge) and signals on their own grids.

Series are written by the project's own tool (aimostools.dicom.series_writer, pydicom) from the
bundled sample scan in several geometries; each is segmented through the DICOM route and, as a
NIfTI with the same voxels and affine, through the NIfTI route. The label maps must lie on the
same world grid (to 1e-6 mm, compared in nibabel's closest canonical layout, since a series'
planes are ordered along their normal) and hold the same labels. Folders in the shapes real
exports take (file order shuffled, two series, a missing or misplaced plane, compressed
transfer syntaxes, one enhanced multi-frame file) and a PET on a coarser, shifted grid, whose
per-organ means must equal an independent scipy resampling within 1e-3 relative.

Needs the built command and library (.build/release), pydicom and its JPEG-LS / JPEG 2000
encoders (pyjpegls, pylibjpeg-openjpeg), installed by .ci/run.
"""
import ctypes
import json
import math
import os
import shutil
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tools"))
from aimostools.dicom.series_writer import read_series, write_series  # noqa: E402

CLI = os.environ.get("AIMOS_CLI", os.path.join(ROOT, ".build", "release", "aimos-cli"))
LIBRARY = os.path.join(os.environ.get("AIMOS_LIBRARY_DIR", os.path.join(ROOT, ".build", "release")), "libaimos.so")
MODEL = os.path.join(ROOT, "models", "aimos-demo.safetensors")
SAMPLE = os.path.join(ROOT, "data", "sample", "sample_ct.nii.gz")
INPUT_ERROR = 2


@pytest.fixture(autouse=True)
def built():
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")


def segment(scan, output, *options, check=True):
    run = subprocess.run([CLI, "segment", "--model", MODEL, "--input", str(scan), "--output", str(output), "--quiet", *options],
                         capture_output=True, text=True, timeout=300)
    if check:
        assert run.returncode == 0, run.stderr
    return run


def sample():
    image = nib.load(SAMPLE)
    return np.asarray(image.dataobj).astype(np.int16), image.affine


def rotation(axis, degrees):
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    a, b = [i for i in range(3) if i != axis]
    r = np.eye(3)
    r[a, a], r[a, b], r[b, a], r[b, b] = c, -s, s, c
    return r


def geometry(name):
    """(voxels, RAS affine) of the sample in one of the tested geometries."""
    data, affine = sample()
    if name == "as-stored":
        return data, affine
    if name == "transverse-planes":
        # Planes across the long axis, as scanners cut them: voxel axes (x, z, y), x flipped.
        out = data.transpose(0, 2, 1)[::-1]
        m = np.eye(4)
        m[:3, 0], m[:3, 1], m[:3, 2] = -affine[:3, 0], affine[:3, 2], affine[:3, 1]
        m[:3, 3] = affine[:3, 3] + affine[:3, 0] * (data.shape[0] - 1)
        return np.ascontiguousarray(out), m
    m = np.eye(4)
    if name == "oblique-anisotropic":
        # Rotated 20 and 7 degrees, rows 0.45 mm apart, columns 0.5 mm, planes 0.6 mm, offset.
        m[:3, :3] = rotation(2, 20) @ rotation(0, 7) @ np.diag([0.5, 0.45, 0.6])
        m[:3, 3] = [-20.125, 13.5, -7.75]
        return data, m
    if name == "left-handed":
        # The planes' order runs against their normal (det < 0): the reader sorts them reversed.
        m[:3, :3] = np.diag([0.5, 0.5, -0.5])
        m[:3, 3] = [3.0, -2.0, 30.0]
        return data, m
    raise ValueError(name)


def save_nifti(data, affine, path):
    image = nib.Nifti1Image(data, affine)
    image.header.set_xyzt_units("mm")
    nib.save(image, str(path))
    return path


def canonical(path):
    image = nib.as_closest_canonical(nib.load(str(path)))
    return image.affine, np.asarray(image.dataobj)


def assert_same_world_grid_and_labels(a, b):
    affine_a, labels_a = canonical(a)
    affine_b, labels_b = canonical(b)
    assert labels_a.shape == labels_b.shape
    assert np.abs(affine_a - affine_b).max() < 1e-6, (affine_a, affine_b)
    assert np.array_equal(labels_a, labels_b), f"{(labels_a != labels_b).sum()} voxels differ"


@pytest.fixture(scope="module")
def sample_series(tmp_path_factory):
    """The sample as stored: a classic CT series and the NIfTI route's label map."""
    root = tmp_path_factory.mktemp("sample")
    data, affine = geometry("as-stored")
    uid, _ = write_series(data, affine, root / "ct", rescale_type="HU")
    segment(save_nifti(data, affine, root / "scan.nii.gz"), root / "nifti_labels.nii.gz")
    return {"root": root, "folder": root / "ct", "uid": uid, "labels": root / "nifti_labels.nii.gz", "data": data, "affine": affine}


@pytest.mark.parametrize("name", ["as-stored", "transverse-planes", "oblique-anisotropic", "left-handed"])
def test_series_gives_the_nifti_routes_grid_and_labels(tmp_path, name):
    data, affine = geometry(name)
    write_series(data, affine, tmp_path / "series", rescale_type="HU")
    segment(save_nifti(data, affine, tmp_path / "scan.nii.gz"), tmp_path / "nifti.nii.gz")
    segment(tmp_path / "series", tmp_path / "dicom.nii.gz")
    assert_same_world_grid_and_labels(tmp_path / "nifti.nii.gz", tmp_path / "dicom.nii.gz")
    # The label map is a NIfTI whose sform is the series' geometry, converted from LPS to RAS.
    written = nib.load(str(tmp_path / "dicom.nii.gz"))
    assert int(written.header["sform_code"]) == 1 and written.header.get_xyzt_units()[0] == "mm"


def test_file_order_in_the_folder_does_not_matter(tmp_path, sample_series):
    write_series(sample_series["data"], sample_series["affine"], tmp_path / "shuffled", shuffle=True, seed=3)
    import pydicom
    order = [int(pydicom.dcmread(tmp_path / "shuffled" / n).InstanceNumber) for n in sorted(os.listdir(tmp_path / "shuffled"))]
    assert order != sorted(order)   # the file names do not follow the planes
    segment(tmp_path / "shuffled", tmp_path / "labels.nii.gz")
    assert_same_world_grid_and_labels(sample_series["labels"], tmp_path / "labels.nii.gz")


@pytest.mark.parametrize("compression", ["rle", "jpegls", "jpeg2000"])
def test_compressed_transfer_syntaxes_decode_to_the_same_labels(tmp_path, sample_series, compression):
    import pydicom
    from aimostools.dicom.series_writer import COMPRESSIONS
    write_series(sample_series["data"], sample_series["affine"], tmp_path / compression, compression=compression)
    first = pydicom.dcmread(tmp_path / compression / sorted(os.listdir(tmp_path / compression))[0])
    assert first.file_meta.TransferSyntaxUID == COMPRESSIONS[compression] and first.file_meta.TransferSyntaxUID.is_compressed
    segment(tmp_path / compression, tmp_path / "labels.nii.gz")
    assert_same_world_grid_and_labels(sample_series["labels"], tmp_path / "labels.nii.gz")


def test_enhanced_multiframe_file_reads_like_the_classic_series(tmp_path, sample_series):
    write_series(sample_series["data"], sample_series["affine"], tmp_path / "enhanced", enhanced=True, compression="rle")
    files = os.listdir(tmp_path / "enhanced")
    assert len(files) == 1
    segment(tmp_path / "enhanced", tmp_path / "folder.nii.gz")
    segment(tmp_path / "enhanced" / files[0], tmp_path / "file.nii.gz")
    assert_same_world_grid_and_labels(sample_series["labels"], tmp_path / "folder.nii.gz")
    assert_same_world_grid_and_labels(sample_series["labels"], tmp_path / "file.nii.gz")


def test_two_series_in_one_folder_are_listed_and_one_is_picked(tmp_path, sample_series):
    both = tmp_path / "study"
    shutil.copytree(sample_series["folder"], both)
    pet_uid, _ = write_series(np.ones((10, 20, 6)), np.diag([2.0, 2.0, 2.0, 1.0]), both, modality="PT", prefix="PT",
                              per_plane_scale=True, units="BQML")
    run = segment(both, tmp_path / "labels.nii.gz", check=False)
    assert run.returncode == INPUT_ERROR
    assert "2 DICOM series" in run.stderr and sample_series["uid"] in run.stderr and pet_uid in run.stderr
    assert "--series" in run.stderr
    assert not (tmp_path / "labels.nii.gz").exists()
    run = segment(both, tmp_path / "labels.nii.gz", "--series", "1.2.3.4", check=False)
    assert run.returncode == INPUT_ERROR and "no DICOM series 1.2.3.4" in run.stderr
    segment(both, tmp_path / "labels.nii.gz", "--series", sample_series["uid"])
    assert_same_world_grid_and_labels(sample_series["labels"], tmp_path / "labels.nii.gz")


def plane_files(folder):
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("defect,message", [
    ("missing", "a plane is missing between"),
    ("uneven", "unevenly spaced"),
    ("duplicate", "lie at the same position"),
    ("off-line", "off the line through the first and last planes"),
    ("other-size", "pixels, the series' first file"),
])
def test_defective_series_is_refused_with_a_message_and_no_output(tmp_path, sample_series, defect, message):
    import pydicom
    folder = tmp_path / "series"
    if defect == "missing":
        write_series(sample_series["data"], sample_series["affine"], folder, drop_plane=20)
    else:
        shutil.copytree(sample_series["folder"], folder)
        path = folder / plane_files(folder)[20]
        ds = pydicom.dcmread(path)
        position = [float(v) for v in ds.ImagePositionPatient]
        if defect == "uneven":
            position[2] += 0.2            # 0.5 mm planes: this one 0.2 mm out of step
        elif defect == "duplicate":
            position[2] -= 0.5            # on top of its neighbour
        elif defect == "off-line":
            position[0] += 3.0            # shifted sideways
        if defect == "other-size":
            ds.Rows, ds.Columns = ds.Columns, ds.Rows
        ds.ImagePositionPatient = [f"{v:.6f}" for v in position]
        ds.save_as(path)
    out = tmp_path / "labels.nii.gz"
    run = segment(folder, out, check=False)
    assert run.returncode == INPUT_ERROR, run.stderr
    assert message in run.stderr
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.startswith("labels")]


def test_folder_without_dicom_and_unknown_series_flag_on_nifti_are_refused(tmp_path, sample_series):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not DICOM")
    run = segment(tmp_path / "empty", tmp_path / "labels.nii.gz", check=False)
    assert run.returncode == INPUT_ERROR and "holds no DICOM image file" in run.stderr
    run = segment(SAMPLE, tmp_path / "labels.nii.gz", "--series", "1.2.3", check=False)
    assert run.returncode == INPUT_ERROR and "not a DICOM folder or file" in run.stderr


def test_volumes_reads_the_scan_from_dicom(tmp_path, sample_series):
    nifti = subprocess.run([CLI, "volumes", str(sample_series["labels"]), "--scan", SAMPLE], capture_output=True, text=True)
    dicom = subprocess.run([CLI, "volumes", str(sample_series["labels"]), "--scan", str(sample_series["folder"])],
                           capture_output=True, text=True)
    assert nifti.returncode == 0 and dicom.returncode == 0, dicom.stderr
    assert nifti.stdout == dicom.stdout
    assert "intensity_mean" in dicom.stdout


class Options(ctypes.Structure):
    """aimos_options of include/aimos.h 1.1."""
    _fields_ = [("struct_size", ctypes.c_uint32), ("slice_axis", ctypes.c_int32), ("threads", ctypes.c_int32),
                ("keep_probabilities", ctypes.c_int32), ("progress", ctypes.c_void_p), ("user_data", ctypes.c_void_p),
                ("orientation", ctypes.c_int32), ("orientation_code", ctypes.c_char * 4), ("crop", ctypes.c_int32),
                ("separate_animals", ctypes.c_int32), ("world_matrix", ctypes.c_void_p), ("dicom_series", ctypes.c_char_p)]


def test_the_c_abi_file_entry_point_reads_a_series(tmp_path, sample_series):
    if not os.path.exists(LIBRARY):
        pytest.skip(f"libaimos.so is not built at {LIBRARY}")
    lib = ctypes.CDLL(LIBRARY)
    lib.aimos_load_model.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.aimos_segment_nifti.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
    lib.aimos_last_error.restype = ctypes.c_char_p
    lib.aimos_model_free.argtypes = [ctypes.c_void_p]
    model = ctypes.c_void_p()
    assert lib.aimos_load_model(MODEL.encode(), ctypes.byref(model)) == 0
    out = tmp_path / "abi.nii.gz"
    status = lib.aimos_segment_nifti(model, str(sample_series["folder"]).encode(), str(out).encode(), None)
    assert status == 0, lib.aimos_last_error()
    assert_same_world_grid_and_labels(sample_series["labels"], out)
    missing = tmp_path / "missing_plane"
    write_series(sample_series["data"], sample_series["affine"], missing, drop_plane=5)
    status = lib.aimos_segment_nifti(model, str(missing).encode(), str(tmp_path / "no.nii.gz").encode(), None)
    assert status == 3 and b"missing" in lib.aimos_last_error()   # AIMOS_ERROR_FORMAT
    assert not (tmp_path / "no.nii.gz").exists()
    # Two series in one folder: without options->dicom_series the error lists them; with it,
    # the one named is read. A 1.0-sized struct (no dicom_series) is read as without it.
    both = tmp_path / "study"
    shutil.copytree(sample_series["folder"], both)
    write_series(np.ones((10, 20, 6)), np.diag([2.0, 2.0, 2.0, 1.0]), both, modality="PT", prefix="PT")
    options = Options()
    lib.aimos_options_init_sized.argtypes = [ctypes.POINTER(Options), ctypes.c_uint32]
    lib.aimos_options_init_sized(ctypes.byref(options), ctypes.sizeof(Options))
    assert options.struct_size == ctypes.sizeof(Options) and options.dicom_series is None
    status = lib.aimos_segment_nifti(model, str(both).encode(), str(tmp_path / "two.nii.gz").encode(), ctypes.byref(options))
    assert status == 1 and b"2 DICOM series" in lib.aimos_last_error()   # AIMOS_ERROR_INVALID_ARGUMENT
    options.dicom_series = sample_series["uid"].encode()
    status = lib.aimos_segment_nifti(model, str(both).encode(), str(tmp_path / "picked.nii.gz").encode(), ctypes.byref(options))
    assert status == 0, lib.aimos_last_error()
    assert_same_world_grid_and_labels(sample_series["labels"], tmp_path / "picked.nii.gz")
    options.struct_size = Options.dicom_series.offset   # as a program built against 1.0 passes it
    status = lib.aimos_segment_nifti(model, str(both).encode(), str(tmp_path / "old.nii.gz").encode(), ctypes.byref(options))
    assert status == 1 and b"2 DICOM series" in lib.aimos_last_error()
    lib.aimos_model_free(model)


# --- signals on their own grid -------------------------------------------------------------

def pet_volume(shape, affine):
    """A smooth activity distribution over world space (Bq/mL), so resampling is well posed."""
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), axis=-1).reshape(-1, 3)
    world = ijk @ affine[:3, :3].T + affine[:3, 3]
    x, y, z = world.T
    return (5000 * (1.5 + np.sin(x / 6) * np.cos(y / 9) + 0.5 * np.cos(z / 4))).reshape(shape)


def pet_affine(scan_affine, shift=(0.37, -0.81, 0.23)):
    """0.8 mm voxels, rotated 5 degrees, shifted against the CT's grid."""
    m = np.eye(4)
    m[:3, :3] = rotation(2, 5) @ np.diag([0.8, 0.8, 0.8])
    m[:3, 3] = scan_affine[:3, 3] + np.array(shift)
    return m


def independent_organ_means(labels_path, scan_affine, pet, pet_affine_ras):
    """Per-label mean and count of the PET trilinearly resampled (scipy) at the CT's voxel centres,
    the voxels within the PET's field of view (half a voxel beyond its outer centres) only."""
    labels = np.asarray(nib.load(str(labels_path)).dataobj)
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in labels.shape], indexing="ij"), axis=0).reshape(3, -1)
    to_pet = np.linalg.inv(pet_affine_ras) @ scan_affine
    p = to_pet[:3, :3] @ ijk + to_pet[:3, 3:4]
    inside = np.all((p >= -0.5) & (p <= np.array(pet.shape)[:, None] - 0.5), axis=0)
    values = ndimage.map_coordinates(pet, p, order=1, mode="nearest")
    flat = labels.reshape(-1)
    return {c: (float(values[(flat == c) & inside].mean()) if ((flat == c) & inside).any() else float("nan"),
                int(((flat == c) & inside).sum())) for c in np.unique(flat)}


def organ_table(path):
    lines = [line for line in open(path).read().splitlines() if not line.startswith("#")]
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]


@pytest.mark.parametrize("signal_format", ["dicom", "nifti"])
def test_pet_on_its_own_grid_matches_an_independent_resampling(tmp_path, sample_series, signal_format):
    data, affine = sample_series["data"], sample_series["affine"]
    world_extent = np.array(data.shape) * 0.5
    shape = tuple(int(v) for v in np.ceil(world_extent / 0.8 * 0.85))   # the PET sees 85 % of each axis
    m = pet_affine(affine)
    pet = pet_volume(shape, m)
    if signal_format == "dicom":
        pet_uid, stored = write_series(pet, m, tmp_path / "pet", modality="PT", per_plane_scale=True,
                                       units="BQML", decay_correction="START")
        signal = tmp_path / "pet"
        seen, seen_affine = read_series(signal)   # pydicom's view of the series, not aimos's
    else:
        signal = save_nifti(pet.astype(np.float32), m, tmp_path / "pet.nii.gz")
        seen, seen_affine = np.asarray(nib.load(str(signal)).dataobj, dtype=float), nib.load(str(signal)).affine
    out = tmp_path / "labels.nii.gz"
    segment(sample_series["folder"], out, "--signal", str(signal), "--volumes", str(tmp_path / "table.csv"))
    segment(sample_series["folder"], tmp_path / "again.nii.gz", "--signal", str(signal), "--volumes", str(tmp_path / "table.json"))
    scan_affine = read_series(sample_series["folder"])[1]
    expected = independent_organ_means(out, scan_affine, seen, seen_affine)
    rows = organ_table(tmp_path / "table.csv")
    checked = 0
    for row in rows:
        mean, count = expected.get(int(row["class_index"]), (float("nan"), 0))
        assert abs(int(row["signal_voxels"]) - count) <= 1 + 0.001 * count, row
        if count > 50:
            assert abs(float(row["signal_mean"]) - mean) <= 1e-3 * abs(mean), (row["class"], row["signal_mean"], mean)
            checked += 1
    assert checked >= 5
    # Some organ voxels lie outside the PET's field of view, and they are not counted.
    assert sum(int(r["signal_voxels"]) for r in rows) < sum(int(r["voxels"]) for r in rows)
    first = open(tmp_path / "table.csv").readline()
    report = json.load(open(tmp_path / "table.json"))["signal"]
    assert first.startswith("# signal: ") and "resampled trilinearly" in first and report["resampled_from"].startswith(" x ".join(map(str, shape)))
    if signal_format == "dicom":
        assert "PT" in first and "units BQML" in first and "decay correction START" in first
        assert report["units"] == "BQML" and report["decay_correction"] == "START" and report["modality"] == "PT"


def test_signal_that_does_not_overlap_the_scan_is_refused(tmp_path, sample_series):
    m = pet_affine(sample_series["affine"], shift=(0, 0, 400))
    signal = save_nifti(np.ones((20, 20, 20), np.float32), m, tmp_path / "far.nii.gz")
    out = tmp_path / "labels.nii.gz"
    run = segment(sample_series["folder"], out, "--signal", str(signal), "--volumes", str(tmp_path / "t.csv"), check=False)
    assert run.returncode == INPUT_ERROR and "does not overlap the scan" in run.stderr
    assert not out.exists() and not (tmp_path / "t.csv").exists()


def test_signal_on_the_scans_grid_is_read_voxel_for_voxel(tmp_path, sample_series):
    data, affine = sample_series["data"], sample_series["affine"]
    signal = save_nifti((data.astype(np.float32) * 2 + 7), affine, tmp_path / "same.nii.gz")
    segment(SAMPLE, tmp_path / "labels.nii.gz", "--signal", str(signal), "--volumes", str(tmp_path / "t.csv"))
    for row in organ_table(tmp_path / "t.csv"):
        assert row["signal_voxels"] == row["voxels"]
        if int(row["voxels"]) > 0:
            assert abs(float(row["signal_mean"]) - (2 * float(row["intensity_mean"]) + 7)) < 1e-6 * max(1, abs(float(row["signal_mean"])))
    assert "on the scan's grid" in open(tmp_path / "t.csv").readline()
    # Same dims and no world matrix on the signal (as Analyze files): voxel for voxel too.
    bare = nib.Nifti1Image(data.astype(np.float32) * 2 + 7, None)
    bare.header.set_sform(None, code=0)
    bare.header.set_qform(None, code=0)
    nib.save(bare, str(tmp_path / "bare.nii.gz"))
    segment(SAMPLE, tmp_path / "labels2.nii.gz", "--signal", str(tmp_path / "bare.nii.gz"), "--volumes", str(tmp_path / "t2.csv"))
    assert [r["signal_mean"] for r in organ_table(tmp_path / "t2.csv")] == [r["signal_mean"] for r in organ_table(tmp_path / "t.csv")]
