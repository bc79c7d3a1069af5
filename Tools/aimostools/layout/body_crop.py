"""The animal's box in a scan, found as the aimos engine finds it before slicing
(Sources/AimosCore/BodyFinder.swift and CoarseGrid.swift, ported step for step), so that a
model trained on body crops (train.py --crop body) sees the slices the engine cuts at inference.

On a coarse grid of block means: Otsu foreground (padding voxels left out), an opening that
removes beds, tubes and tails, 6-connected components, parts of one body merged, small ones
dropped; each animal's box is its blocks' box plus a margin, in input voxels. The blocks are
centred on the volume (each axis's overhang is even, half of it before the first voxel), so a
scan and its mirror image meet the same blocks, mirrored, and give mirrored boxes.

Arrays here are indexed (x, y, z) like nibabel's, and axis lists are (x, y, z) like the
engine's; the engine's flat order (x fastest) is numpy's Fortran order, which decides the
components' numbering and so which of two equal candidates wins.
"""
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import ndimage

PLAUSIBLE_LENGTH_MM = (15.0, 150.0)
OPENING_HALF_WIDTH_MM = 2.5
MARGIN_MM = 3.0
MINIMUM_ANIMAL_MM3 = 300.0
MAX_COARSE_DIMENSION = 160
MIN_COARSE_DIMENSION = 32
MERGE_GAP_MM = 15.0
MAX_OPENING_RADIUS_BLOCKS = 32   # the opening reaches 2.5 mm also along axes of one-voxel blocks
BINS = 256


@dataclass
class Animal:
    lower: tuple          # the crop in input voxels, (x, y, z), inclusive
    upper: tuple          # exclusive
    body_mm3: float       # the opened body's volume


@dataclass
class Outcome:
    animals: list                      # ordered along the axis they are spread on, as the engine
    body_length_mm: float              # the largest animal's longest box side (the first of equal ones)
    suggested_voxel_size_factor: Optional[float]  # None when that length is plausible for a mouse


def round_half_up(x):
    """Swift's `rounded()` for x >= 0 (half away from zero; Python's round() rounds to even)."""
    whole = math.floor(x)
    return int(whole + 1 if x - whole >= 0.5 else whole)


def even_overhang(wanted, dimension):
    """The block size nearest `wanted` (trying wanted, wanted + 1, wanted - 1, ...; none below 1)
    whose blocks overhang `dimension` voxels by an even number."""
    for step in range(2 * dimension):
        f = wanted + (step // 2 if step % 2 == 0 else -((step + 1) // 2))
        if f >= 1 and (-(-dimension // f) * f - dimension) % 2 == 0:
            return f
    return 1


def coarse_factor(dims, spacing):
    """Block size per axis: about 1 mm, but at least MIN_COARSE_DIMENSION blocks (a wrong voxel
    size must not leave one block) and at most MAX_COARSE_DIMENSION; then the nearest size whose
    blocks overhang the volume by an even number of voxels, so they can overhang both ends alike."""
    return [even_overhang(max(1, min(math.floor(1.0 / s), -(-n // MIN_COARSE_DIMENSION)), -(-n // MAX_COARSE_DIMENSION)),
                          n)
            for n, s in zip(dims, spacing)]


def coarse_size(dims, factor):
    """Blocks per axis."""
    return [-(-n // f) for n, f in zip(dims, factor)]


def coarse_offset(dims, factor):
    """Per axis, the voxels by which the first block starts before the volume (half the
    overhang): voxel x lies in block (x + offset) // factor."""
    return [(s * f - n) // 2 for n, f, s in zip(dims, factor, coarse_size(dims, factor))]


def padding_value(volume):
    """The volume's lowest value where 1 % or more (but not all) of the voxels hold exactly it,
    the padding outside a CT reconstruction circle, say; else None."""
    lowest = volume.min()
    at_lowest = np.count_nonzero(volume == lowest)
    return lowest if at_lowest * 100 >= volume.size and at_lowest < volume.size else None


def block_means(volume, factor):
    """(float32 block means (sx, sy, sz), which blocks hold padding only), the blocks centred
    (coarse_offset). Padding voxels never count in a mean. Summed in float64 in the engine's
    order (z, y, x nested, x fastest; np.bincount adds in input order), so the means match it
    bit for bit."""
    volume = volume.astype(np.float32, copy=False)
    padding = padding_value(volume)
    (nx, ny, nz), (fx, fy, fz) = volume.shape, factor
    sx, sy, sz = coarse_size(volume.shape, factor)
    ox, oy, oz = coarse_offset(volume.shape, factor)
    in_plane = ((np.arange(nx) + ox) // fx)[:, None] + sx * ((np.arange(ny) + oy) // fy)[None, :]
    means = np.empty((sx, sy, sz), np.float32)
    padded = np.empty((sx, sy, sz), bool)
    for bz in range(sz):
        row = volume[:, :, max(0, bz * fz - oz):min(nz, (bz + 1) * fz - oz)].ravel(order="F")
        counted = row != padding if padding is not None else np.ones(row.shape, bool)
        index = np.broadcast_to(in_plane[:, :, None], (nx, ny, len(row) // (nx * ny))).ravel(order="F")
        sums = np.bincount(index, weights=np.where(counted, row, 0).astype(np.float64), minlength=sx * sy)
        counts = np.bincount(index[counted], minlength=sx * sy)
        means[:, :, bz] = (sums / np.maximum(1, counts)).astype(np.float32).reshape((sx, sy), order="F")
        padded[:, :, bz] = (counts == 0).reshape((sx, sy), order="F")
    return means, padded


def foreground(values, padded):
    """Blocks above Otsu's threshold on log(1 + v - floor) (floor: the 0.5th percentile), so that
    bright organs do not pull the threshold above dim tissue; padded blocks are left out of
    the histogram and never foreground."""
    nothing = np.zeros(values.shape, bool)
    kept = np.sort(values[~padded])
    if kept.size <= 1:
        return nothing
    floor = float(kept[kept.size // 200])

    def transform(v):
        return np.log(1.0 + np.maximum(0.0, v.astype(np.float64) - floor))

    top = float(transform(kept[-1:])[0])
    if not top > 0:
        return nothing
    bins = np.minimum(BINS - 1, (transform(kept) / top * (BINS - 1)).astype(np.int64))
    histogram = np.bincount(bins, minlength=BINS).astype(np.float64)
    weighted = np.arange(BINS) * histogram
    below, weighted_below = np.cumsum(histogram)[:-1], np.cumsum(weighted)[:-1]
    above = histogram.sum() - below
    valid = (below > 0) & (above > 0)
    best = 0
    if valid.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            difference = weighted_below / below - (weighted.sum() - weighted_below) / above
            variance = below * above * difference * difference
        best = int(np.flatnonzero(valid)[np.argmax(variance[valid])])  # the first best bin
    threshold = (best + 1) / (BINS - 1) * top
    return ~padded & (transform(values) >= threshold)


def open_mask(mask, radius):
    """Erosion then dilation with a box of half-widths `radius`, separable; outside the grid
    counts as background, so a body cut by the field of view still erodes from the cut."""
    m = mask.astype(np.uint8)
    for axis in range(3):
        m = ndimage.minimum_filter1d(m, 2 * radius[axis] + 1, axis=axis, mode="constant", cval=0)
    for axis in range(3):
        m = ndimage.maximum_filter1d(m, 2 * radius[axis] + 1, axis=axis, mode="constant", cval=0)
    return m.astype(bool)


def components(mask):
    """6-connected components: labels (0 none, k for component k-1) numbered as the engine's
    flood fill numbers them, by their first block in x-fastest order, and block counts."""
    labels, count = ndimage.label(mask)
    values, first = np.unique(labels.ravel(order="F"), return_index=True)
    first, values = first[values > 0], values[values > 0]
    renumber = np.zeros(count + 1, np.int64)
    renumber[values[np.argsort(first)]] = np.arange(1, count + 1)
    labels = renumber[labels]
    return labels, np.bincount(labels.ravel(), minlength=count + 1)[1:].tolist()


def bounding_boxes(labels, count):
    """Per label 1..count its blocks' box [lower, upper); (size, 0) for a label without blocks."""
    boxes = []
    for found in ndimage.find_objects(labels, max_label=count):
        if found is None:
            boxes.append((list(labels.shape), [0, 0, 0]))
        else:
            boxes.append(([s.start for s in found], [s.stop for s in found]))
    return boxes


def merge_along_bodies(labels, sizes, block_mm):
    """Relabels components that are parts of one body (a head parted from the trunk at the
    neck) as one: they overlap across the larger one's long axis and lie within MERGE_GAP_MM
    along it. A literal port of the engine's loop, so that the same parts merge."""
    n = len(sizes)
    if n <= 1:
        return labels
    boxes = bounding_boxes(labels, n)
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    def side(box, axis):
        return box[1][axis] - box[0][axis]

    merged = True
    while merged:
        merged = False
        for a in range(n):
            if not (root(a) == a and sizes[a] > 0):
                continue
            for b in range(n):
                if not (b != a and root(b) == b and sizes[b] > 0):
                    continue
                big = a if sizes[a] >= sizes[b] else b
                long_axis = max(range(3), key=lambda k: side(boxes[big], k) * block_mm[k])
                gaps = [max(0, max(boxes[a][0][k], boxes[b][0][k]) - min(boxes[a][1][k], boxes[b][1][k])) * block_mm[k]
                        for k in range(3)]
                across = all(gaps[k] == 0 for k in range(3) if k != long_axis)
                if not (across and gaps[long_axis] <= MERGE_GAP_MM):
                    continue
                keep, gone = big, (b if big == a else a)
                parent[gone] = keep
                sizes[keep] += sizes[gone]
                sizes[gone] = 0
                boxes[keep] = ([min(boxes[keep][0][k], boxes[gone][0][k]) for k in range(3)],
                               [max(boxes[keep][1][k], boxes[gone][1][k]) for k in range(3)])
                merged = True
    roots = np.array([0] + [root(i) + 1 for i in range(n)])
    return roots[labels]


def unit_factor(length):
    """The power of ten (1e-6 ... 1e6) that brings `length` closest to a typical mouse (50 mm);
    None when that is 1."""
    if not (length > 0 and math.isfinite(length)):
        return None
    factor = min((10.0 ** k for k in range(-6, 7)), key=lambda f: abs(math.log10(length * f / 50)))
    return None if factor == 1 else factor


def locate(dims, factor, mask, spacing, half_width_mm=OPENING_HALF_WIDTH_MM):
    """The animals of a foreground mask of blocks with the voxel size `spacing`."""
    block_mm = [f * s for f, s in zip(factor, spacing)]
    radius = [max(1, min(MAX_OPENING_RADIUS_BLOCKS, round_half_up(half_width_mm / mm))) for mm in block_mm]
    opened = open_mask(mask, radius)
    if not opened.any():
        opened = mask  # too small to open: keep what there is
    labels, sizes = components(opened)
    labels = merge_along_bodies(labels, sizes, block_mm)
    block_mm3 = block_mm[0] * block_mm[1] * block_mm[2]
    largest = max(sizes, default=0)
    chosen = [i for i in range(len(sizes)) if sizes[i] * 4 >= largest and sizes[i] * block_mm3 >= MINIMUM_ANIMAL_MM3]
    if not chosen and largest > 0:
        chosen = [sizes.index(largest)]
    if not chosen:
        whole = Animal((0, 0, 0), tuple(dims), 0.0)
        return Outcome([whole], max(n * s for n, s in zip(dims, spacing)), None)
    all_boxes = bounding_boxes(labels, len(sizes))
    boxes = [all_boxes[i] for i in chosen]
    # Order along the axis the animals are spread on (their centres differ most).
    centres = [[(lower[k] + upper[k]) / 2 for k in range(3)] for lower, upper in boxes]

    def spread(k):
        along = [c[k] for c in centres]
        return (max(along) - min(along)) * block_mm[k]

    spread_axis = max(range(3), key=spread)
    order = sorted(range(len(boxes)), key=lambda i: centres[i][spread_axis])
    boxes, chosen = [boxes[i] for i in order], [chosen[i] for i in order]
    biggest = max(range(len(chosen)), key=lambda i: sizes[chosen[i]])  # the first of equal ones
    length = max((boxes[biggest][1][k] - boxes[biggest][0][k]) * block_mm[k] for k in range(3))
    margin = [math.ceil(MARGIN_MM / s) for s in spacing]
    offset = coarse_offset(dims, factor)
    animals = [Animal(tuple(max(0, lower[k] * factor[k] - offset[k] - margin[k]) for k in range(3)),
                      tuple(min(dims[k], upper[k] * factor[k] - offset[k] + margin[k]) for k in range(3)),
                      sizes[component] * block_mm3)
               for (lower, upper), component in zip(boxes, chosen)]
    plausible = PLAUSIBLE_LENGTH_MM[0] <= length <= PLAUSIBLE_LENGTH_MM[1]
    return Outcome(animals, length, None if plausible else unit_factor(length))


def find_animals(volume, spacing):
    """The animals of `volume` (x, y, z) with voxel size `spacing` (mm, per x, y, z). With an
    implausible unit the search is redone in the inferred one (the opening had the wrong
    size); length and factor are then reported in the stated unit."""
    spacing = [float(s) for s in spacing]
    factor = coarse_factor(volume.shape, spacing)
    mask = foreground(*block_means(volume, factor))
    outcome = locate(volume.shape, factor, mask, spacing)
    # A small animal broken by the 5 mm opening into pieces too short for a mouse: a gentler
    # opening, if that keeps it whole (as the engine).
    if outcome.suggested_voxel_size_factor is not None and outcome.suggested_voxel_size_factor > 1:
        gentle = locate(volume.shape, factor, mask, spacing, OPENING_HALF_WIDTH_MM / 2)
        if gentle.suggested_voxel_size_factor is None:
            return gentle
    if outcome.suggested_voxel_size_factor is not None:
        unit = outcome.suggested_voxel_size_factor
        corrected = locate(volume.shape, factor, mask, [s * unit for s in spacing])
        outcome = Outcome(corrected.animals, corrected.body_length_mm / unit, unit)
    return outcome


def box_voxels(animal):
    return math.prod(u - l for l, u in zip(animal.lower, animal.upper))


def animal_boxes(volume, spacing):
    """[(lower, upper), ...] in voxels (x, y, z): every animal's box, in the engine's order. A
    training volume with several animals is cut into one crop per animal, as the engine cuts it."""
    return [(animal.lower, animal.upper) for animal in find_animals(volume, spacing).animals]


def largest_box(volume, spacing):
    """(lower, upper) in voxels (x, y, z): the box of the animal whose box is largest (the first
    of equal ones), the crop a training volume is cut to. The engine cuts every animal in its
    own box; a synthesized training volume holds one."""
    animals = find_animals(volume, spacing).animals
    largest = max(animals, key=box_voxels)
    return largest.lower, largest.upper


def crop(volume, box):
    """`volume` (x, y, z) cut to box = (lower, upper)."""
    lower, upper = box
    return volume[lower[0]:upper[0], lower[1]:upper[1], lower[2]:upper[2]]
