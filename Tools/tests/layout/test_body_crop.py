"""Tests of aimostools/layout/body_crop.py, the port of the engine's body search, on synthetic scans:
air, a bed plate, a tube and ellipsoid "animals"; and, where libaimos.so is built, against the
engine's own crop boxes.

    python3 -m pytest -q Tools/tests/layout/test_body_crop.py
"""
import ctypes
import os
import sys

import nibabel as nib
import numpy as np
import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO = os.path.dirname(TOOLS)
from aimostools.layout import body_crop
from aimostools.checkpoint.convert import convert

SPACING = (0.25, 0.25, 0.25)
SHAPE = (160, 220, 100)           # x, y, z: 40 x 55 x 25 mm
MARGIN = 12                       # 3 mm in voxels
BLOCK = 4                         # 1 mm blocks
BED_TOP = 12                      # the plate fills z 8..11 (1 mm), the animals lie on it
TUBE_X, TUBE_Z, TUBE_RADIUS = 150, 40, 3
ONE_ANIMAL = [((70, 110, 36), (32, 80, 24))]                                   # centre, semi-axes
TWO_ANIMALS = [((40, 110, 36), (24, 70, 22)), ((112, 110, 36), (24, 80, 22))]   # the second is larger
# 8 x 8 x 17 mm bricks (lower, upper): the first two side by side at the same x, the first at
# lower y but higher z; the third far along x
THREE_BRICKS = [((8, 40, 24), (40, 72, 92)), ((8, 108, 16), (40, 140, 84)), ((112, 60, 16), (144, 92, 84))]


def ellipsoid(centre, semi):
    grid = np.ogrid[tuple(slice(0, n) for n in SHAPE)]
    return sum(((g - c) / s) ** 2 for g, c, s in zip(grid, centre, semi)) <= 1


def scene(animals, padding=False, seed=0, bricks=()):
    """A CT-like scan (x, y, z), float32, and each animal's voxel box (lower, upper)."""
    rng = np.random.default_rng(seed)
    volume = -1000 + rng.normal(0, 30, SHAPE)
    volume[:, :, BED_TOP - 4:BED_TOP] += 1300                                  # the bed, 1 mm thick
    x, _, z = np.ogrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    volume[np.broadcast_to((x - TUBE_X) ** 2 + (z - TUBE_Z) ** 2 <= TUBE_RADIUS ** 2, SHAPE)] = 200
    boxes = []
    for centre, semi in animals:
        body = ellipsoid(centre, semi)
        volume[body] = 40 + rng.normal(0, 30, np.count_nonzero(body))
        where = np.nonzero(body)
        boxes.append(([int(w.min()) for w in where], [int(w.max()) + 1 for w in where]))
    for lower, upper in bricks:
        volume[lower[0]:upper[0], lower[1]:upper[1], lower[2]:upper[2]] = 40
    if padding:  # outside a reconstruction circle in x-y: the scanner's constant
        x, y = np.ogrid[:SHAPE[0], :SHAPE[1]]
        outside = (x - SHAPE[0] / 2) ** 2 + (y - SHAPE[1] / 2) ** 2 > (SHAPE[1] / 2) ** 2
        volume[np.broadcast_to(outside[:, :, None], SHAPE)] = -3024
    return volume.astype(np.float32), boxes


def assert_box_fits(found, truth):
    """The found box holds the animal's middle 70 % per axis (the opening trims thin tips) and
    reaches no further than the margin and one block beyond the animal."""
    for k in range(3):
        extent = truth[1][k] - truth[0][k]
        assert truth[0][k] - MARGIN - BLOCK <= found.lower[k] <= truth[0][k] + 0.15 * extent, (k, found, truth)
        assert truth[1][k] - 0.15 * extent <= found.upper[k] <= truth[1][k] + MARGIN + BLOCK, (k, found, truth)


def test_one_animal_is_found_without_bed_and_tube():
    volume, (truth,) = scene(ONE_ANIMAL)
    outcome = body_crop.find_animals(volume, SPACING)
    assert len(outcome.animals) == 1
    animal = outcome.animals[0]
    assert_box_fits(animal, truth)
    assert animal.upper[0] < TUBE_X - TUBE_RADIUS                   # the tube beside it is left out
    assert animal.lower[2] >= BED_TOP - 4 - BLOCK - MARGIN // 2     # the bed under it, but for the margin
    assert outcome.suggested_voxel_size_factor is None and 15 <= outcome.body_length_mm <= 150
    volume_mm3 = 4 / 3 * np.pi * np.prod(ONE_ANIMAL[0][1]) * 0.25 ** 3
    assert 0.6 * volume_mm3 < animal.body_mm3 < 1.4 * volume_mm3
    assert body_crop.largest_box(volume, SPACING) == (animal.lower, animal.upper)


def test_two_animals_stay_apart_and_the_largest_box_is_the_crop():
    volume, truths = scene(TWO_ANIMALS)
    animals = body_crop.find_animals(volume, SPACING).animals
    assert len(animals) == 2
    assert animals[0].lower[0] < animals[1].lower[0]                # ordered along x, where they lie
    for animal, truth in zip(animals, truths):
        assert_box_fits(animal, truth)
    assert animals[0].upper[0] <= truths[1][0][0] and animals[1].lower[0] >= truths[0][1][0]
    assert body_crop.largest_box(volume, SPACING) == (animals[1].lower, animals[1].upper)


def test_head_parted_at_the_neck_is_one_animal_and_a_small_object_is_none():
    head = ((70, 45, 36), (22, 24, 18))             # y 21..69
    trunk = ((70, 145, 36), (30, 60, 24))           # y 85..205: 4 mm further on
    volume, (head_box, trunk_box) = scene([head, trunk], bricks=[((2, 2, 60), (34, 34, 92))])  # 8 mm, 512 mm3
    animals = body_crop.find_animals(volume, SPACING).animals
    assert len(animals) == 1
    whole = ([min(a, b) for a, b in zip(head_box[0], trunk_box[0])],
             [max(a, b) for a, b in zip(head_box[1], trunk_box[1])])
    assert_box_fits(animals[0], whole)


def test_animals_equal_along_the_spread_axis_keep_the_engines_x_fastest_order():
    """Ordered along x (where they spread), the two bricks at the same x stay in the order of
    their first block in the engine's flat order (x fastest, z slowest): the lower z first."""
    volume, _ = scene([], bricks=THREE_BRICKS)
    animals = body_crop.find_animals(volume, SPACING).animals
    expected = [tuple(max(0, v - MARGIN) for v in lower) + tuple(min(n, v + MARGIN) for v, n in zip(upper, SHAPE))
                for lower, upper in (THREE_BRICKS[1], THREE_BRICKS[0], THREE_BRICKS[2])]
    assert [a.lower + a.upper for a in animals] == expected


def test_padding_outside_a_reconstruction_circle_is_left_out():
    volume, (truth,) = scene(ONE_ANIMAL)
    padded, _ = scene(ONE_ANIMAL, padding=True)
    assert np.count_nonzero(padded == -3024) > 0.05 * padded.size
    found = body_crop.find_animals(padded, SPACING).animals
    unpadded = body_crop.find_animals(volume, SPACING).animals
    assert [(a.lower, a.upper) for a in found] == [(a.lower, a.upper) for a in unpadded]
    assert_box_fits(found[0], truth)
    means, padded_blocks = body_crop.block_means(padded, body_crop.coarse_factor(SHAPE, SPACING))
    assert padded_blocks.any() and not body_crop.foreground(means, padded_blocks)[padded_blocks].any()
    assert means[padded_blocks].max() == 0 and means[~padded_blocks].min() > -1200  # never averaged in


def test_padding_is_the_lowest_value_on_at_least_one_percent_of_the_voxels():
    volume = np.arange(1000, dtype=np.float32)
    volume[:9] = -5
    assert body_crop.padding_value(volume) is None                  # 0.9 %
    volume[9] = -5
    assert body_crop.padding_value(volume) == -5                    # 1 %
    volume[20] = -6                                                 # the lowest value is another one
    assert body_crop.padding_value(volume) is None
    assert body_crop.padding_value(np.zeros(100, np.float32)) is None  # all one value: no padding


def test_block_means_are_the_means_of_the_centred_blocks():
    """10 voxels in blocks of 4 overhang by 2: the first block starts a voxel before the volume
    (x 0..2), the last ends a voxel after it (x 7..9); likewise 7 in 3 and 6 in 4."""
    volume = np.random.default_rng(3).normal(0, 1, (10, 7, 6)).astype(np.float32)
    assert body_crop.coarse_offset(volume.shape, (4, 3, 4)) == [1, 1, 1]
    means, padded = body_crop.block_means(volume, (4, 3, 4))
    assert means.shape == (3, 3, 2) and not padded.any()
    np.testing.assert_allclose(means[2, 1, 1], volume[7:10, 2:5, 3:6].mean(), rtol=1e-5)
    np.testing.assert_allclose(means[0, 0, 0], volume[0:3, 0:2, 0:3].mean(), rtol=1e-5)
    np.testing.assert_allclose(means[1, 2, 0], volume[3:7, 5:7, 0:3].mean(), rtol=1e-5)


def test_the_block_size_is_the_nearest_whose_overhang_is_even():
    assert body_crop.even_overhang(4, 10) == 4                      # 12 - 10 = 2
    assert body_crop.even_overhang(4, 9) == 3                       # 4 and 5 overhang by 3 and 1; 3 by 0
    assert body_crop.even_overhang(4, 7) == 3                       # 4: 1, 5: 3, 3: 2
    # wanted - 1 is tried before wanted + 1, as the engine's code does (not its doc comment):
    assert body_crop.even_overhang(2, 7) == 1                       # 2 overhangs by 1; 1 and 3 by 0 and 2
    assert body_crop.even_overhang(4, 153) == 3                     # 4: 3; 3: 0, 5: 2
    assert body_crop.even_overhang(1, 5) == 1 and body_crop.even_overhang(1, 1) == 1
    for n in range(1, 200):
        for wanted in range(1, 12):
            f = body_crop.even_overhang(wanted, n)
            assert (-(-n // f) * f - n) % 2 == 0
            assert all((-(-n // g) * g - n) % 2 == 1 for g in range(max(1, wanted - abs(f - wanted) + 1), wanted + abs(f - wanted)))
    assert body_crop.coarse_factor((160, 218, 97), SPACING) == [4, 4, 3]
    assert body_crop.coarse_offset((160, 218, 97), (4, 4, 3)) == [0, 1, 1]


def test_a_voxel_size_in_micrometres_is_reported_and_corrected():
    volume, (truth,) = scene(ONE_ANIMAL)
    outcome = body_crop.find_animals(volume, [1000 * s for s in SPACING])
    assert outcome.suggested_voxel_size_factor == 0.001
    assert outcome.body_length_mm > 15000 and len(outcome.animals) == 1
    for k in range(3):
        assert outcome.animals[0].lower[k] < truth[0][k] + 20 and outcome.animals[0].upper[k] > truth[1][k] - 20


def test_flat_volume_gives_the_whole_field_of_view():
    outcome = body_crop.find_animals(np.full((40, 50, 30), 7, np.float32), (0.5, 0.5, 0.5))
    assert [(a.lower, a.upper) for a in outcome.animals] == [((0, 0, 0), (40, 50, 30))]


# Sub-volumes whose blocks overhang: all dims even (offset 1 each) and all odd (blocks of 3);
# 153 voxels along x, where 3 and 5 voxels would both do and 3 (wanted - 1) is the engine's.
EVEN_CUT = (slice(1, 159), slice(1, 219), slice(0, 98))      # 158 x 218 x 98
ODD_CUT = (slice(3, None), slice(1, None), slice(0, 97))      # 157 x 219 x 97
NEAREST_CUT = (slice(0, 153), slice(None), slice(None))       # 153 x 220 x 100


def mirrored(boxes, axis, n):
    """Boxes (lower, upper) of a volume of n voxels along `axis`, in its mirror image, sorted."""
    def flip(lower, upper):
        return (tuple(n - upper[k] if k == axis else lower[k] for k in range(3)),
                tuple(n - lower[k] if k == axis else upper[k] for k in range(3)))
    return sorted(flip(lower, upper) for lower, upper in boxes)


@pytest.mark.parametrize("cut", [EVEN_CUT, ODD_CUT], ids=["even", "odd"])
@pytest.mark.parametrize("animals", [ONE_ANIMAL, TWO_ANIMALS, "bricks"], ids=["one", "two", "bricks"])
def test_a_mirror_image_gives_the_mirrored_boxes(cut, animals):
    """Centred blocks: a scan flipped along any axis is cut to the same boxes, flipped (the
    animals' order aside, which follows the flipped axis)."""
    volume, _ = scene([], bricks=THREE_BRICKS) if animals == "bricks" else scene(animals)
    volume = np.ascontiguousarray(volume[cut])
    found = [(a.lower, a.upper) for a in body_crop.find_animals(volume, SPACING).animals]
    assert len(found) == (1 if animals == ONE_ANIMAL else 2 if animals == TWO_ANIMALS else 3)
    for axis in range(3):
        flipped = [(a.lower, a.upper) for a in body_crop.find_animals(np.flip(volume, axis), SPACING).animals]
        assert sorted(flipped) == mirrored(found, axis, volume.shape[axis]), axis


def test_the_swift_rounding_rounds_halves_up():
    assert [body_crop.round_half_up(v) for v in (0.5, 1.5, 2.5, 2.4999, 0.49999999999999994)] == [1, 2, 3, 2, 0]


# --- against the engine --------------------------------------------------------------------

class Volume(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int), ("dims", ctypes.c_int64 * 3),
                ("spacing_mm", ctypes.c_double * 3)]


class Options(ctypes.Structure):  # include/aimos.h 0.2
    _fields_ = [("struct_size", ctypes.c_uint32), ("slice_axis", ctypes.c_int32), ("threads", ctypes.c_int32),
                ("keep_probabilities", ctypes.c_int32), ("progress", ctypes.c_void_p), ("user_data", ctypes.c_void_p),
                ("orientation", ctypes.c_int32), ("orientation_code", ctypes.c_char * 4), ("crop", ctypes.c_int32),
                ("separate_animals", ctypes.c_int32), ("world_matrix", ctypes.c_void_p)]


class Layout(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("orientation", ctypes.c_char * 4), ("confidence", ctypes.c_double),
                ("crop_lower", ctypes.c_int64 * 3), ("crop_upper", ctypes.c_int64 * 3), ("slice_axis", ctypes.c_int32),
                ("slice_direction_known", ctypes.c_int32)]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """A function volume, spacing -> the engine's crop boxes (every animal, crop body, no
    reorientation), with a tiny converted model; skips without a 0.2 libaimos.so."""
    folder = os.environ.get("AIMOS_LIBRARY_DIR") or os.path.join(os.path.dirname(TOOLS), ".build", "release")
    path = os.path.join(folder, "libaimos.so")
    if not os.path.exists(path):
        pytest.skip(f"no libaimos.so in {folder}: the engine's boxes cannot be compared")
    lib = ctypes.CDLL(path)
    if not hasattr(lib, "aimos_result_layout"):
        pytest.skip("libaimos.so predates crop boxes (0.2)")
    lib.aimos_last_error.restype = ctypes.c_char_p
    lib.aimos_load_model.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.aimos_segment_volume.argtypes = [ctypes.c_void_p, ctypes.POINTER(Volume), ctypes.POINTER(Options),
                                         ctypes.POINTER(ctypes.c_void_p)]
    lib.aimos_options_init_sized.argtypes = [ctypes.POINTER(Options), ctypes.c_uint32]
    lib.aimos_result_animal_count.argtypes = [ctypes.c_void_p]
    lib.aimos_result_layout.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(Layout)]
    lib.aimos_free.argtypes = [ctypes.c_void_p]
    model_path = str(tmp_path_factory.mktemp("engine") / "tiny.safetensors")
    convert([os.path.join(TOOLS, "tests", "checkpoint", "fixtures", "checkpoints", "unet64_zip.pt")], model_path, "Unet64",
            ["background", "Brain", "Heart"], input_size=8)
    model = ctypes.c_void_p()
    assert lib.aimos_load_model(model_path.encode(), ctypes.byref(model)) == 0, lib.aimos_last_error()

    def boxes(volume, spacing):
        voxels = np.asfortranarray(volume, dtype=np.float32)  # x fastest
        described = Volume(voxels.ctypes.data, 5, (ctypes.c_int64 * 3)(*voxels.shape), (ctypes.c_double * 3)(*spacing))
        options = Options()
        lib.aimos_options_init_sized(ctypes.byref(options), ctypes.sizeof(Options))
        options.orientation, options.crop, options.separate_animals, options.threads = 0, 1, 1, 2
        result = ctypes.c_void_p()
        assert lib.aimos_segment_volume(model, ctypes.byref(described), ctypes.byref(options),
                                        ctypes.byref(result)) == 0, lib.aimos_last_error()
        try:
            found = []
            for animal in range(lib.aimos_result_animal_count(result)):
                layout = Layout(struct_size=ctypes.sizeof(Layout))
                assert lib.aimos_result_layout(result, animal, ctypes.byref(layout)) == 0
                found.append((tuple(layout.crop_lower), tuple(layout.crop_upper)))
            return found
        finally:
            lib.aimos_free(result)

    yield boxes
    lib.aimos_free(model)


@pytest.mark.parametrize("animals, padding, spacing", [
    (ONE_ANIMAL, False, SPACING), (ONE_ANIMAL, True, (0.2, 0.3, 0.25)), (TWO_ANIMALS, False, SPACING),
    (TWO_ANIMALS, True, (250.0, 250.0, 250.0)), ([], False, SPACING), ("bricks", False, SPACING)])
def test_the_port_finds_the_engines_boxes(engine, animals, padding, spacing):
    if animals == "bricks":
        volume, _ = scene([], bricks=THREE_BRICKS)
    else:
        volume, _ = scene(animals, padding=padding)
    port = [(a.lower, a.upper) for a in body_crop.find_animals(volume, spacing).animals]
    assert port == engine(volume, spacing)


@pytest.mark.parametrize("cut", [EVEN_CUT, ODD_CUT, NEAREST_CUT], ids=["even", "odd", "nearest"])
@pytest.mark.parametrize("animals, spacing", [(TWO_ANIMALS, SPACING), ("bricks", (0.2, 0.3, 0.35))])
def test_the_port_finds_the_engines_boxes_in_overhanging_blocks_and_mirrored(engine, cut, animals, spacing):
    """Dims that the blocks overhang (centred blocks, offsets of a voxel), and their mirror
    images along each axis."""
    volume, _ = scene([], bricks=THREE_BRICKS) if animals == "bricks" else scene(animals)
    volume = np.ascontiguousarray(volume[cut])
    factor = body_crop.coarse_factor(volume.shape, spacing)
    wanted = [max(1, min(int(1 / s), -(-n // 32)), -(-n // 160)) for n, s in zip(volume.shape, spacing)]
    assert any(body_crop.coarse_offset(volume.shape, factor)) or factor != wanted   # not the old blocks
    for flipped in [volume] + [np.flip(volume, axis) for axis in range(3)]:
        port = [(a.lower, a.upper) for a in body_crop.find_animals(flipped, spacing).animals]
        assert port == engine(flipped, spacing)


def test_a_small_animal_broken_by_the_opening_is_found_whole_with_a_gentler_one(engine):
    """The sample mouse at 0.14 x 0.16 x 0.2 mm voxels (a 33 mm animal, 8 mm high): the 5 mm
    opening breaks it into pieces too short for a mouse (which read as a wrong unit); the
    2.5 mm opening keeps it whole. The engine does the same."""
    volume = np.asarray(nib.load(os.path.join(REPO, "data", "sample", "sample_ct.nii.gz")).dataobj).astype(np.float32)
    spacing = (0.14, 0.16, 0.2)
    factor = body_crop.coarse_factor(volume.shape, spacing)
    mask = body_crop.foreground(*body_crop.block_means(volume, factor))
    assert body_crop.locate(volume.shape, factor, mask, spacing).suggested_voxel_size_factor == 10.0
    outcome = body_crop.find_animals(volume, spacing)
    assert outcome.suggested_voxel_size_factor is None and 20 < outcome.body_length_mm < 40
    assert len(outcome.animals) == 1
    assert [(a.lower, a.upper) for a in outcome.animals] == engine(volume, spacing)
