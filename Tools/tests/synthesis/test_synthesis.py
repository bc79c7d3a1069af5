"""Tests of the scan synthesiser (aimos-synthesize, Tools/aimostools/synth*.py, organs.py).

Most checks use a toy mouse-like label map made here; the tests on the real label maps skip,
with the reason printed, where ../shared/data/label-maps is absent.
Run from the repository root:  python3 -m pytest -q Tools/tests/synthesis/test_synthesis.py
"""
import dataclasses
import gzip
import json
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

import scipy.ndimage

TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO = os.path.dirname(TOOLS)
from aimostools.synthesis import organs
from aimostools.synthesis import scene as synth_scene
from aimostools.synthesis import scans as synthesis
from aimostools.synthesis.random_intensity import render_random_tissues as random_render
from aimostools.synthesis.annotation import dice_per_class, perturb_annotation
from aimostools.synthesis.body import body_envelope
from aimostools.synthesis.ct import draw_tissue_values, render_ct_tissues
from aimostools.synthesis.orientation import find_orientation

SHARED_MAPS = os.path.join(os.path.dirname(REPO), "shared", "data", "label-maps")
CLASSES = organs.AIMOS_CLASSES

# Toy map labels: names as a real atlas would give them, mapped to AIMOS organs below.
TOY_LABELS = {1: "skin and remaining soft tissue", 2: "brain", 3: "lungs", 4: "heart", 5: "liver",
              6: "kidneys", 7: "bladder", 8: "skeleton", 9: "stomach", 10: "spleen", 11: "intestine"}
TOY_ORGANS = {"Brain": [2], "Lung": [3], "Heart": [4], "Liver": [5], "Kidney": [6], "Bladder": [7],
              "Bone": [8], "Stomach": [9], "Spleen": [10], "Intestine": [11]}


def ellipsoid(shape, center, radii):
    grid = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, center, radii)) <= 1


def toy_labels():
    """A small mouse-like map in canonical order (x left-right, y body axis with the head at
    high y, z dorsal-ventral with dorsal at high z), 0.25 mm voxels."""
    shape = (44, 100, 32)
    labels = np.zeros(shape, np.uint8)
    labels[ellipsoid(shape, (22, 50, 15), (18, 46, 12))] = 1
    parts = [(2, (22, 86, 16), (8, 8, 6)), (3, (22, 66, 13), (12, 9, 6)), (4, (24, 66, 10), (5, 5, 4)),
             (5, (20, 53, 11), (13, 6, 5)), (9, (31, 48, 13), (4, 4, 4)), (10, (36, 45, 15), (2, 5, 2)),
             (6, (14, 40, 19), (4, 6, 4)), (6, (30, 40, 19), (4, 6, 4)), (11, (22, 30, 10), (9, 7, 4)),
             (7, (22, 14, 10), (4, 4, 3))]
    for label, center, radii in parts:
        labels[ellipsoid(shape, center, radii)] = label
    labels[ellipsoid(shape, (22, 50, 23), (3, 40, 3))] = 8     # spine, dorsal
    return labels


def write_toy_map(directory, labels=None, name="toy_atlas.nii.gz", body=True):
    """The toy map as NIfTI plus its --label-mapping JSON; returns both paths."""
    labels = toy_labels() if labels is None else labels
    path = os.path.join(directory, name)
    nib.save(nib.Nifti1Image(labels, np.diag([0.25, 0.25, 0.25, 1.0])), path)
    entry = {"labels": {str(k): v for k, v in TOY_LABELS.items()}, "aimos_organs": TOY_ORGANS}
    if not body:
        entry["body_labels"] = []
    mapping = os.path.join(directory, "toy_mapping.json")
    with open(mapping, "w") as f:
        json.dump({name: entry}, f)
    return path, mapping


@pytest.fixture(scope="module")
def toy_map(tmp_path_factory):
    path, mapping = write_toy_map(str(tmp_path_factory.mktemp("toy")))
    return synthesis.load_label_map(path, mapping)


def run_cli(*args):
    result = subprocess.run([sys.executable, "-m", "aimostools.cli.synthesize", *args],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def require_shared_maps():
    if not os.path.isdir(SHARED_MAPS):
        message = f"real label maps not found at {SHARED_MAPS}"
        print(f"SKIP: {message}")
        pytest.skip(message)


def inner(mask, voxels=1):
    """The mask without its outer layer(s), where partial volume mixes tissues."""
    return scipy.ndimage.binary_erosion(mask, iterations=voxels)


# ---- organ mapping ---------------------------------------------------------------------------

def test_toy_mapping_lookup_and_tissue_kinds(tmp_path):
    path, mapping = write_toy_map(str(tmp_path))
    description = organs.describe_map(path, mapping)
    lookup = description.class_lookup()
    for organ, labels in TOY_ORGANS.items():
        assert all(lookup[v] == CLASSES.index(organ) for v in labels)
    assert lookup[1] == 0 and lookup[0] == 0 and lookup[200] == 0
    assert description.body_labels == (1,)
    assert description.tissue_kind(1) == "body"
    assert description.tissue_kind(3) == "lung"
    assert description.tissue_kind(8) == "bone"


def test_mapping_rejects_unknown_organ_and_undescribed_map(tmp_path):
    path, _ = write_toy_map(str(tmp_path))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"aimos_organs": {"Pancreas": [3]}}))
    with pytest.raises(ValueError, match="not an AIMOS organ"):
        organs.describe_map(path, str(bad))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"some_other_map.nii.gz": {"aimos_organs": {}}}))
    with pytest.raises(ValueError, match="does not describe"):
        organs.describe_map(path, str(other))


def test_organ_mapping_of_every_shared_map():
    require_shared_maps()
    with open(os.path.join(SHARED_MAPS, "labels.json")) as f:
        catalogue = json.load(f)
    subjects = {"digimouse_atlas.nii.gz": "digimouse", "rosenhain_organs_a.nii.gz": "rosenhain_a",
                "rosenhain_ct140_organs.nii.gz": "rosenhain_ct280",
                "rosenhain_ct280_organs_v1.nii.gz": "rosenhain_ct280",
                "rosenhain_ct280_organs_v2.nii.gz": "rosenhain_ct280"}
    assert set(catalogue) == set(subjects)
    for name, entry in catalogue.items():
        description = organs.describe_map(os.path.join(SHARED_MAPS, name))
        lookup = description.class_lookup()
        assert description.subject == subjects[name]
        mapped = set()
        for organ, labels in entry["aimos_organs"].items():
            for label in labels:
                assert lookup[label] == CLASSES.index(organ), (name, organ, label)
                mapped.add(label)
        for label in range(1, 256):
            if label not in mapped:
                assert lookup[label] == 0, (name, label)
    digimouse = organs.describe_map(os.path.join(SHARED_MAPS, "digimouse_atlas.nii.gz"))
    brain = [v for v in range(256) if digimouse.class_lookup()[v] == CLASSES.index("Brain")]
    assert brain == [4, 5, 6, 7, 8, 10]
    assert digimouse.body_labels == (1,)
    trunk = organs.describe_map(os.path.join(SHARED_MAPS, "rosenhain_organs_a.nii.gz"))
    assert trunk.body_labels == () and trunk.tissue_kind(12) == "airway"
    assert organs.describe_map(os.path.join(SHARED_MAPS, "rosenhain_ct140_organs.nii.gz")).tissue_kind(9) == "soft"


# ---- orientation and body --------------------------------------------------------------------

def test_orientation_recovers_canonical_layout_without_mirroring():
    labels = toy_labels()
    lookup = np.zeros(256, np.uint8)
    for organ, values in TOY_ORGANS.items():
        lookup[values] = CLASSES.index(organ)
    # Lay it out as the Rosenhain maps are: body axis along z, dorsal-ventral along y flipped.
    rosenhain_like = np.flip(np.transpose(labels, (0, 2, 1)), axis=1)
    orientation = find_orientation(rosenhain_like, lookup, (0.25, 0.25, 0.25))
    assert orientation.permutation == (0, 2, 1)
    assert np.array_equal(orientation.apply(rosenhain_like), labels)
    # The identity for a map already in canonical order.
    same = find_orientation(labels, lookup, (0.25, 0.25, 0.25))
    assert np.array_equal(same.apply(labels), labels)


def test_orientation_mirrors_back_a_map_stored_as_a_mirror_image():
    """Spleen and stomach on the animal's right, the heart right of the lungs: the map is stored
    mirrored (as the Rosenhain CT280 maps are), and canonical order mirrors it back, because a
    proper rotation alone would give an animal with its liver on the left."""
    labels = toy_labels()
    lookup = np.zeros(256, np.uint8)
    for organ, values in TOY_ORGANS.items():
        lookup[values] = CLASSES.index(organ)
    mirrored = np.flip(labels, axis=0)
    for stored in (mirrored, np.flip(np.transpose(mirrored, (0, 2, 1)), axis=1)):
        orientation = find_orientation(stored, lookup, (0.25, 0.25, 0.25))
        assert np.array_equal(orientation.apply(stored), labels)
    # Without the left-lying organs the heart alone still tells.
    heart_and_lungs = np.where(np.isin(mirrored, [9, 10]), 1, mirrored).astype(np.uint8)
    orientation = find_orientation(heart_and_lungs, lookup, (0.25, 0.25, 0.25))
    assert orientation.flips[0]


def test_every_shared_map_has_its_left_organs_on_the_left():
    """In canonical order (axis 0 towards the animal's left) every real map has its heart left of
    its lungs' centre and, where labelled, spleen and stomach left of its centre."""
    require_shared_maps()
    for name in ("digimouse_atlas", "rosenhain_organs_a", "rosenhain_ct140_organs",
                 "rosenhain_ct280_organs_v1", "rosenhain_ct280_organs_v2"):
        label_map = synthesis.load_label_map(os.path.join(SHARED_MAPS, name + ".nii.gz"))
        classes = label_map.description.class_lookup()[label_map.labels[::2, ::2, ::2]]
        def left_of(organ, reference):
            x = np.nonzero(classes == CLASSES.index(organ))[0]
            return None if x.size == 0 else x.mean() - reference
        centre = np.nonzero(classes > 0)[0].mean()
        lungs = np.nonzero(classes == CLASSES.index("Lung"))[0].mean()
        assert left_of("Heart", lungs) > 0, name
        for organ in ("Spleen", "Stomach"):
            offset = left_of(organ, centre)
            assert offset is None or offset > 0, (name, organ)


def test_body_envelope_built_around_organs_only_map():
    labels = toy_labels()
    organs_only = np.where(labels == 1, 0, labels).astype(np.uint8)
    body = body_envelope(organs_only, (0.25, 0.25, 0.25), (), np.random.default_rng(0))
    assert body[organs_only > 0].all()
    assert body.sum() > 1.5 * (organs_only > 0).sum()
    # A trunk, not a box: corners of the grid stay outside.
    assert not body[0, :, 0].any() and not body[-1, :, -1].any()


def test_organ_body_builds_the_trunk_of_a_map_that_has_an_outline(toy_map):
    """organ_body 1: the toy's own body (an ellipsoid) is left out and a trunk is built around
    its organs and bones instead (larger here: a margin of soft tissue around organs that
    nearly fill the ellipsoid); the organs stay as they were."""
    def case(organ_body):
        options = synthesis.SynthesisOptions(spacing_range=(0.25, 0.25), geometry=False, artefacts=False,
                                             noise_level="low", organ_body=organ_body)
        return synthesis.synthesize_case(toy_map, 3, options)
    outlined, built = case(0.0), case(1.0)
    counts = lambda c: np.bincount(c.labels.ravel(), minlength=len(CLASSES))[1:]
    assert np.array_equal(counts(outlined), counts(built)) and counts(built).sum() > 0
    in_body = lambda c: int((c.scan > -500).sum())
    assert abs(in_body(built) - in_body(outlined)) > 0.1 * in_body(outlined)
    assert in_body(built) > (built.labels > 0).sum()


# ---- scans, labels, grid ---------------------------------------------------------------------

def test_cli_writes_contract_dataset_with_matching_grids(tmp_path):
    path, mapping = write_toy_map(str(tmp_path))
    out = tmp_path / "data"
    run_cli("--maps", path, "--label-mapping", mapping, "--out", str(out), "--count", "3", "--seed", "7",
            "--modality", "mixed", "--spacing-range", "0.2", "0.4", "--second-annotation")
    dataset = json.loads((out / "dataset.json").read_text())
    assert dataset["classes"] == CLASSES
    assert [c["seed"] for c in dataset["cases"]] == [7, 8, 9]
    for case in dataset["cases"]:
        assert case["id"] == f"toy_{case['modality']}_s{case['seed']:04d}"
        assert case["subject"] == "toy" and case["source_map"] == "toy_atlas.nii.gz"
        assert case["modality"] in ("ct", "lightsheet")
        scan = nib.load(str(out / case["scan"]))
        labels = nib.load(str(out / case["labels"]))
        labels2 = nib.load(str(out / case["labels2"]))
        assert scan.get_data_dtype() == np.float32
        assert labels.get_data_dtype() == np.uint8 and labels2.get_data_dtype() == np.uint8
        assert scan.shape == labels.shape == labels2.shape
        assert np.allclose(scan.affine, labels.affine) and np.allclose(scan.affine, labels2.affine)
        spacing = case["spacing_mm"][0]
        assert 0.2 <= spacing <= 0.4 and case["spacing_mm"] == [spacing] * 3
        assert np.allclose(scan.header.get_zooms(), spacing, atol=1e-6)
        assert np.allclose(scan.affine[:3, :3], np.diag([spacing] * 3), atol=1e-6)
        values = np.unique(np.asarray(labels.dataobj))
        assert values.min() >= 0 and values.max() < len(CLASSES)


def test_requested_spacing_is_the_output_spacing(toy_map):
    for spacing in (0.15, 0.3, 0.5):
        case = synthesis.synthesize_case(toy_map, 1, synthesis.SynthesisOptions(spacing_range=(spacing, spacing)))
        assert case.spacing == spacing
        # The output covers the animal: its length along the body axis matches the map (25 mm,
        # +-10 % scaling, up to 20 % cropped at each end, plus margins).
        assert 0.5 * 25 <= case.labels.shape[1] * spacing <= 1.4 * 25 + 10


def test_max_dim_crops_the_field_of_view(toy_map):
    options = synthesis.SynthesisOptions(spacing_range=(0.1, 0.1), max_dim=48)
    case = synthesis.synthesize_case(toy_map, 2, options)
    assert max(case.labels.shape) == 48 and case.scan.shape == case.labels.shape
    assert case.spacing == 0.1 and (case.labels > 0).any()


def test_body_axis_cut_bounds_how_much_of_the_body_axis_is_lost():
    """Each end of the body axis (axis 1) loses at most body_axis_cut of the window: at the
    default 0.2 at least 60 % of the body stays, at 0.45 some windows keep under 40 % (a
    trunk-only scan); 0 keeps the whole body axis while the other axes are still cut."""
    from aimostools.synthesis.geometry import choose_window
    body_start, body_stop, shape = np.array([20, 20, 20]), np.array([60, 220, 60]), (80, 240, 80)
    body_length = body_stop[1] - body_start[1]

    def window(cut, seed):
        start, stop = choose_window(np.random.default_rng(seed), body_start, body_stop, shape, 0.25,
                                    body_axis_cut=cut)
        return stop - start
    default = [window(0.2, seed)[1] / body_length for seed in range(300)]
    wide = [window(0.45, seed)[1] / body_length for seed in range(300)]
    assert 0.6 <= min(default) < 0.8
    assert 0.1 <= min(wide) < 0.4
    whole = [window(0.0, seed) for seed in range(50)]
    assert all(length[1] >= body_length for length in whole)
    # With the body axis whole, its length tells the air margin; axis 0 is shorter than its body
    # plus that margin where it was cut.
    assert any(length[0] < (body_stop[0] - body_start[0]) + (length[1] - body_length) for length in whole)


def test_elastic_range_sets_the_deformation_amplitude(toy_map, monkeypatch):
    """The elastic amplitude is drawn from elastic_range (SynthesisOptions to the transform), and
    the lattice is displaced by that much (standard deviation in mm) from the plain transform."""
    from aimostools.synthesis import geometry
    amplitudes = [geometry.random_transform(np.random.default_rng(seed), elastic_range=(1.5, 2.5)).elastic_mm
                  for seed in range(50)]
    assert 1.5 <= min(amplitudes) and max(amplitudes) <= 2.5 and max(amplitudes) - min(amplitudes) > 0.5

    drawn = []
    def recording(*args, **kwargs):
        drawn.append(geometry.random_transform(*args, **kwargs))
        return drawn[-1]
    monkeypatch.setattr(synthesis, "random_transform", recording)
    options = synthesis.SynthesisOptions(spacing_range=(0.25, 0.25), artefacts=False, noise_level="low",
                                         elastic_range=(2.0, 2.0))
    assert (synthesis.synthesize_case(toy_map, 5, options).labels > 0).any()
    assert [t.elastic_mm for t in drawn] == [2.0]

    transform = drawn[0]
    grid = geometry.plan_output_grid(np.array([[-10.0, -20, -8], [10, 20, 8]]), transform, 0.25)
    plain = dataclasses.replace(transform, elastic_mm=0.0)
    coords = [geometry.coordinate_lattice(np.random.default_rng(1), grid, t, np.zeros(3), np.full(3, 0.1)).coords
              for t in (plain, transform)]
    displacement_mm = (coords[1] - coords[0]) * 0.1
    scale = np.abs(np.linalg.det(transform.matrix)) ** (1 / 3)
    assert abs(displacement_mm.std(axis=(1, 2, 3)).mean() / scale - 2.0) < 0.3


def test_cli_refuses_geometry_options_out_of_range(tmp_path):
    path, mapping = write_toy_map(str(tmp_path))
    for option in (["--body-axis-cut", "0.5"], ["--body-axis-cut", "-0.1"], ["--elastic-range", "2", "1"],
                   ["--elastic-range", "0", "9"]):
        result = subprocess.run([sys.executable, "-m", "aimostools.cli.synthesize", "--maps", path,
                                 "--label-mapping", mapping, "--out", str(tmp_path / "x"), *option],
                                capture_output=True, text=True)
        assert result.returncode == 2 and option[0] in result.stderr, option
        assert not (tmp_path / "x").exists()


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path):
    path, mapping = write_toy_map(str(tmp_path))
    args = ["--maps", path, "--label-mapping", mapping, "--count", "2", "--modality", "mixed",
            "--spacing-range", "0.2", "0.4", "--second-annotation"]
    run_cli(*args, "--out", str(tmp_path / "a"), "--seed", "3")
    run_cli(*args, "--out", str(tmp_path / "b"), "--seed", "3")
    run_cli(*args, "--out", str(tmp_path / "c"), "--seed", "4")
    names = sorted(os.listdir(tmp_path / "a"))
    assert names == sorted(os.listdir(tmp_path / "b")) and len(names) == 7
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # Seed 4 is case 2 of run "a" (seeds 3, 4) and case 1 of run "c" (seeds 4, 5): identical.
    first = json.loads((tmp_path / "a" / "dataset.json").read_text())["cases"][1]
    again = json.loads((tmp_path / "c" / "dataset.json").read_text())["cases"][0]
    assert (tmp_path / "a" / first["scan"]).read_bytes() == (tmp_path / "c" / again["scan"]).read_bytes()
    # ... while different seeds give different scans.
    other = json.loads((tmp_path / "a" / "dataset.json").read_text())["cases"][0]
    assert (tmp_path / "a" / other["scan"]).read_bytes() != (tmp_path / "a" / first["scan"]).read_bytes()


def test_labels_follow_the_anatomy_through_the_transform(toy_map):
    """Labels and intensities share one deformation: every organ survives, in proportion."""
    case = synthesis.synthesize_case(toy_map, 5, synthesis.SynthesisOptions(spacing_range=(0.25, 0.25)))
    values = set(np.unique(case.labels).tolist())
    assert values <= set(range(len(CLASSES)))
    source = toy_map.labels
    lookup = np.append(toy_map.description.class_lookup(), 0)
    for organ in ("Liver", "Lung", "Bone", "Kidney"):
        c = CLASSES.index(organ)
        ratio = (case.labels == c).sum() / (lookup[source] == c).sum()
        assert 0.5 < ratio < 1.6, (organ, ratio)   # scaling, cropping and bend change volume a little


# ---- appearance --------------------------------------------------------------------------------

def test_ct_tissue_values_in_hounsfield_ranges(toy_map):
    labels = toy_map.labels
    kinds = {0: "air", **{v: toy_map.description.tissue_kind(v) for v in range(1, 12)}}
    enhanced = 0
    for seed in range(20):
        values, fat = draw_tissue_values(np.random.default_rng(seed), kinds)
        assert abs(values[0] + 1000) <= 15
        assert -700 <= values[3] <= -400                                   # lung
        assert -120 <= fat <= -80
        for label in (2, 4, 6, 9, 11):                                     # brain, heart, kidney, gut
            assert 20 <= values[label] <= 80
        soft = [values[v] for v in (2, 4, 6, 9, 11)]
        assert max(soft) - min(soft) <= 30                                 # low mutual contrast
        assert 20 <= values[5] <= 80 or 100 <= values[5] <= 250            # liver, maybe enhanced
        enhanced += values[5] >= 100
        # Rendered: bone within its range; unlabelled body a mix of muscle and fat lobules.
        image = render_ct_tissues(np.random.default_rng(seed), labels.astype(np.uint16), kinds, 0.25)
        bone = image[labels == 8]
        assert np.all((bone >= 400) & (bone <= 1500))
        body = image[inner(labels == 1)]
        assert np.any((body >= -135) & (body <= -65)) and np.any((body >= 5) & (body <= 95))
    assert 0 < enhanced < 20      # contrast-enhanced liver in some scans only


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_ct_intensities_per_tissue_in_the_scan(toy_map, seed):
    """Measured inside the label masks of full scans (geometry, blur, bias, noise)."""
    for artefacts in (False, True):
        options = synthesis.SynthesisOptions(modality="ct", spacing_range=(0.25, 0.25), artefacts=artefacts)
        case = synthesis.synthesize_case(toy_map, seed, options)
        scan, labels = case.scan, case.labels

        def mean_in(*names):
            mask = inner(np.isin(labels, [CLASSES.index(n) for n in names]))
            assert mask.sum() > 20, names
            return float(scan[mask].mean())

        body = scipy.ndimage.binary_dilation(labels > 0, iterations=12)
        air = float(scan[~body].mean())
        lung, bone = mean_in("Lung"), mean_in("Bone")
        soft = mean_in("Heart", "Kidney", "Brain")
        assert air < lung < soft < bone, (air, lung, soft, bone)
        if not artefacts:
            assert air < -950
            assert -750 < lung < -300
            assert -30 < soft < 130
            assert bone > 300


def test_ct_soft_organs_have_low_mutual_contrast(toy_map):
    options = synthesis.SynthesisOptions(spacing_range=(0.25, 0.25), artefacts=False)
    for seed in range(5):
        case = synthesis.synthesize_case(toy_map, seed, options)
        means = [float(case.scan[inner(case.labels == CLASSES.index(n), 2)].mean())
                 for n in ("Heart", "Kidney", "Brain")]
        assert max(means) - min(means) < 70, means


def test_lightsheet_background_dark_and_nonnegative(toy_map):
    options = synthesis.SynthesisOptions(modality="lightsheet", spacing_range=(0.25, 0.25))
    for seed in range(3):
        case = synthesis.synthesize_case(toy_map, seed, options)
        assert case.modality == "lightsheet"
        assert case.scan.min() >= 0
        body = scipy.ndimage.binary_dilation(case.labels > 0, iterations=12)
        tissue = inner(case.labels > 0, 2)
        assert case.scan[~body].mean() < 0.1 * case.scan[tissue].mean()


def test_mixed_modality_draws_both(toy_map):
    options = synthesis.SynthesisOptions(modality="mixed", spacing_range=(0.5, 0.5))
    drawn = {synthesis.synthesize_case(toy_map, seed, options).modality for seed in range(8)}
    assert drawn == {"ct", "lightsheet"}


# ---- second annotation -------------------------------------------------------------------------

def test_second_annotation_differs_but_agrees(toy_map):
    for seed in range(3):
        options = synthesis.SynthesisOptions(spacing_range=(0.25, 0.25), second_annotation=True)
        case = synthesis.synthesize_case(toy_map, seed, options)
        assert case.labels2.shape == case.labels.shape
        assert (case.labels2 != case.labels).any()
        present = [c for c in range(1, len(CLASSES)) if (case.labels == c).any()]
        scores = dice_per_class(case.labels, case.labels2, present)
        assert min(scores.values()) > 0.8, scores
        assert set(np.unique(case.labels2)) <= set(np.unique(case.labels))


def test_perturbation_keeps_tiny_organs():
    labels = np.zeros((30, 30, 30), np.uint8)
    labels[ellipsoid(labels.shape, (15, 15, 15), (10, 10, 10))] = 4
    labels[ellipsoid(labels.shape, (5, 5, 5), (1.5, 1.5, 1.5))] = 6
    second = perturb_annotation(np.random.default_rng(1), labels, 0.3)
    scores = dice_per_class(labels, second, [4, 6])
    assert scores[4] < 1.0 and min(scores.values()) > 0.8


# ---- scans as real scanners deliver them ------------------------------------------------------

def box_body(shape=(60, 80, 50), lower=(20, 15, 18), upper=(40, 65, 32)):
    body = np.zeros(shape, bool)
    body[lower[0]:upper[0], lower[1]:upper[1], lower[2]:upper[2]] = True
    return body


def test_scene_objects_lie_outside_the_body_in_their_ranges():
    body = box_body()
    for seed in range(8):
        image = np.where(body, 40.0, -1000.0).astype(np.float32)
        drawn = synth_scene.draw_scene(np.random.default_rng(seed), image, body, 0.5)
        assert drawn[0].startswith("bed ")
        assert np.all(image[body] == 40.0), seed                       # the animal is untouched
        changed = ~body & (image != -1000.0)
        assert changed.sum() > 0.01 * (~body).sum(), seed                # a bed spans the field of view
        assert image[changed].min() >= -1000.0 and image[changed].max() <= synth_scene.METAL_HU[1]


def test_bed_lies_against_the_body_on_the_side_drawn():
    body = box_body()
    distance_mm = scipy.ndimage.distance_transform_edt(~body) * 0.5
    centre = {"ventral": (2, 25), "dorsal": (2, 25), "left": (0, 30), "right": (0, 30)}
    sides = set()
    for seed in range(30):
        image = np.where(body, 40.0, -1000.0).astype(np.float32)
        side = synth_scene._bed(np.random.default_rng(seed), image, body, 0.5)
        sides.add(side)
        plate = ~body & (image != -1000.0)
        assert distance_mm[plate].min() <= 0.6 + 0.5, (seed, side)        # the gap, plus a voxel
        axis, middle = centre[side]
        below = np.argwhere(plate)[:, axis].mean() < middle
        assert below == (side in ("ventral", "left")), (seed, side)
    assert {"ventral", "dorsal"} <= sides


def test_reconstruction_circle_writes_one_constant_outside():
    body = box_body()
    applied = 0
    for seed in range(10):
        scan = np.random.default_rng(100 + seed).normal(0, 10, body.shape).astype(np.float32)
        before = scan.copy()
        if not synth_scene.reconstruction_circle(np.random.default_rng(seed), scan, body, 0.5):
            assert np.array_equal(scan, before)
            continue
        applied += 1
        changed = scan != before
        assert not changed[body].any()
        values = np.unique(scan[changed])
        assert len(values) == 1 and values[0] in synth_scene.CIRCLE_VALUES_HU
        assert changed[0, :, 0].all()                                   # a corner is outside any such circle
    assert 0 < applied < 10


def test_random_intensities_keep_air_darkest_and_change_the_contrast():
    codes = np.repeat(np.arange(4, dtype=np.uint16), 1000).reshape(10, 20, 20)
    kinds = {0: "air", 1: "liver", 2: "lung", 3: "bone"}
    orders = set()
    for modality in ("ct", "lightsheet"):
        for seed in range(12):
            image = random_render(np.random.default_rng(seed), codes, kinds, 0.5, modality)
            means = [float(image[codes == c].mean()) for c in range(4)]
            assert means[0] == min(means), (modality, seed, means)
            orders.add(tuple(np.argsort(means[1:])))
    assert len(orders) >= 4      # organs swap brightness between scans: no contrast is learnt


def test_extra_animals_stand_side_by_side_with_their_organs(toy_map):
    options = synthesis.SynthesisOptions(spacing_range=(0.5, 0.5), geometry=False, extra_animals=1.0)
    counts = set()
    for seed in range(4):
        case = synthesis.synthesize_case(toy_map, seed, options)
        counts.add(case.animals)
        brains, n = scipy.ndimage.label(case.labels == CLASSES.index("Brain"))
        assert n == case.animals, (seed, n, case.animals)
        centres = scipy.ndimage.center_of_mass(np.ones_like(brains), brains, range(1, n + 1))
        spread = np.ptp(np.array(centres), axis=0)
        assert spread[0] == spread.max()                                # side by side along left-right
        bodies, pieces = scipy.ndimage.label(scipy.ndimage.binary_fill_holes(case.labels > 0))
        assert pieces >= case.animals                                   # apart: a gap between them
    assert counts <= {2, 3} and len(counts) >= 1


def test_scene_option_marks_the_case_and_leaves_labels_background(toy_map):
    plain = synthesis.SynthesisOptions(spacing_range=(0.5, 0.5), geometry=False)
    options = synthesis.SynthesisOptions(spacing_range=(0.5, 0.5), geometry=False, scene=1.0)
    case = synthesis.synthesize_case(toy_map, 3, options)
    reference_case = synthesis.synthesize_case(toy_map, 3, plain)
    assert case.scene and case.scene[0].startswith("bed ") and not reference_case.scene
    # the same organs (voxel counts) whatever was drawn around them
    for c in np.unique(reference_case.labels):
        assert (case.labels == c).sum() >= (reference_case.labels == c).sum() * (0 if c == 0 else 0.999)
    assert case.scan.shape[2] > reference_case.scan.shape[2]            # room made for bed and tubes


def test_annotators_differ_more_on_spleen_than_on_lung():
    labels = np.zeros((40, 40, 40), np.uint8)
    labels[ellipsoid(labels.shape, (12, 20, 20), (8, 10, 8))] = CLASSES.index("Lung")
    labels[ellipsoid(labels.shape, (29, 20, 20), (8, 10, 8))] = CLASSES.index("Spleen")
    lung, spleen = [], []
    for seed in range(6):
        second = perturb_annotation(np.random.default_rng(seed), labels, 0.3)
        scores = dice_per_class(labels, second, [CLASSES.index("Lung"), CLASSES.index("Spleen")])
        lung.append(scores[CLASSES.index("Lung")])
        spleen.append(scores[CLASSES.index("Spleen")])
    assert np.mean(spleen) < np.mean(lung) - 0.02, (lung, spleen)
    assert min(spleen) >= 0.72 and min(lung) >= 0.85


# ---- real maps ---------------------------------------------------------------------------------

def test_real_maps_render_with_their_organs():
    require_shared_maps()
    expected = {"digimouse_atlas.nii.gz": ["Brain", "Heart", "Lung", "Liver", "Kidney", "Bone"],
                "rosenhain_organs_a.nii.gz": ["Heart", "Lung", "Liver", "Stomach", "Intestine"]}
    for name, organ_names in expected.items():
        label_map = synthesis.load_label_map(os.path.join(SHARED_MAPS, name))
        options = synthesis.SynthesisOptions(spacing_range=(0.5, 0.5), geometry=False)
        case = synthesis.synthesize_case(label_map, 1, options)
        present = set(np.unique(case.labels).tolist())
        assert {CLASSES.index(o) for o in organ_names} <= present, name
        # Canonical layout: the body axis (axis 1) is the longest; dorsal-ventral (axis 2) the shortest.
        assert case.labels.shape[1] > case.labels.shape[0] > case.labels.shape[2], (name, case.labels.shape)
        assert float(case.scan[inner(case.labels == CLASSES.index("Lung"))].mean()) < -250


def test_ct280_pair_keeps_one_grid(tmp_path):
    require_shared_maps()
    out = tmp_path / "pair"
    v1 = os.path.join(SHARED_MAPS, "rosenhain_ct280_organs_v1.nii.gz")
    run_cli("--maps", v1, "--out", str(out), "--count", "1", "--seed", "2",
            "--spacing-range", "0.4", "0.5", "--pair-annotations")
    case = json.loads((out / "dataset.json").read_text())["cases"][0]
    assert case["subject"] == "rosenhain_ct280"
    scan, labels = nib.load(str(out / case["scan"])), nib.load(str(out / case["labels"]))
    labels2 = nib.load(str(out / case["labels2"]))
    assert scan.shape == labels.shape == labels2.shape
    assert np.array_equal(labels.affine, labels2.affine)
    first, second = np.asarray(labels.dataobj), np.asarray(labels2.dataobj)
    assert (first != second).any()
    # Two real annotations of one scan: their organs overlap well when resampled alike,
    # and v1's bladder is missing from v2, as in the source maps.
    scores = dice_per_class(first, second, [CLASSES.index(o) for o in ("Heart", "Lung", "Liver", "Kidney")])
    assert min(scores.values()) > 0.7, scores
    assert (first == CLASSES.index("Bladder")).any() and not (second == CLASSES.index("Bladder")).any()


def test_sample_scan_is_small_int16_and_reproducible(tmp_path):
    require_shared_maps()
    digimouse = os.path.join(SHARED_MAPS, "digimouse_atlas.nii.gz")
    paths = []
    for run in ("a", "b"):
        scan, labels = str(tmp_path / f"{run}_scan.nii.gz"), str(tmp_path / f"{run}_labels.nii.gz")
        run_cli("--maps", digimouse, "--sample", scan, "--sample-labels", labels, "--seed", "1")
        paths.append((scan, labels))
    (scan_a, labels_a), (scan_b, labels_b) = paths
    assert open(scan_a, "rb").read() == open(scan_b, "rb").read()
    assert open(labels_a, "rb").read() == open(labels_b, "rb").read()
    # Small enough to commit: under 1 MB together (noisy air, like the training scans, costs ~0.4 MB).
    assert os.path.getsize(scan_a) + os.path.getsize(labels_a) < 1_000_000
    image = nib.load(scan_a)
    assert image.get_data_dtype() == np.int16 and image.shape == nib.load(labels_a).shape
    with gzip.open(scan_a) as f:
        assert f.read(4) == (348).to_bytes(4, "little")   # a NIfTI-1 header inside the gzip
