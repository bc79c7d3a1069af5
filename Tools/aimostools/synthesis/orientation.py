"""Puts every label map into one anatomical axis order before synthesis, so that all
synthetic scans share the layout of the Digimouse atlas:

    axis 0 = left-right, axis 1 = body axis (head at high index), axis 2 = dorsal-ventral
    (dorsal at high index); AIMOS slices along axis 2 then give coronal whole-body views.

The shared maps differ: Digimouse is already in this order, the Rosenhain maps have the body
axis along z and dorsal-ventral along y. The axes are found from the map itself: the body axis
is the longest extent of the labelled voxels, dorsal-ventral the shorter of the other two
(a mouse is wider than high). Directions come from anatomy where the organs are present
(heart/lung/brain lie cranial of kidneys/bladder; kidneys lie dorsal of heart/liver/bladder).
Left-right follows so that the change is a proper rotation, unless the organs say the map is
stored as a mirror image: spleen and stomach lie on the animal's left, and the heart lies left of
the lungs' centre (the right lung has four lobes, the left one). The Rosenhain CT280 maps are
such a map: with a proper rotation alone their heart would lie 2.9 mm right of the lungs' centre,
where Digimouse's and Rosenhain A's lie 1.9 and 1.5 mm left of it; the CT280 maps are therefore
mirrored back, so that every synthetic animal has its liver on the right.
"""
from dataclasses import dataclass

import numpy as np

from aimostools.synthesis.organs import AIMOS_CLASSES

_CRANIAL = ("Brain", "Heart", "Lung")
_CAUDAL = ("Bladder", "Kidney")
_VENTRAL = ("Heart", "Liver", "Bladder")
_DORSAL = ("Kidney",)
_LEFT = ("Spleen", "Stomach")
# Below this (mm, summed over the cues) the organs do not say which side is left.
_LEFT_CUE_MM = 0.5


@dataclass(frozen=True)
class Orientation:
    """Axis permutation (new axis k = old axis permutation[k]) then flips of the new axes."""
    permutation: tuple
    flips: tuple

    def apply(self, volume):
        """The volume in canonical axis order (a view where possible)."""
        out = np.transpose(volume, self.permutation)
        for axis, flip in enumerate(self.flips):
            if flip:
                out = np.flip(out, axis)
        return out

    def spacing(self, spacing):
        """Voxel size per canonical axis."""
        return tuple(float(spacing[a]) for a in self.permutation)


def _centroid(classes, organs, stride):
    mask = np.isin(classes, [AIMOS_CLASSES.index(o) for o in organs])
    if not mask.any():
        return None
    return np.array([c.mean() for c in np.nonzero(mask)]) * stride


def find_orientation(labels, class_lookup, spacing):
    """Orientation that brings `labels` (source label map) into the canonical axis order;
    `class_lookup` maps source labels to AIMOS class indices."""
    stride = max(1, min(labels.shape) // 64)  # a coarse look is enough for extents and centroids
    coarse = np.asarray(labels[::stride, ::stride, ::stride])
    extents = []
    for axis in range(3):
        present = np.nonzero(coarse.any(axis=tuple(a for a in range(3) if a != axis)))[0]
        extents.append((present[-1] - present[0] + 1) * stride * spacing[axis] if len(present) else 0.0)
    long_axis = int(np.argmax(extents))
    others = [a for a in range(3) if a != long_axis]
    dv_axis = min(others, key=lambda a: extents[a])
    lr_axis = others[0] if others[1] == dv_axis else others[1]
    permutation = (lr_axis, long_axis, dv_axis)

    classes = class_lookup[coarse]
    flips = [False, False, False]
    cranial, caudal = _centroid(classes, _CRANIAL, stride), _centroid(classes, _CAUDAL, stride)
    if cranial is not None and caudal is not None:
        flips[1] = bool(cranial[long_axis] < caudal[long_axis])
    dorsal, ventral = _centroid(classes, _DORSAL, stride), _centroid(classes, _VENTRAL, stride)
    if dorsal is not None and ventral is not None:
        flips[2] = bool(dorsal[dv_axis] < ventral[dv_axis])
    # Keep a proper rotation: an odd permutation or an odd number of flips would mirror.
    parity = np.linalg.det(np.eye(3)[list(permutation)]) < 0
    flips[0] = bool(parity ^ flips[1] ^ flips[2])
    # Towards the animal's left, in mm along the source's left-right axis; canonical axis 0 runs
    # towards the left, so a cue pointing to its low end means the map is a mirror image.
    leftward = _leftward_mm(classes, stride, lr_axis, spacing[lr_axis])
    if abs(leftward) >= _LEFT_CUE_MM and (leftward > 0) == flips[0]:
        flips[0] = not flips[0]
    return Orientation(permutation, tuple(flips))


def _leftward_mm(classes, stride, axis, spacing):
    """How far the organs that lie left (spleen, stomach: from the centre of the labelled
    voxels; the heart: from the lungs' centre) sit towards higher indices along `axis`, summed."""
    def centre(organs):
        c = _centroid(classes, organs, stride)
        return None if c is None else c[axis]
    everything = np.nonzero(classes > 0)[axis].mean() * stride
    left_organs = [centre((organ,)) for organ in _LEFT]
    offsets = [c - everything for c in left_organs if c is not None]
    heart, lungs = centre(("Heart",)), centre(("Lung",))
    if heart is not None and lungs is not None:
        offsets.append(heart - lungs)
    return sum(offsets) * spacing
