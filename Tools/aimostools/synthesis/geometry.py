"""Random geometry of a synthetic scan: where each output voxel samples the label map.

The output grid (isotropic voxels of the requested size, field of view around the body, then
randomly cropped) maps backwards into the working label map through one smooth transform:

    source = center + A (u - bend(u) - elastic(u))

u is the output position in mm relative to the output centre, A a small rotation times a
scaling, bend(u) a posture change (a parabola along the body axis, axis 1, displacing the body
left-right and dorsal-ventral), elastic(u) a smooth random displacement. The transform is
evaluated on a 1 mm lattice and interpolated linearly to the voxels (exact for the rotation and
scaling, far below a voxel off for the gentle bend), so labels (nearest neighbour) and
intensities (linear) are resampled with the same coordinates, slab by slab to bound memory.
"""
from dataclasses import dataclass

import numpy as np
import scipy.ndimage

from aimostools.synthesis.fields import interpolate_axis

LATTICE_MM = 1.0
SLAB_VOXELS = 2_000_000


@dataclass
class Transform:
    """Parameters of the backward map from output to source positions (all in mm)."""
    matrix: np.ndarray          # 3x3, A above
    bend_mm: np.ndarray         # (left-right, dorsal-ventral) displacement one half-length from the bend centre
    bend_center: float          # where along the body axis the bend is zero (fraction of half-length)
    elastic_mm: float           # standard deviation of the elastic displacement
    elastic_scale_mm: float     # size of its features


def _rotation(angles_deg):
    ax, ay, az = np.deg2rad(angles_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def random_transform(rng, enabled=True, size_range=(0.9, 1.1), elastic_range=(0.2, 1.0)):
    """Draws a transform (the animal scaled by a factor in size_range, a little more or less
    per axis; an elastic displacement of elastic_range mm); the identity when not enabled."""
    if not enabled:
        return Transform(np.eye(3), np.zeros(2), 0.0, 0.0, 6.0)
    # Roll about the body axis (axis 1) varies most between scans; pitch and yaw less.
    angles = rng.uniform(-1, 1, 3) * np.array([5.0, 12.0, 5.0])
    scale = rng.uniform(*size_range) * rng.uniform(0.95, 1.05, 3)
    matrix = _rotation(angles) @ np.diag(1.0 / scale)
    bend = rng.uniform(-1, 1, 2) * np.array([2.5, 3.5])
    return Transform(matrix, bend, rng.uniform(-0.3, 0.3), rng.uniform(*elastic_range), rng.uniform(4.0, 8.0))


@dataclass
class OutputGrid:
    """Output voxels: shape, voxel size (mm) and the mm position (relative to the output
    centre) of voxel 0 along each axis; half_length is half the body-axis extent of the
    uncropped grid (the bend is a parabola over it)."""
    shape: tuple
    spacing: float
    origin_mm: np.ndarray
    half_length_mm: float

    def positions_mm(self, axis):
        return self.origin_mm[axis] + np.arange(self.shape[axis]) * self.spacing


def plan_output_grid(body_box_mm, transform, spacing):
    """A grid certain to hold the transformed body: the body box (2x3 array, low and high
    corner in mm relative to the source centre) mapped through the inverse affine part, plus
    room for the bend and elastic displacement. choose_window later cuts it to the body."""
    corners = np.array([[body_box_mm[i][0], body_box_mm[j][1], body_box_mm[k][2]]
                        for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    mapped = corners @ np.linalg.inv(transform.matrix).T
    bend = (1 + abs(transform.bend_center)) ** 2 * np.abs(transform.bend_mm).max()  # parabola at the grid ends
    margin = 2.0 + bend + 4 * transform.elastic_mm
    low, high = mapped.min(axis=0) - margin, mapped.max(axis=0) + margin
    shape = np.ceil((high - low) / spacing).astype(int) + 1
    origin = (low + high) / 2 - (shape - 1) / 2 * spacing
    return OutputGrid(tuple(int(n) for n in shape), float(spacing), origin, float((high[1] - low[1]) / 2))


@dataclass
class CoordinateLattice:
    """Source voxel coordinates (3, L0, L1, L2) on a lattice over the output grid, and per
    output axis the lattice index of each output voxel."""
    coords: np.ndarray
    voxel_positions: list

    def bounds(self):
        """Lowest and highest source coordinate reached, per axis."""
        flat = self.coords.reshape(3, -1)
        return flat.min(axis=1), flat.max(axis=1)

    def window(self, start, stop):
        """The lattice for the output voxels start..stop (per axis) only, cut to the lattice
        points around them."""
        cut, positions = [slice(None)], []
        for p, a, b in zip(self.voxel_positions, start, stop):
            p = p[a:b]
            low = int(np.floor(p[0]))
            high = min(int(np.ceil(p[-1])) + 1, self.coords.shape[1 + len(positions)])
            cut.append(slice(low, max(high, low + 1)))
            positions.append(p - low)
        return CoordinateLattice(self.coords[tuple(cut)], positions)

    def shifted(self, offset):
        """The same lattice for a source array cropped at `offset`."""
        return CoordinateLattice(self.coords - np.asarray(offset, np.float64)[:, None, None, None],
                                 self.voxel_positions)


def coordinate_lattice(rng, grid, transform, source_center_mm, source_spacing):
    """Evaluates the backward transform of the output grid on a 1 mm lattice."""
    positions, lattice_axes = [], []
    for axis in range(3):
        mm = grid.positions_mm(axis)
        count = max(2, int(np.ceil((mm[-1] - mm[0]) / LATTICE_MM)) + 1)
        lattice_axes.append(mm[0] + np.arange(count) * LATTICE_MM)
        positions.append((mm - mm[0]) / LATTICE_MM)
    u = np.stack(np.meshgrid(*lattice_axes, indexing="ij"))          # (3, L0, L1, L2) mm
    t = (u[1] / max(grid.half_length_mm, 1e-6)) - transform.bend_center
    u[0] -= transform.bend_mm[0] * t ** 2
    u[2] -= transform.bend_mm[1] * t ** 2
    if transform.elastic_mm > 0:
        sigma = transform.elastic_scale_mm / (2 * LATTICE_MM)
        for axis in range(3):
            noise = scipy.ndimage.gaussian_filter(rng.standard_normal(u.shape[1:]), sigma, mode="reflect")
            u[axis] -= noise / max(float(noise.std()), 1e-9) * transform.elastic_mm
    source_mm = np.einsum("ij,j...->i...", transform.matrix, u) + np.asarray(source_center_mm)[:, None, None, None]
    coords = source_mm / np.asarray(source_spacing, np.float64)[:, None, None, None]
    return CoordinateLattice(coords, positions)


def body_window(lattice, body):
    """Per axis the output voxel range [start, stop) that holds the body: the lattice points
    that land in `body` (a mask on the source grid), widened by one lattice step."""
    inside = scipy.ndimage.map_coordinates(body.astype(np.uint8), list(lattice.coords), order=0,
                                           mode="constant", cval=0) > 0
    start, stop = [], []
    for axis, positions in enumerate(lattice.voxel_positions):
        hit = np.nonzero(inside.any(axis=tuple(a for a in range(3) if a != axis)))[0]
        if len(hit) == 0:
            start.append(0)
            stop.append(len(positions))
            continue
        chosen = np.nonzero((positions >= hit[0] - 1) & (positions <= hit[-1] + 1))[0]
        start.append(int(chosen[0]))
        stop.append(int(chosen[-1]) + 1)
    return np.array(start), np.array(stop)


def choose_window(rng, body_start, body_stop, shape, spacing, crop=True, max_dim=None, body_axis_cut=0.2):
    """The output window: the body with an air margin of 1 to 3 mm, randomly cropped (more
    often along the body axis, like scans that miss the head or tail: each end by up to
    body_axis_cut of the length) and cut to at most max_dim voxels per axis."""
    margin = int(round(rng.uniform(1.0, 3.0) / spacing))
    start = np.maximum(body_start - margin, 0)
    stop = np.minimum(body_stop + margin, shape)
    length = stop - start
    if crop:
        for axis in range(3):
            probability, most = (0.6, body_axis_cut) if axis == 1 else (0.25, 0.1)
            if rng.random() < probability:
                start[axis] += int(rng.uniform(0, most) * length[axis])
            if rng.random() < probability:
                stop[axis] -= int(rng.uniform(0, most) * length[axis])
    if max_dim is not None:
        for axis in range(3):
            excess = stop[axis] - start[axis] - max_dim
            if excess > 0:
                start[axis] += int(rng.integers(0, excess + 1))
                stop[axis] = start[axis] + max_dim
    return start, stop


def sample(volumes, lattice, shape):
    """Resamples each (array, order) in `volumes` at the output voxels: order 0 = nearest
    neighbour (labels), 1 = linear (intensities); beyond the source the edge is repeated."""
    outputs = [np.empty(shape, array.dtype) for array, _ in volumes]
    # Interpolate the lattice to full resolution along axes 0 and 2 once, then per slab of axis 1.
    partial = [interpolate_axis(interpolate_axis(lattice.coords[k], 0, lattice.voxel_positions[0]),
                                2, lattice.voxel_positions[2]) for k in range(3)]
    slab = max(1, SLAB_VOXELS // max(1, shape[0] * shape[2]))
    for begin in range(0, shape[1], slab):
        end = min(shape[1], begin + slab)
        coords = [interpolate_axis(p, 1, lattice.voxel_positions[1][begin:end]) for p in partial]
        for (array, order), out in zip(volumes, outputs):
            out[:, begin:end, :] = scipy.ndimage.map_coordinates(
                array, coords, order=order, mode="nearest", output=array.dtype)
    return outputs
