"""aimos's anatomical layout codes (see include/aimos.h and the README): three letters, one
per voxel axis, naming the direction its index increases towards: H/T head/tail, L/R the
animal's left/right, D/V dorsal/ventral. Arrays here are indexed (x, y, z) like nibabel's."""
import itertools

import numpy as np

LINES = {"H": (0, True), "T": (0, False), "L": (1, True), "R": (1, False), "D": (2, True), "V": (2, False)}
POSITIVE = "HLD"
NEGATIVE = "TRV"

# The published AIMOS models' training slices (rows, columns, slice index): the published
# preparation puts the head at the top row, keeps the Rosenhain scans' x (towards the
# animal's left in Rosenhain A; the CT280 maps are stored mirrored, see synthesis/orientation.py)
# as columns and stacks slices from belly to back.
PUBLISHED = "TLD"
# The voxel axes (x, y, z) of aimos-synthesize's datasets (aimostools/synthesis/orientation.py).
SYNTHESIS = "LHD"
# The voxel axes of a slice's rows and columns and of the slice index, per aimos slice axis
# (reference.slice_view: axis 2 rows=y cols=x, axis 1 rows=z cols=x, axis 0 rows=z cols=y).
SLICE_AXES = {2: (1, 0, 2), 1: (2, 0, 1), 0: (2, 1, 0)}

ALL_CODES = ["".join((POSITIVE if s == "+" else NEGATIVE)[line] for line, s in zip(lines, signs))
             for lines in itertools.permutations(range(3)) for signs in itertools.product("+-", repeat=3)]


def is_valid(code):
    code = code.upper()
    return len(code) == 3 and all(c in LINES for c in code) and len({LINES[c][0] for c in code}) == 3


def slice_code(volume_code, slice_axis):
    """The model code (rows, columns, slice index) of slices cut along `slice_axis` from a
    volume whose voxel axes (x, y, z) are laid out as volume_code: "LHD", 2 -> "HLD"."""
    return "".join(volume_code.upper()[axis] for axis in SLICE_AXES[slice_axis])


def to_layout(data, source_code, target_code):
    """`data` (laid out as source_code) re-laid out as target_code: permuted and flipped, no
    interpolation. Returns the array and, per target axis, the source axis it came from."""
    source_axis = {LINES[c][0]: (a, LINES[c][1]) for a, c in enumerate(source_code)}
    order, flips = [], []
    for c in target_code:
        line, positive = LINES[c]
        axis, source_positive = source_axis[line]
        order.append(axis)
        flips.append(positive != source_positive)
    out = np.transpose(data, order)
    for axis, flip in enumerate(flips):
        if flip:
            out = np.flip(out, axis)
    return np.ascontiguousarray(out), order


def from_layout(data, code, target_code):
    """The inverse of to_layout: `data` laid out as `code`, back in target_code's layout."""
    return to_layout(data, code, target_code)[0]
