"""The DICOM series writer: what it writes reads back (with pydicom) as the volume and affine it
was given, in every geometry and encoding the DICOM tests use."""
import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
from aimostools.dicom.series_writer import ds_number, read_series, write_series  # noqa: E402


def test_ds_numbers_fit_sixteen_characters_and_keep_ten_digits():
    for x in [0.1, -1234.56789012345, 1e-7, 987654321.123, 0.0]:
        text = ds_number(x)
        assert len(text) <= 16 and abs(float(text) - x) <= 1e-10 * max(1, abs(x))


@pytest.mark.parametrize("affine", [
    np.diag([0.5, 0.45, 0.6, 1.0]),
    np.array([[0, -0.3, 0, 12.5], [0.25, 0, 0, -7], [0, 0, -0.8, 30], [0, 0, 0, 1.0]]),
])
@pytest.mark.parametrize("compression", [None, "rle"])
def test_series_reads_back_as_written(tmp_path, affine, compression):
    volume = np.random.default_rng(1).integers(-1000, 2000, size=(9, 7, 5)).astype(float)
    _, seen = write_series(volume, affine, tmp_path, compression=compression, shuffle=True)
    assert np.array_equal(seen, volume), "integers in range are stored exactly"
    data, read_affine = read_series(tmp_path)
    # Planes come back sorted along their normal: reversed when the affine's third column opposes it.
    flipped = np.linalg.det(affine[:3, :3]) < 0
    expected = volume[:, :, ::-1] if flipped else volume
    assert np.array_equal(data, expected)
    m = affine.copy()
    if flipped:
        m[:3, 3] += m[:3, 2] * (volume.shape[2] - 1)
        m[:3, 2] *= -1
    assert np.allclose(read_affine, m, atol=1e-9)


def test_per_plane_scale_quantises_within_half_a_step(tmp_path):
    volume = np.random.default_rng(2).random((6, 5, 4)) * 1e5
    _, seen = write_series(volume, np.eye(4), tmp_path, modality="PT", per_plane_scale=True, units="BQML")
    steps = [np.ptp(volume[:, :, k]) / 65535 * 2 for k in range(4)]
    for k in range(4):
        assert np.abs(seen[:, :, k] - volume[:, :, k]).max() <= steps[k]
    assert pydicom.dcmread(sorted(tmp_path.iterdir())[0]).Units == "BQML"
