"""Smooth random fields and separable linear interpolation for the scan synthesiser.

A smooth field is white noise on a coarse grid, Gaussian-smoothed there and linearly
interpolated up to the full grid: cheap even for volumes of tens of millions of voxels, smooth
at voxel scale, and bit-reproducible (no threaded BLAS in the path).
"""
import numpy as np
import scipy.ndimage


def interpolate_axis(values, axis, positions):
    """Linear interpolation of `values` along one axis at fractional indices `positions`
    (clamped to the ends)."""
    count = values.shape[axis]
    positions = np.clip(np.asarray(positions, np.float64), 0, count - 1)
    if count == 1:
        return np.repeat(values, len(positions), axis=axis)
    lower = np.minimum(positions.astype(np.int64), count - 2)
    weight_shape = [1] * values.ndim
    weight_shape[axis] = len(positions)
    weight = (positions - lower).astype(values.dtype).reshape(weight_shape)
    a = np.take(values, lower, axis=axis)
    b = np.take(values, lower + 1, axis=axis)
    b -= a          # in place: a + (b - a) * weight without more full-size temporaries
    b *= weight
    b += a
    return b


def interpolate_grid(values, positions_per_axis):
    """Trilinear (n-linear) interpolation of `values` on the outer product of 1D fractional
    index arrays, one per axis: the result has shape (len(p0), len(p1), ...)."""
    out = values
    # Shrink the axes that get fewer points first, to keep the intermediate arrays small.
    order = sorted(range(values.ndim), key=lambda a: len(positions_per_axis[a]) / values.shape[a])
    for axis in order:
        out = interpolate_axis(out, axis, positions_per_axis[axis])
    return out


def smooth_field(rng, shape, voxel_mm, correlation_mm):
    """Zero-mean, unit-std float32 random field of `shape` whose features are about
    `correlation_mm` wide, on voxels of size `voxel_mm` (scalar or per axis)."""
    voxel_mm = np.broadcast_to(np.asarray(voxel_mm, np.float64), (len(shape),))
    coarse_mm = correlation_mm / 2.0
    extent = np.asarray(shape) * voxel_mm
    coarse_shape = tuple(int(np.ceil(e / coarse_mm)) + 2 for e in extent)
    noise = rng.standard_normal(coarse_shape).astype(np.float32)
    noise = scipy.ndimage.gaussian_filter(noise, sigma=1.0, mode="wrap")
    noise -= noise.mean()
    noise /= max(float(noise.std()), 1e-6)
    positions = [np.arange(n) * voxel_mm[a] / coarse_mm + 0.5 for a, n in enumerate(shape)]
    return interpolate_grid(noise, positions).astype(np.float32)
