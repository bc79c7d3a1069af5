"""Synthetic training and test scans rendered from real mouse label maps, in the spirit of
domain-randomised training (SynthSeg, Billot et al., 2023): every scan draws new tissue
intensities, scanner or microscope effects, geometry and voxel size from one seed.

Steps for one case:
 1. the label map, in canonical axis order (synth_orientation), is subsampled to a working
    grid a little finer than the target voxel size, so big maps stay cheap;
 2. a body envelope (synth_body) marks soft tissue around the organs;
 3. a random transform and output grid (synth_geometry) fix where each output voxel samples;
 4. tissues are rendered on the working grid (synth_ct / synth_lightsheet), then labels
    (nearest neighbour) and intensities (linear) are resampled with the same coordinates;
 5. scanner or microscope effects act on the output grid; labels map to the AIMOS classes;
 6. optionally a second annotation: the map's real second version on the same grid, resampled
    with the same coordinates, or a synthetic one (synth_annotation).
The same seed gives bit-identical output. Files follow the dataset contract: DIR/dataset.json
plus float32 scans and uint8 label maps in NIfTI on one grid and affine.
"""
import json
import os
import zlib
from dataclasses import dataclass, field

import nibabel as nib
import numpy as np

from aimostools.synthesis.organs import AIMOS_CLASSES, describe_map
from aimostools.synthesis.annotation import perturb_annotation
from aimostools.synthesis.body import body_envelope
from aimostools.synthesis.ct import apply_ct_scanner, render_ct_tissues
from aimostools.synthesis.geometry import (body_window, choose_window, coordinate_lattice, plan_output_grid,
                             random_transform, sample)
from aimostools.synthesis.lightsheet import apply_microscope, render_lightsheet_tissues
from aimostools.synthesis.orientation import find_orientation
from aimostools.synthesis.random_intensity import render_random_tissues
from aimostools.synthesis.scene import air_value, draw_scene, reconstruction_circle, room_for_scene

BODY_FILL = 256          # tissue code of unlabelled voxels inside the body
MODALITIES = ("ct", "lightsheet")


@dataclass
class LabelMap:
    """A label map in canonical axis order with the meaning of its labels."""
    path: str
    description: object
    labels: np.ndarray
    spacing: tuple
    orientation: object
    _working: dict = field(default_factory=dict, repr=False)

    def working(self, target_spacing):
        """(labels, voxel size, slices into self.labels, labels present): the map subsampled
        to voxels of one half to three quarters of the target size (or its own, if coarser),
        cut to the labelled region plus a 5 mm margin; cached."""
        factors = tuple(max(1, int(round(target_spacing / (1.5 * s)))) for s in self.spacing)
        if factors not in self._working:
            coarse = self.labels[tuple(slice(f // 2, None, f) for f in factors)]
            slices = []
            for axis, f in enumerate(factors):
                present = np.nonzero(coarse.any(axis=tuple(a for a in range(3) if a != axis)))[0]
                pad = int(np.ceil(5.0 / (f * self.spacing[axis])))
                low = max(0, present[0] - pad) if len(present) else 0
                high = min(coarse.shape[axis], present[-1] + pad + 1) if len(present) else coarse.shape[axis]
                slices.append(slice(f // 2 + low * f, f // 2 + high * f, f))
            slices = tuple(slices)
            spacing = tuple(f * s for f, s in zip(factors, self.spacing))
            labels = np.ascontiguousarray(self.labels[slices])
            self._working[factors] = (labels, spacing, slices, [int(v) for v in np.unique(labels)])
        return self._working[factors]


def load_label_map(path, mapping_path=None, orientation=None):
    """Reads a label map (NIfTI, integer labels 0..255) and the meaning of its labels, and
    puts it into canonical axis order (or the given orientation, e.g. that of its partner)."""
    image = nib.load(path)
    data = np.asarray(image.dataobj)
    if data.ndim != 3:
        raise ValueError(f"{path}: expected a 3D label map, got shape {data.shape}")
    if not np.issubdtype(data.dtype, np.integer):
        if not np.all(np.mod(data, 1) == 0):
            raise ValueError(f"{path}: label values must be integers")
    if data.min() < 0 or data.max() > 255:
        raise ValueError(f"{path}: label values must lie in 0..255")
    data = data.astype(np.uint8)
    description = describe_map(path, mapping_path)
    spacing = tuple(float(s) for s in image.header.get_zooms()[:3])
    if orientation is None:
        orientation = find_orientation(data, description.class_lookup(), spacing)
    labels = np.ascontiguousarray(orientation.apply(data))
    return LabelMap(path, description, labels, orientation.spacing(spacing), orientation)


@dataclass
class SynthesisOptions:
    """What to draw: modality ('ct', 'lightsheet' or 'mixed'), voxel size range (mm), the
    largest output dimension (None: no limit), and switches for the geometry augmentation,
    artefacts, a fixed noise level ('low', 'medium', 'high' or None) and a synthetic second
    annotation. For scans as they come off a scanner: random_intensity, the probability that
    the tissues get SynthSeg-style random intensities instead of the modality's prior;
    scene, the probability of a bed, tubes, wires, nose cone and reconstruction circle (CT);
    extra_animals, the probability of one or two more animals beside the first; size_range,
    the animal's scale (young and old mice); organ_body, the probability that an animal of a map
    with a body outline (Digimouse) gets a trunk built around its organs and bones instead, as
    organ-only maps do, so that no kind of body comes with one anatomy only; body_axis_cut, how
    much of the body axis each end may lose (0.2; more stands for scans of the trunk or the
    abdomen only); elastic_range, the elastic displacement's amplitude in mm (0.2-1.0; more
    stands for anatomies unlike the map's). The defaults draw no random intensities, scene, extra
    animals or organ-built trunks, and keep the scale, cut and elastic ranges that were always
    drawn, so older recipes give the same files."""
    modality: str = "ct"
    spacing_range: tuple = (0.1, 0.5)
    max_dim: int = None
    geometry: bool = True
    artefacts: bool = True
    noise_level: str = None
    second_annotation: bool = False
    random_intensity: float = 0.0
    scene: float = 0.0
    extra_animals: float = 0.0
    size_range: tuple = (0.9, 1.1)
    organ_body: float = 0.0
    body_axis_cut: float = 0.2
    elastic_range: tuple = (0.2, 1.0)


@dataclass
class SynthesizedCase:
    """One synthetic scan with its labels (AIMOS class indices) on the same grid; animals is
    the number of animals in it, scene what else was drawn."""
    scan: np.ndarray
    labels: np.ndarray
    labels2: np.ndarray
    spacing: float
    modality: str
    seed: int
    label_map: LabelMap
    intensity: str = "prior"
    animals: int = 1
    scene: list = field(default_factory=list)


def case_rng(map_name, seed):
    """The random generator of one case: a function of the case seed and the map."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(map_name.encode())]))


def _tissue_kinds(description, present_labels):
    kinds = {0: "air", BODY_FILL: "body"}
    for label in present_labels:
        if label != 0:
            kinds[label] = description.tissue_kind(label)
    return kinds


def _source_region(bounds_low, bounds_high, shape):
    """Slices of a source array that hold every coordinate in [low, high] (plus a voxel)."""
    slices = []
    for low, high, n in zip(bounds_low, bounds_high, shape):
        start = int(np.clip(np.floor(low) - 1, 0, n - 1))
        stop = int(np.clip(np.ceil(high) + 2, start + 1, n))
        slices.append(slice(start, stop))
    return tuple(slices)


def _output_geometry(rng, body, working_spacing, spacing, options):
    """Draws the transform and the output window around the body; returns the coordinate
    lattice (source voxel coordinates) and the output shape."""
    box = np.argwhere(body[::2, ::2, ::2]) * 2 if body.any() else np.array([[0, 0, 0], body.shape])
    center_mm = (box.min(axis=0) + box.max(axis=0)) / 2 * working_spacing
    box_mm = np.stack([box.min(axis=0) * working_spacing - center_mm,
                       (box.max(axis=0) + 2) * working_spacing - center_mm])
    transform = random_transform(rng, options.geometry, options.size_range, options.elastic_range)
    grid = plan_output_grid(box_mm, transform, spacing)
    lattice = coordinate_lattice(rng, grid, transform, center_mm, working_spacing)
    start, stop = choose_window(rng, *body_window(lattice, body), grid.shape, spacing,
                                crop=options.geometry, max_dim=options.max_dim, body_axis_cut=options.body_axis_cut)
    return lattice.window(start, stop), tuple(int(n) for n in stop - start)


@dataclass
class _Animal:
    """One animal rendered on its own output grid, before scanner effects."""
    image: np.ndarray
    body: np.ndarray
    labels: np.ndarray
    labels2: np.ndarray


def _render_animal(rng, label_map, modality, intensity, spacing, options, partner=None):
    description = label_map.description
    labels_w, spacing_w, slices, present = label_map.working(spacing)
    body_labels = description.body_labels
    if body_labels and options.organ_body > 0 and rng.random() < options.organ_body:
        # The map's outline left out: its body fill becomes air, and the trunk is built around
        # what remains, as for an organ-only map.
        labels_w = np.where(np.isin(labels_w, body_labels), 0, labels_w).astype(labels_w.dtype)
        body_labels = ()
    body = body_envelope(labels_w, spacing_w, body_labels, rng)
    codes = labels_w.astype(np.uint16)
    codes[(labels_w == 0) & body] = BODY_FILL
    lattice, shape = _output_geometry(rng, body, spacing_w, spacing, options)

    # Render only the part of the working grid that the output reaches.
    region = _source_region(*lattice.bounds(), codes.shape)
    lattice = lattice.shifted([s.start for s in region])
    codes = codes[region]
    kinds = _tissue_kinds(description, present)
    if intensity == "random":
        intensities = render_random_tissues(rng, codes, kinds, spacing_w, modality)
    elif modality == "ct":
        intensities = render_ct_tissues(rng, codes, kinds, spacing_w)
    else:
        intensities = render_lightsheet_tissues(rng, codes, kinds, spacing_w)
    volumes = [(codes, 0), (intensities, 1)]
    if partner is not None:
        if partner.labels.shape != label_map.labels.shape:
            raise ValueError(f"{partner.path} is not on the grid of {label_map.path}")
        volumes.append((np.ascontiguousarray(partner.labels[slices][region]), 0))
    sampled = sample(volumes, lattice, shape)

    out_codes, image = sampled[0], sampled[1]
    lookup = np.append(description.class_lookup(), np.uint8(0))   # BODY_FILL -> background
    labels2 = partner.description.class_lookup()[sampled[2]] if partner is not None else None
    return _Animal(image, out_codes > 0, lookup[out_codes], labels2)


def _place_side_by_side(rng, animals, spacing):
    """One grid holding the animals next to each other along the left-right axis (as on a
    multi-animal bed): gaps of 1-10 mm, the bellies level (one bed), random offsets along the
    body axis. Returns an _Animal of the whole scene."""
    gaps = [int(round(rng.uniform(1.0, 10.0) / spacing)) for _ in animals[1:]] + [0]
    length = max(a.image.shape[1] for a in animals)
    width = sum(a.image.shape[0] for a in animals) + sum(gaps)
    # The lowest body voxel along axis 2 (the belly of a prone animal) is level for all.
    bellies = [int(np.argmax(a.body.any(axis=(0, 1)))) for a in animals]
    z_offsets = [max(bellies) - belly for belly in bellies]
    height = max(z + a.image.shape[2] for z, a in zip(z_offsets, animals))
    first = animals[0]
    air = air_value(first.image, first.body, default=float(first.image.min()))
    image = np.full((width, length, height), air, np.float32)
    body = np.zeros(image.shape, bool)
    labels = np.zeros(image.shape, np.uint8)
    labels2 = np.zeros(image.shape, np.uint8) if any(a.labels2 is not None for a in animals) else None
    x = 0
    for animal, gap, z in zip(animals, gaps, z_offsets):
        n0, n1, n2 = animal.image.shape
        y = int(rng.integers(0, length - n1 + 1))
        window = (slice(x, x + n0), slice(y, y + n1), slice(z, z + n2))
        inside = animal.body
        image[window][inside] = animal.image[inside]
        body[window] |= inside
        labels[window][inside] = animal.labels[inside]
        if labels2 is not None:
            second = animal.labels2 if animal.labels2 is not None else animal.labels
            labels2[window][inside] = second[inside]
        x += n0 + gap
    return _Animal(image, body, labels, labels2)


def _pad(animal, room, air):
    pad = [tuple(r) for r in room]
    if not any(sum(r) for r in pad):
        return animal
    return _Animal(np.pad(animal.image, pad, constant_values=air), np.pad(animal.body, pad),
                   np.pad(animal.labels, pad),
                   None if animal.labels2 is None else np.pad(animal.labels2, pad))


def _cut_to(rng, animal, max_dim):
    """A random window of at most max_dim voxels per axis (None: unchanged)."""
    if max_dim is None or max(animal.image.shape) <= max_dim:
        return animal
    window = []
    for n in animal.image.shape:
        start = int(rng.integers(0, n - max_dim + 1)) if n > max_dim else 0
        window.append(slice(start, start + min(n, max_dim)))
    window = tuple(window)
    return _Animal(animal.image[window], animal.body[window], animal.labels[window],
                   None if animal.labels2 is None else animal.labels2[window])


def synthesize_case(label_map, seed, options, partner=None, companions=()):
    """Renders one scan from `label_map` with the case seed. `partner` (a LabelMap on the same
    grid and orientation, e.g. the second annotation of the same scan) is resampled with the
    same transform into labels2. Extra animals (options.extra_animals) are drawn from
    `companions` (LabelMaps; default: label_map itself)."""
    rng = case_rng(label_map.description.short_name, seed)
    modality = options.modality
    if modality == "mixed":
        modality = MODALITIES[int(rng.integers(0, 2))]
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality '{options.modality}'")
    low, high = options.spacing_range
    spacing = float(low) if high <= low else round(float(rng.uniform(low, high)), 3)
    intensity = "random" if options.random_intensity > 0 and rng.random() < options.random_intensity else "prior"

    animals = [_render_animal(rng, label_map, modality, intensity, spacing, options, partner)]
    if options.extra_animals > 0 and rng.random() < options.extra_animals:
        pool = list(companions) or [label_map]
        for _ in range(int(rng.integers(1, 3))):
            other = pool[int(rng.integers(0, len(pool)))]
            animals.append(_render_animal(rng, other, modality, intensity, spacing, options))
        rng.shuffle(animals)
    scene = animals[0] if len(animals) == 1 else _place_side_by_side(rng, animals, spacing)
    drawn = []
    with_scene = modality == "ct" and options.scene > 0 and rng.random() < options.scene
    if with_scene:
        air = air_value(scene.image, scene.body)
        scene = _pad(scene, room_for_scene(rng, spacing, True), air)
        drawn = draw_scene(rng, scene.image, scene.body, spacing)
    if len(animals) > 1 or with_scene:
        scene = _cut_to(rng, scene, options.max_dim)

    if modality == "ct":
        scan = apply_ct_scanner(rng, scene.image, scene.body, spacing, options.artefacts, options.noise_level)
        if with_scene and reconstruction_circle(rng, scan, scene.body, spacing):
            drawn.append("reconstruction circle")
    else:
        scan = apply_microscope(rng, scene.image, scene.body, spacing, options.artefacts, options.noise_level)

    labels2 = scene.labels2
    if partner is None and options.second_annotation:
        labels2 = perturb_annotation(rng, scene.labels, spacing)
    return SynthesizedCase(scan, scene.labels, labels2, spacing, modality, int(seed), label_map,
                           intensity, len(animals), drawn)


def write_nifti(path, volume, spacing, is_labels):
    """Writes a volume with an isotropic diagonal affine (mm); label maps are marked as such
    (NIFTI_INTENT_LABEL, cal_max = highest class) as TotalSegmentator and nnU-Net do."""
    affine = np.diag([spacing, spacing, spacing, 1.0])
    image = nib.Nifti1Image(volume, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    header = image.header
    header.set_xyzt_units("mm")
    header["descrip"] = b"aimos synthesize.py"
    if is_labels:
        header.set_intent("label")
        header["cal_min"] = 0
        header["cal_max"] = len(AIMOS_CLASSES) - 1
    nib.save(image, path)


def write_case(case, out_dir, case_id, scan_dtype=np.float32):
    """Writes the NIfTI files of one case into out_dir; returns its dataset.json entry."""
    entry = {"id": case_id, "subject": case.label_map.description.subject,
             "source_map": case.label_map.description.file_name, "modality": case.modality,
             "seed": case.seed, "spacing_mm": [case.spacing] * 3, "intensity": case.intensity,
             "animals": case.animals, "scene": case.scene,
             "scan": f"{case_id}_scan.nii.gz", "labels": f"{case_id}_labels.nii.gz"}
    scan = case.scan if scan_dtype == np.float32 else np.round(case.scan).astype(scan_dtype)
    write_nifti(os.path.join(out_dir, entry["scan"]), scan, case.spacing, False)
    write_nifti(os.path.join(out_dir, entry["labels"]), case.labels.astype(np.uint8), case.spacing, True)
    if case.labels2 is not None:
        entry["labels2"] = f"{case_id}_labels2.nii.gz"
        write_nifti(os.path.join(out_dir, entry["labels2"]), case.labels2.astype(np.uint8), case.spacing, True)
    return entry


def case_id(label_map, modality, seed):
    """Case id as in the dataset contract: <map>_<modality>_s<seed>, e.g. digimouse_ct_s0001."""
    return f"{label_map.description.short_name}_{modality}_s{seed:04d}"


def write_dataset(out_dir, entries):
    """Writes DIR/dataset.json for the given case entries."""
    with open(os.path.join(out_dir, "dataset.json"), "w") as f:
        json.dump({"classes": AIMOS_CLASSES, "cases": entries}, f, indent=1)
        f.write("\n")
