"""ITK-SNAP opens what `aimos segment` writes: `itksnap -g scan -s labels -l labels.txt`.

ITK-SNAP itself is not packaged for Debian, so this checks its two inputs the way it reads them:
- the images through ITK's NIfTI reader (PyPI's itk 5.4, the ITK that ITK-SNAP 4 is built on),
  held to the rules ITK-SNAP applies when it loads a segmentation onto a main image
  (LoadSegmentationImageDelegate: same size and one component, or it refuses; exactly equal
  spacing and origin and directions within 1e-4, or it warns of a header mismatch);
- the label description file by ITK-SNAP's reading rules (ColorLabelTable::LoadFromFile:
  lines starting with '#' and empty lines skipped; IDX R G B A VIS MSH read as numbers, any
  missing one a syntax error; the label between the next two double quotes).
Skips, saying why, when itk is not installed (.ci/run installs it).
"""
import warnings

import nibabel as nib
import numpy as np
import pytest

from viewer_cases import read_label_descriptions

# ITK's SWIG-made types lack __module__, which Python 3.11+ reports as a DeprecationWarning
# each time ITK loads one of its modules: not ours to fix.
SWIG_NOISE = "ignore:builtin type .* has no __module__ attribute:DeprecationWarning"
pytestmark = pytest.mark.filterwarnings(SWIG_NOISE)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "builtin type .* has no __module__", DeprecationWarning)
    itk = pytest.importorskip("itk", reason="ITK's Python wheels are not installed (pip install itk-io)")

RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0])


def geometry(image):
    return (np.array(itk.size(image)), np.array(itk.spacing(image)), np.array(itk.origin(image)),
            itk.array_from_matrix(image.GetDirection()))


def test_itksnap_takes_the_label_map_as_the_scans_segmentation(segmented):
    scan = itk.imread(segmented.scan)
    labels = itk.imread(segmented.labels)
    scan_size, scan_spacing, scan_origin, scan_direction = geometry(scan)
    size, spacing, origin, direction = geometry(labels)
    assert labels.GetNumberOfComponentsPerPixel() == 1
    assert (size == scan_size).all()
    assert (spacing == scan_spacing).all()     # exact, as ITK-SNAP compares them
    assert (origin == scan_origin).all()
    assert np.abs(direction - scan_direction).max() <= 1e-4


def test_itk_places_the_scan_where_its_header_says(segmented):
    scan = itk.imread(segmented.scan)
    _, spacing, origin, direction = geometry(scan)
    lps = RAS_TO_LPS @ nib.load(segmented.scan).affine[:3]   # ITK works in LPS
    np.testing.assert_allclose(direction @ np.diag(spacing), lps[:, :3], atol=1e-5)
    np.testing.assert_allclose(origin, lps[:, 3], atol=1e-4)


def test_itk_reads_the_labels_aimos_wrote(segmented):
    labels = itk.imread(segmented.labels)
    voxels = itk.array_from_image(labels).transpose(2, 1, 0)   # ITK's arrays are [z, y, x]
    written = np.asarray(nib.load(segmented.labels).dataobj)
    np.testing.assert_array_equal(voxels, written)
    assert voxels.max() < len(segmented.classes)


def test_itksnap_reads_a_named_colour_for_every_class(segmented):
    table = read_label_descriptions(segmented.itksnap_labels)
    assert sorted(table) == list(range(len(segmented.classes)))
    for index, (_, itksnap_name, _) in enumerate(segmented.classes):
        r, g, b, alpha, visible, mesh, label = table[index]
        assert label == itksnap_name
        assert all(0 <= c <= 255 for c in (r, g, b))
        if index > 0:
            assert (alpha, visible, mesh) == (1.0, 1, 1)
    organ_colours = [table[i][:3] for i in range(1, len(segmented.classes))]
    assert len(set(organ_colours)) == len(organ_colours)   # every organ tells apart
