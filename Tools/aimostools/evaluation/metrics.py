"""Segmentation metrics of the AIMOS paper (Methods, "Evaluation"), per organ on 3D masks:

- Dice = (2 TP + eps) / (2 TP + FP + FN + eps), eps = 1e-5 (paper, eq. 1);
- Hausdorff distance percentiles HD_p (paper, eq. 2) in mm: distances between the surface
  voxels of prediction and reference, with the voxel spacing. The paper's HD_p replaces the
  outer max of the directed Hausdorff distance by the p-th percentile; as the Hausdorff
  distance itself is the larger of its two directed distances, this module reports
  max(P_p(d(S, S^)), P_p(d(S^, S))), which is symmetric in prediction and reference;
- centre-of-mass displacement ||CoM(S^) - CoM(S)|| in mm (paper, eq. 3);
- volume error 100 * (V(S^) - V(S)) / V(S) in %, signed (positive: over-segmentation).

Empty masks, the paper's Dice: both empty gives 1 (eps / eps); one empty gives eps / (n + eps),
about 0. Distances, displacement and volume error are undefined when either mask (for the
volume error: the reference) is empty and are NaN then.
"""
import math

import numpy as np
import scipy.ndimage

DICE_EPSILON = 1e-5


def dice(prediction, reference, eps=DICE_EPSILON):
    """The paper's Dice of two boolean masks."""
    prediction, reference = np.asarray(prediction, bool), np.asarray(reference, bool)
    tp = np.count_nonzero(prediction & reference)
    fp = np.count_nonzero(prediction & ~reference)
    fn = np.count_nonzero(~prediction & reference)
    return (2.0 * tp + eps) / (2.0 * tp + fp + fn + eps)


def surface(mask):
    """Voxels of the mask with a face neighbour outside it (outside the array counts as outside)."""
    structure = scipy.ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~scipy.ndimage.binary_erosion(mask, structure, border_value=0)


def bounding_box(mask, margin):
    """Slices of the smallest box holding all True voxels, widened by margin voxels."""
    where = np.nonzero(mask)
    return tuple(slice(max(int(w.min()) - margin, 0), int(w.max()) + margin + 1) for w in where)


def surface_distances(from_mask, to_mask, spacing):
    """For every surface voxel of from_mask, the distance in mm to the nearest surface voxel of
    to_mask. Both masks are non-empty; the work is done inside the box holding both, where the
    nearest surface voxel always lies."""
    box = bounding_box(from_mask | to_mask, margin=1)
    return _distances_between(surface(from_mask[box]), surface(to_mask[box]), spacing)


def _distances_between(source, target, spacing):
    """Distance in mm from every True voxel of source to the nearest True voxel of target."""
    distance_to_target = scipy.ndimage.distance_transform_edt(~target, sampling=spacing)
    return distance_to_target[source]


def hausdorff_percentiles(prediction, reference, spacing, percentiles=(50, 95)):
    """{p: HD_p in mm} (symmetric, see the module text); NaN when a mask is empty."""
    prediction, reference = np.asarray(prediction, bool), np.asarray(reference, bool)
    if not prediction.any() or not reference.any():
        return {p: math.nan for p in percentiles}
    # as surface_distances both ways, but the box and the two surfaces are computed once
    box = bounding_box(prediction | reference, margin=1)
    prediction_surface, reference_surface = surface(prediction[box]), surface(reference[box])
    to_prediction = _distances_between(reference_surface, prediction_surface, spacing)
    to_reference = _distances_between(prediction_surface, reference_surface, spacing)
    return {p: float(max(np.percentile(to_prediction, p), np.percentile(to_reference, p))) for p in percentiles}


def center_of_mass_displacement(prediction, reference, spacing):
    """||CoM(prediction) - CoM(reference)|| in mm; NaN when a mask is empty."""
    prediction, reference = np.asarray(prediction, bool), np.asarray(reference, bool)
    if not prediction.any() or not reference.any():
        return math.nan
    shift = (np.array(scipy.ndimage.center_of_mass(prediction)) - np.array(scipy.ndimage.center_of_mass(reference)))
    return float(np.linalg.norm(shift * np.asarray(spacing, float)))


def volume_mm3(mask, spacing):
    return float(np.count_nonzero(mask) * np.prod(np.asarray(spacing, float)))


def volume_error_percent(prediction, reference):
    """100 * (V(prediction) - V(reference)) / V(reference); NaN for an empty reference."""
    reference_count = np.count_nonzero(reference)
    if reference_count == 0:
        return math.nan
    return 100.0 * (np.count_nonzero(prediction) - reference_count) / reference_count


def organ_metrics(prediction, reference, spacing):
    """All metrics of one organ: dice, hd50_mm, hd95_mm, com_mm, volume_reference_mm3,
    volume_prediction_mm3, volume_error_pct."""
    prediction, reference = np.asarray(prediction, bool), np.asarray(reference, bool)
    distances = hausdorff_percentiles(prediction, reference, spacing, (50, 95))
    return {"dice": dice(prediction, reference), "hd50_mm": distances[50], "hd95_mm": distances[95],
            "com_mm": center_of_mass_displacement(prediction, reference, spacing),
            "volume_reference_mm3": volume_mm3(reference, spacing),
            "volume_prediction_mm3": volume_mm3(prediction, spacing),
            "volume_error_pct": volume_error_percent(prediction, reference)}
