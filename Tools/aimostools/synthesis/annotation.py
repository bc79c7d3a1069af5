"""A synthetic second annotation of a label map, for the dual-annotation training mode.

A second expert draws the same organs with a different interpretation of ambiguous boundaries:
each organ is grown or shrunk a little (a random erosion or dilation) and its boundary shifted
by a smooth random amount that varies along it. Shifts are bounded by the organ's thickness,
and an organ whose Dice with the original would fall below `min_dice` gets smaller shifts, so
the pair stays as plausible as two real annotations of one scan.

How far two people differ depends on the organ: boundaries that CT barely shows (spleen,
bladder, the gut) move more than the lungs' or the bones' sharp edges. BOUNDARY_FREEDOM scales
the shifts per organ and AGREEMENT_FLOOR is the lowest Dice allowed. Calibrated on the one real
pair offline (rosenhain_ct280 v1 against v2, measured with this module's dice_per_class: heart
0.89, lung 0.88, liver 0.89, kidney 0.87, bone 0.96; the bladder is in v1 only); spleen,
bladder, stomach and intestine, absent from that pair, get more freedom as the paper's
inter-annotator figures show for them.
"""
import numpy as np
import scipy.ndimage

from aimostools.synthesis.organs import AIMOS_CLASSES
from aimostools.synthesis.fields import smooth_field

BOUNDARY_FREEDOM = {"Brain": 0.8, "Heart": 1.0, "Lung": 0.9, "Liver": 1.0, "Kidney": 1.0, "Spleen": 1.6,
                    "Bladder": 1.6, "Stomach": 1.3, "Intestine": 1.4, "Bone": 1.0}
AGREEMENT_FLOOR = {"Spleen": 0.72, "Bladder": 0.72, "Stomach": 0.78, "Intestine": 0.78, "Bone": 0.9}


def _organ_name(class_index):
    return AIMOS_CLASSES[class_index] if class_index < len(AIMOS_CLASSES) else ""


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
    """A second annotation of `labels` (uint8 class map, isotropic voxels of `spacing` mm,
    AIMOS class indices): same classes, boundaries moved by up to about 1.5 voxels times the
    organ's BOUNDARY_FREEDOM; no organ's Dice below its AGREEMENT_FLOOR (default min_dice)."""
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
        freedom = BOUNDARY_FREEDOM.get(_organ_name(c), 1.0)
        bias = rng.uniform(-1, 1) * min(1.0, 0.12 * thickness) * freedom
        wobble = rng.uniform(0.5, 1.0) * min(1.5, 0.15 * thickness) * freedom
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
        failing = [c for c in classes
                   if scores[c] < AGREEMENT_FLOOR.get(_organ_name(c), min_dice) and scale[c] > 0]
        if not failing:
            break
        for c in failing:
            scale[c] = scale[c] / 2 if scale[c] > 0.1 else 0.0
    return second
