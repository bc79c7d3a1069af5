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

from .organs import AIMOS_CLASSES, describe_map
from .synth_annotation import perturb_annotation
from .synth_body import body_envelope
from .synth_ct import apply_ct_scanner, render_ct_tissues
from .synth_geometry import (body_window, choose_window, coordinate_lattice, plan_output_grid,
                             random_transform, sample)
from .synth_lightsheet import apply_microscope, render_lightsheet_tissues
from .synth_orientation import find_orientation

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
    annotation."""
    modality: str = "ct"
    spacing_range: tuple = (0.1, 0.5)
    max_dim: int = None
    geometry: bool = True
    artefacts: bool = True
    noise_level: str = None
    second_annotation: bool = False


@dataclass
class SynthesizedCase:
    """One synthetic scan with its labels (AIMOS class indices) on the same grid."""
    scan: np.ndarray
    labels: np.ndarray
    labels2: np.ndarray
    spacing: float
    modality: str
    seed: int
    label_map: LabelMap


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
    transform = random_transform(rng, options.geometry)
    grid = plan_output_grid(box_mm, transform, spacing)
    lattice = coordinate_lattice(rng, grid, transform, center_mm, working_spacing)
    start, stop = choose_window(rng, *body_window(lattice, body), grid.shape, spacing,
                                crop=options.geometry, max_dim=options.max_dim)
    return lattice.window(start, stop), tuple(int(n) for n in stop - start)


def synthesize_case(label_map, seed, options, partner=None):
    """Renders one scan from `label_map` with the case seed. `partner` (a LabelMap on the same
    grid and orientation, e.g. the second annotation of the same scan) is resampled with the
    same transform into labels2."""
    description = label_map.description
    rng = case_rng(description.short_name, seed)
    modality = options.modality
    if modality == "mixed":
        modality = MODALITIES[int(rng.integers(0, 2))]
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality '{options.modality}'")
    low, high = options.spacing_range
    spacing = float(low) if high <= low else round(float(rng.uniform(low, high)), 3)

    labels_w, spacing_w, slices, present = label_map.working(spacing)
    body = body_envelope(labels_w, spacing_w, description.body_labels, rng)
    codes = labels_w.astype(np.uint16)
    codes[(labels_w == 0) & body] = BODY_FILL
    lattice, shape = _output_geometry(rng, body, spacing_w, spacing, options)

    # Render only the part of the working grid that the output reaches.
    region = _source_region(*lattice.bounds(), codes.shape)
    lattice = lattice.shifted([s.start for s in region])
    codes = codes[region]
    render = render_ct_tissues if modality == "ct" else render_lightsheet_tissues
    intensities = render(rng, codes, _tissue_kinds(description, present), spacing_w)
    volumes = [(codes, 0), (intensities, 1)]
    if partner is not None:
        if partner.labels.shape != label_map.labels.shape:
            raise ValueError(f"{partner.path} is not on the grid of {label_map.path}")
        volumes.append((np.ascontiguousarray(partner.labels[slices][region]), 0))
    sampled = sample(volumes, lattice, shape)

    out_codes, image = sampled[0], sampled[1]
    lookup = np.append(description.class_lookup(), np.uint8(0))   # BODY_FILL -> background
    labels = lookup[out_codes]
    body_out = out_codes > 0
    if modality == "ct":
        scan = apply_ct_scanner(rng, image, body_out, spacing, options.artefacts, options.noise_level)
    else:
        scan = apply_microscope(rng, image, body_out, spacing, options.artefacts, options.noise_level)

    labels2 = None
    if partner is not None:
        labels2 = partner.description.class_lookup()[sampled[2]]
    elif options.second_annotation:
        labels2 = perturb_annotation(rng, labels, spacing)
    return SynthesizedCase(scan, labels, labels2, spacing, modality, int(seed), label_map)


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
             "seed": case.seed, "spacing_mm": [case.spacing] * 3,
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
