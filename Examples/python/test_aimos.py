"""Tests of the ctypes binding aimos.py against libaimos (tiny random-weight fixture models).

Run: bash Examples/python/test.sh   (or: AIMOS_LIBRARY=/path/libaimos.so python3 -m pytest Examples/python)
"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import aimos

FIXTURES = pathlib.Path(__file__).resolve().parent.parent.parent / "Tests" / "AimosCoreTests" / "Fixtures"
MODEL = FIXTURES / "unet64_c3_s32_f32.safetensors"          # classes background, Brain, Heart; grid 32
UNCERTAINTY_MODEL = FIXTURES / "unet64_c3_s32_f32_unc.safetensors"
SPACING = (0.1, 0.2, 0.3)
THREADS = 1  # the test machines are small and shared


@pytest.fixture(scope="module")
def model():
    with aimos.Model(MODEL) as loaded:
        yield loaded


def distinctive_volume(shape=(23, 17, 6), seed=0):
    """A volume with no symmetry: a smooth ramp different along each axis, a blob, and noise."""
    x, y, z = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    rng = np.random.default_rng(seed)
    ramp = 3.0 * x + 0.5 * y * y + 7.0 * z
    blob = 400.0 * ((x - shape[0] / 3) ** 2 + (y - shape[1] / 4) ** 2 < 20)
    return (ramp + blob + 20.0 * rng.normal(size=shape)).astype(np.float32)


def test_classes_and_version(model):
    assert model.classes == ("background", "Brain", "Heart")
    assert aimos.library_version().count(".") == 2


def test_c_and_fortran_ordered_inputs_give_identical_labels(model):
    volume = distinctive_volume()
    c_order = model.segment(np.ascontiguousarray(volume), SPACING, threads=THREADS)
    f_order = model.segment(np.asfortranarray(volume), SPACING, threads=THREADS)
    strided = model.segment(np.ascontiguousarray(volume[:, ::-1, :])[:, ::-1, :], SPACING, threads=THREADS)
    assert c_order.labels.shape == volume.shape and c_order.labels.dtype == np.uint8
    assert len(np.unique(c_order.labels)) > 1, "a one-class answer would make this comparison vacuous"
    np.testing.assert_array_equal(c_order.labels, f_order.labels)
    np.testing.assert_array_equal(c_order.labels, strided.labels)


def test_transposed_volume_cut_along_the_matching_axis_gives_transposed_labels(model):
    # Axis 2 cuts z: each slice has rows y and columns x. Re-laid as W[z, x, y] = V[x, y, z], axis 0
    # cuts W's first index and gives rows (W's z = V's y) and columns (W's y = V's x): the same
    # slices, so W's labels must be V's labels re-laid the same way.
    volume = distinctive_volume()
    relaid = volume.transpose(2, 0, 1)
    along_z = model.segment(volume, SPACING, slice_axis=2, threads=THREADS)
    relaid_along_x = model.segment(relaid, (SPACING[2], SPACING[0], SPACING[1]), slice_axis=0, threads=THREADS)
    assert relaid_along_x.labels.shape == relaid.shape
    np.testing.assert_array_equal(relaid_along_x.labels.transpose(1, 2, 0), along_z.labels)
    # Cutting another axis of the same volume gives another answer, so the check above can fail.
    along_x = model.segment(volume, SPACING, slice_axis=0, threads=THREADS)
    assert not np.array_equal(along_x.labels, along_z.labels)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("layout", [np.ascontiguousarray, np.asfortranarray])
def test_changing_one_slice_changes_labels_only_in_that_slice(model, axis, layout):
    # Slices are segmented independently, so slice_axis=a must mean the numpy index a.
    volume = distinctive_volume()
    changed = volume.copy()
    index = 3
    where = [slice(None)] * 3
    where[axis] = index
    changed[tuple(where)] = distinctive_volume(seed=1)[tuple(where)][::-1]
    before = model.segment(layout(volume), SPACING, slice_axis=axis, threads=THREADS).labels
    after = model.segment(layout(changed), SPACING, slice_axis=axis, threads=THREADS).labels
    differs = np.argwhere(before != after)
    assert len(differs) > 0, "the change must show, or the test proves nothing"
    assert np.all(differs[:, axis] == index)


def test_error_position_is_reported_in_x_y_z_of_the_numpy_index(model):
    volume = np.ascontiguousarray(distinctive_volume())
    volume[5, 2, 4] = np.nan
    with pytest.raises(aimos.AimosError) as caught:
        model.segment(volume, SPACING, threads=THREADS)
    assert caught.value.status == aimos.INVALID_ARGUMENT
    assert "(x=5, y=2, z=4)" in caught.value.message


def test_volumes_equal_voxel_counts_times_voxel_volume(model):
    segmentation = model.segment(distinctive_volume(), SPACING, threads=THREADS)
    voxel_mm3 = SPACING[0] * SPACING[1] * SPACING[2]
    for index, name in enumerate(model.classes):
        count = np.count_nonzero(segmentation.labels == index)
        assert segmentation.volumes_mm3[name] == pytest.approx(count * voxel_mm3, rel=1e-12)
        assert segmentation.volumes_ml[name] == pytest.approx(count * voxel_mm3 / 1000, rel=1e-12)
    rows = segmentation.table()
    assert [row["class"] for row in rows] == list(model.classes)
    assert sum(row["voxels"] for row in rows) == segmentation.labels.size
    assert all(row["mm3"] == segmentation.volumes_mm3[row["class"]] for row in rows)
    assert all(row["mL"] == segmentation.volumes_ml[row["class"]] for row in rows)


def test_isotropic_spacing_may_be_one_number(model):
    segmentation = model.segment(distinctive_volume(), 0.5, threads=THREADS)
    assert segmentation.spacing == (0.5, 0.5, 0.5)
    brain = np.count_nonzero(segmentation.labels == 1)
    assert segmentation.volumes_mm3["Brain"] == pytest.approx(brain * 0.125)


def test_probabilities_shape_range_and_layout(model):
    # Slices of exactly the model grid (32 x 32) are not resampled, so the labels are exactly the
    # argmax of the probabilities: this checks that the maps are indexed [class, x, y, z].
    volume = distinctive_volume(shape=(32, 32, 5))
    segmentation = model.segment(volume, SPACING, slice_axis=2, probabilities=True, threads=THREADS)
    maps = segmentation.probabilities
    assert maps.shape == (3, 32, 32, 5) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and maps.max() <= 1.0 and maps.max() > maps.min()
    np.testing.assert_array_equal(np.argmax(maps, axis=0), segmentation.labels)
    assert model.segment(volume, SPACING, threads=THREADS).probabilities is None


def test_uncertainty_only_for_a_model_with_an_uncertainty_channel(model):
    volume = distinctive_volume()
    assert model.segment(volume, SPACING, threads=THREADS).uncertainty is None
    with aimos.Model(UNCERTAINTY_MODEL) as uncertain:
        assert uncertain.classes == ("background", "Brain", "Heart")
        heatmap = uncertain.segment(volume, SPACING, threads=THREADS).uncertainty
    assert heatmap is not None and heatmap.shape == volume.shape and heatmap.dtype == np.float32
    assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0 and heatmap.max() > heatmap.min()


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.int32, np.float32, np.float64])
def test_the_six_library_dtypes(model, dtype):
    volume = (distinctive_volume() / 4 + 10).astype(dtype)
    segmentation = model.segment(volume, SPACING, threads=THREADS)
    assert segmentation.labels.shape == volume.shape
    expected = model.segment(volume.astype(np.float64), SPACING, threads=THREADS)
    np.testing.assert_array_equal(segmentation.labels, expected.labels)


@pytest.mark.parametrize("dtype, same_as", [(np.int8, np.int16), (np.bool_, np.uint8), (np.uint32, np.float64),
                                            (np.int64, np.float64), (np.float16, np.float32),
                                            (np.dtype(">i2"), np.int16)])
def test_other_dtypes_are_converted_without_loss(model, dtype, same_as):
    volume = distinctive_volume()
    if np.dtype(dtype).kind == "b":
        values = volume > np.median(volume)
    else:
        values = np.clip(volume / 4, 0, 120).astype(dtype)
    converted = model.segment(values, SPACING, threads=THREADS)
    expected = model.segment(values.astype(same_as), SPACING, threads=THREADS)
    np.testing.assert_array_equal(converted.labels, expected.labels)


def test_unsupported_inputs_are_rejected_clearly(model):
    with pytest.raises(TypeError, match="complex"):
        model.segment(np.zeros((4, 4, 4), dtype=np.complex64), SPACING)
    with pytest.raises(ValueError, match="2\\*\\*53"):
        model.segment(np.full((4, 4, 4), 2 ** 60, dtype=np.uint64), SPACING)
    with pytest.raises(ValueError, match="3D"):
        model.segment(np.zeros((4, 4)), SPACING)
    with pytest.raises(ValueError, match="spacing"):
        model.segment(np.zeros((4, 4, 4)), (1.0, 2.0))


def test_missing_model_file_raises_io_error_naming_the_path(tmp_path):
    missing = tmp_path / "no-such-model.safetensors"
    with pytest.raises(aimos.AimosError) as caught:
        aimos.Model(missing)
    assert caught.value.status == aimos.IO and caught.value.status_name == "IO"
    assert str(missing) in caught.value.message


def test_malformed_model_file_raises_format_error(tmp_path):
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00not json")
    with pytest.raises(aimos.AimosError) as caught:
        aimos.Model(bogus)
    assert caught.value.status == aimos.FORMAT


def test_invalid_arguments_raise_invalid_argument(model):
    volume = distinctive_volume()
    for bad in [dict(slice_axis=3), dict(threads=-1)]:
        with pytest.raises(aimos.AimosError) as caught:
            model.segment(volume, SPACING, **bad)
        assert caught.value.status == aimos.INVALID_ARGUMENT
    with pytest.raises(aimos.AimosError) as caught:
        model.segment(volume, (0.1, -1.0, 0.3))
    assert caught.value.status == aimos.INVALID_ARGUMENT and "spacing_mm[1]" in caught.value.message


def test_progress_counts_every_slice(model):
    calls = []
    volume = distinctive_volume()
    model.segment(volume, SPACING, slice_axis=1, threads=2, progress=lambda done, total: calls.append((done, total)))
    assert [done for done, _ in calls] == list(range(1, volume.shape[1] + 1))
    assert {total for _, total in calls} == {volume.shape[1]}


def test_progress_returning_true_cancels(model):
    calls = []

    def stop_at_two(done, total):
        calls.append(done)
        return done >= 2

    with pytest.raises(aimos.AimosError) as caught:
        model.segment(distinctive_volume(), SPACING, threads=THREADS, progress=stop_at_two)
    assert caught.value.status == aimos.CANCELLED
    assert calls == [1, 2]


def test_exception_in_progress_cancels_and_is_reraised(model):
    def fail(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.segment(distinctive_volume(), SPACING, threads=THREADS, progress=fail)
    assert model.segment(distinctive_volume(), SPACING, threads=THREADS).labels.shape == (23, 17, 6)


def test_closed_model_refuses_to_segment():
    with aimos.Model(MODEL) as model:
        pass
    model.close()  # a second close is harmless
    with pytest.raises(ValueError, match="closed"):
        model.segment(distinctive_volume(), SPACING)


def test_explicit_library_path_that_does_not_exist_is_reported():
    environment = dict(os.environ, AIMOS_LIBRARY="/nonexistent/libaimos.so")
    script = "import aimos\ntry:\n    aimos.library_version()\nexcept OSError as e:\n    print(e)\n"
    output = subprocess.run([sys.executable, "-c", script], cwd=pathlib.Path(__file__).parent, env=environment,
                            capture_output=True, text=True, check=True).stdout
    assert "AIMOS_LIBRARY" in output and "/nonexistent/libaimos.so" in output


def test_orientation_code_reads_the_volume_in_the_models_layout(model):
    """The fixture model's layout is the published TLD. A volume in layout LHD, given its code,
    is segmented as the same volume re-laid out as TLD with the voxel axes taken as the model's."""
    volume = distinctive_volume()
    coded = model.segment(volume, SPACING, orientation="LHD", crop="none", threads=THREADS)
    # LHD -> TLD: x (left) stays the columns, y (head) reversed becomes the rows running to the tail.
    relaid = np.ascontiguousarray(volume[:, ::-1, :])
    plain = model.segment(relaid, SPACING, orientation="none", crop="none", threads=THREADS)
    assert np.array_equal(coded.labels, plain.labels[:, ::-1, :])
    assert coded.layouts == [{"orientation": "LHD", "confidence": None,
                              "crop": ((0, 23), (0, 17), (0, 6)), "slice_axis": 2}]
    assert plain.layouts[0]["orientation"] is None and coded.voxel_size_factor == 1


def test_header_world_matrix_and_auto_report_their_layout(model):
    volume = distinctive_volume()
    matrix = np.diag([-0.1, 0.2, 0.3, 1.0])                  # -x: the animal's left; +y head; +z back
    header = model.segment(volume, SPACING, orientation="header", world_matrix=matrix, threads=THREADS)
    assert header.layouts[0]["orientation"] == "LHD"
    assert np.array_equal(header.labels, model.segment(volume, SPACING, orientation="LHD", threads=THREADS).labels)
    detected = model.segment(volume, SPACING, threads=THREADS)   # auto by default
    assert len(detected.layouts[0]["orientation"]) == 3 and 0 <= detected.layouts[0]["confidence"] <= 1


def test_bad_layout_choices_are_refused(model):
    volume = distinctive_volume()
    with pytest.raises(aimos.AimosError, match="LLD"):
        model.segment(volume, SPACING, orientation="LLD")
    with pytest.raises(aimos.AimosError, match="world_matrix"):
        model.segment(volume, SPACING, orientation="header")
    with pytest.raises(ValueError, match="crop"):
        model.segment(volume, SPACING, crop="everything")


def block_means(volume, k):
    """Means of k x k x k blocks of a volume [x, y, z], the last ones partial."""
    dims = [-(-n // k) for n in volume.shape]
    sums = np.zeros(dims)
    counts = np.zeros(dims)
    for x in range(k):
        for y in range(k):
            for z in range(k):
                part = volume[x::k, y::k, z::k]
                sums[:part.shape[0], :part.shape[1], :part.shape[2]] += part
                counts[:part.shape[0], :part.shape[1], :part.shape[2]] += 1
    return sums / counts


def test_segment_planes_equals_segmenting_the_block_means(model):
    """A stack handed over plane by plane is averaged onto the working grid: the same labels as
    segmenting numpy's block means of the whole stack."""
    stack = np.clip(distinctive_volume(shape=(47, 35, 13)), 0, None).astype(np.uint16)
    asked = []

    def plane(z):
        asked.append(z)
        return stack[:, :, z].T          # (ny, nx), as an image reader gives a plane

    result = model.segment_planes(plane, stack.shape, 0.1, np.uint16, working_voxel_size=0.3)
    assert asked == list(range(13))
    assert result.grid_factors == (3, 3, 3) and result.labels.shape == (16, 12, 5)
    assert np.allclose(result.spacing, 0.3)
    expected = model.segment(block_means(stack.astype(np.float64), 3).astype(np.float32), 0.3)
    assert np.array_equal(result.labels, expected.labels)


def test_segment_planes_reraises_the_callbacks_exception(model):
    def plane(z):
        if z == 4:
            raise KeyError("plane 4 is missing on disk")
        return np.zeros((10, 12), np.uint8)

    with pytest.raises(KeyError, match="plane 4"):
        model.segment_planes(plane, (12, 10, 8), 0.5, np.uint8)
    with pytest.raises(ValueError, match="expected \\(ny, nx\\)"):
        model.segment_planes(lambda z: np.zeros((12, 10), np.uint8), (12, 10, 8), 0.5, np.uint8)
