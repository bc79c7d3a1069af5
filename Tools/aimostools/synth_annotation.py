"""A synthetic second annotation of a label map, for the dual-annotation training mode.

A second expert draws the same organs with a different interpretation of ambiguous boundaries:
each organ is grown or shrunk a little (a random erosion or dilation) and its boundary shifted
by a smooth random amount that varies along it. Shifts are bounded by the organ's thickness,
and an organ whose Dice with the original would fall below `min_dice` gets smaller shifts, so
the pair stays as plausible as two real annotations of one scan.
"""
import numpy as np
import scipy.ndimage

from .synth_fields import smooth_field


def dice_per_class(first, second, classes):
    """Dice coefficient of each class in `classes` between two label maps (1.0 where a class
    is absent from both)."""
    scores = {}
    for c in classes:
        a, b = first == c, second == c
        total = int(a.sum()) + int(b.sum())
        scores[c] = 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total
    return scores


def _signed_distance(mask):
    """Voxel distance to the boundary: negative inside, positive outside, 0 on the boundary."""
    inside = scipy.ndimage.distance_transform_edt(mask)
    outside = scipy.ndimage.distance_transform_edt(~mask)
    return np.where(mask, 0.5 - inside, outside - 0.5).astype(np.float32)


def perturb_annotation(rng, labels, spacing, min_dice=0.85):
    """A second annotation of `labels` (uint8 class map, isotropic voxels of `spacing` mm):
    same classes, boundaries moved by up to about 1.5 voxels."""
    classes = [int(c) for c in np.unique(labels) if c != 0]
    organs = []
    reach = 8  # voxels around an organ that a shift (at most about 5.5 voxels) can reach
    for c in classes:
        mask = labels == c
        where = np.argwhere(mask)
        box = tuple(slice(max(0, lo - reach), min(n, hi + reach + 1))
                    for lo, hi, n in zip(where.min(axis=0), where.max(axis=0), labels.shape))
        distance = _signed_distance(mask[box])
        thickness = 0.5 - float(distance.min())     # largest inscribed radius, in voxels
        bias = rng.uniform(-1, 1) * min(1.0, 0.12 * thickness)
        wobble = rng.uniform(0.5, 1.0) * min(1.5, 0.15 * thickness)
        field = smooth_field(rng, distance.shape, spacing, rng.uniform(2.0, 5.0))
        organs.append((c, box, distance, bias, wobble * field))

    scale = {c: 1.0 for c in classes}
    for _ in range(6):
        second = np.zeros_like(labels)
        best = np.zeros(labels.shape, np.float32)   # a voxel stays background unless a score < 0
        for c, box, distance, bias, wobble in organs:
            score = distance - scale[c] * (bias + wobble)
            wins = score < best[box]
            best[box][wins] = score[wins]
            second[box][wins] = c
        scores = dice_per_class(labels, second, classes)
        failing = [c for c in classes if scores[c] < min_dice and scale[c] > 0]
        if not failing:
            break
        for c in failing:
            scale[c] = scale[c] / 2 if scale[c] > 0.1 else 0.0
    return second
