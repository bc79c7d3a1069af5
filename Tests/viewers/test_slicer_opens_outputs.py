"""3D Slicer opens what `aimos segment` writes: the label map on the scan's grid, named and
coloured by the .ctbl colour table, and turned into one segment per organ.

Uses 3D Slicer's own core libraries (PyPI's slicer-core: the Colors, Volumes and Segmentations
module logic and MRML storage nodes that the application runs) through the README's command
line, Examples/slicer/load_aimos_results.py. Skips, saying why, when slicer-core is not
installed (.ci/run installs it).
"""
import csv
import importlib.util
import io
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

from viewer_cases import SLICER_SCRIPT, read_label_descriptions

slicer = pytest.importorskip("slicer_core", reason="3D Slicer's core libraries are not installed (pip install slicer-core)")


@pytest.fixture(scope="session")
def in_slicer(segmented):
    """The case's scan, label map and colour table loaded once through the README's script:
    (scene, scan node, label map node, colour node)."""
    spec = importlib.util.spec_from_file_location("load_aimos_results", SLICER_SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    session = script.SlicerScene()
    return (session, *session.load(segmented.scan, segmented.labels, segmented.slicer_colors))


def vtk_voxels(image_data):
    """A vtkImageData's scalars as a numpy array indexed [x, y, z], like nibabel's."""
    from vtk.util.numpy_support import vtk_to_numpy
    nx, ny, nz = image_data.GetDimensions()
    flat = vtk_to_numpy(image_data.GetPointData().GetScalars())
    return flat.reshape(nz, ny, nx).transpose(2, 1, 0)


def ijk_to_ras(node):
    import vtk
    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return np.array([[matrix.GetElement(i, j) for j in range(4)] for i in range(4)])


def test_the_readme_command_line_prints_the_organ_table_aimos_wrote(segmented):
    run = subprocess.run([sys.executable, SLICER_SCRIPT, segmented.scan, segmented.labels, segmented.slicer_colors],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"# colour table: labels, {len(segmented.classes)} colours"
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in lines if not l.startswith("#")))))
    expected = [r for r in segmented.volumes if int(r["voxels"]) > 0]
    assert [int(r["label"]) for r in rows] == [int(r["class_index"]) for r in expected]
    organs_found = len(expected) - 1
    assert organs_found >= 5  # the bundled model finds most organs in the sample scan
    assert lines[1] == f"# segmentation 'organs': {organs_found} segments"
    for row, want in zip(rows, expected):
        index = int(want["class_index"])
        assert row["name"] == segmented.classes[index][2]
        assert int(row["voxels"]) == int(want["voxels"])
        assert float(row["volume_mm3"]) == pytest.approx(float(want["volume_mm3"]), rel=1e-6)


def in_file_order(node, file_affine):
    """A volume node's voxels re-indexed to the file's grid. Slicer may keep them in another
    order than the file (it reverses the slice axis of a left-handed grid) and says so in its
    IJK-to-RAS matrix, so map each of its voxels to the file's index of the same point."""
    ijk_to_file_ijk = np.linalg.inv(file_affine) @ ijk_to_ras(node)
    whole = np.round(ijk_to_file_ijk)
    np.testing.assert_allclose(ijk_to_file_ijk, whole, atol=1e-4)  # the same grid, whole voxels apart
    voxels = vtk_voxels(node.GetImageData())
    indices = np.indices(voxels.shape).reshape(3, -1)
    target = (whole[:3, :3] @ indices + whole[:3, 3:4]).astype(np.int64)
    assert (target.min(axis=1) == 0).all() and (target.max(axis=1) == np.array(voxels.shape) - 1).all()
    reordered = np.empty_like(voxels)
    reordered[tuple(target)] = voxels.ravel()
    return reordered


def test_slicer_puts_the_label_map_on_the_scan(segmented, in_slicer):
    _, scan, label_map, _ = in_slicer
    assert label_map.IsA("vtkMRMLLabelMapVolumeNode")
    # Voxel to patient (RAS) mapping: the label map's is the scan's.
    np.testing.assert_allclose(ijk_to_ras(label_map), ijk_to_ras(scan), atol=1e-6)
    # Each voxel, at the point Slicer puts it, holds what the files hold there: the scan's
    # intensities and the labels aimos wrote (nibabel's affine is voxel-to-RAS too).
    scan_file = nib.load(segmented.scan)
    np.testing.assert_array_equal(in_file_order(scan, scan_file.affine), np.asarray(scan_file.dataobj))
    labels_file = nib.load(segmented.labels)
    np.testing.assert_array_equal(in_file_order(label_map, labels_file.affine), np.asarray(labels_file.dataobj))


def test_slicer_names_and_colours_every_class_from_the_colour_table(segmented, in_slicer):
    _, _, label_map, color_node = in_slicer
    assert label_map.GetDisplayNode().GetColorNodeID() == color_node.GetID()
    assert color_node.GetNumberOfColors() == len(segmented.classes)
    itksnap_table = read_label_descriptions(segmented.itksnap_labels)
    for index, (_, _, slicer_name) in enumerate(segmented.classes):
        assert color_node.GetColorName(index) == slicer_name
        rgba = [0.0] * 4
        color_node.GetColor(index, rgba)
        rgb = tuple(round(c * 255) for c in rgba[:3])
        assert rgb == itksnap_table[index][:3]  # the same colour in both viewers' files
        assert rgba[3] == (0.0 if index == 0 else 1.0)  # background transparent


def test_the_segment_editor_gets_one_named_segment_per_organ(segmented, in_slicer):
    session, _, label_map, _ = in_slicer
    segmentation = session.to_segmentation(label_map).GetSegmentation()
    present = [int(r["class_index"]) for r in segmented.volumes if int(r["voxels"]) > 0 and r["class_index"] != "0"]
    segments = [segmentation.GetSegment(segmentation.GetNthSegmentID(i)) for i in range(segmentation.GetNumberOfSegments())]
    assert [s.GetLabelValue() for s in segments] == present
    assert [s.GetName() for s in segments] == [segmented.classes[i][2] for i in present]


# One case is enough: the error needs only a readable scan and colour table.
@pytest.mark.parametrize("segmented", ["nifti1_oblique_int16"], indirect=True)
def test_a_file_slicer_cannot_read_is_named_in_the_error(segmented, tmp_path):
    bad = tmp_path / "labels.nii.gz"
    bad.write_bytes(b"not a NIfTI file")
    run = subprocess.run([sys.executable, SLICER_SCRIPT, segmented.scan, str(bad), segmented.slicer_colors],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert f"error: 3D Slicer could not read the label map {bad}" in run.stderr


def test_the_command_line_without_three_files_prints_its_usage():
    run = subprocess.run([sys.executable, SLICER_SCRIPT, "only-one.nii.gz"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "load_aimos_results.py scan.nii.gz labels.nii.gz labels.ctbl" in run.stderr
