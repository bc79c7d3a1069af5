"""The body envelope of a label map (canonical axis order: 0 left-right, 1 body axis,
2 dorsal-ventral): which voxels lie inside the animal.

A map with a body label (Digimouse: 'skin and remaining soft tissue') already outlines the
body. Organ-only maps (the Rosenhain annotations) get a plausible trunk built around their
organs: per slice along the body axis, a rounded cross-section (a superellipse) that spans the
labelled voxels plus a margin of soft tissue; along the body its size follows the widest
structures nearby, so that gaps between organs or ribs do not pinch the trunk.
"""
import numpy as np
import scipy.ndimage


def _fill_gaps(values):
    """Linear interpolation over NaNs inside the labelled range; NaN stays outside it."""
    known = np.nonzero(~np.isnan(values))[0]
    if len(known) == 0:
        return values
    inside = np.arange(known[0], known[-1] + 1)
    out = values.copy()
    out[inside] = np.interp(inside, known, values[known])
    return out


def _slice_extents(projection):
    """Per slice (columns of a 2D projection, body axis second): min and max index with a
    labelled voxel, NaN where none."""
    present = projection.any(axis=0)
    index = np.arange(projection.shape[0])[:, None]
    low = np.where(projection, index, np.inf).min(axis=0)
    high = np.where(projection, index, -np.inf).max(axis=0)
    return np.where(present, low, np.nan), np.where(present, high, np.nan)


def body_envelope(labels, spacing, body_labels, rng):
    """Boolean mask of the body. `labels` are source labels on a grid with voxel size
    `spacing` (mm per axis); `body_labels` lists labels that fill the body (empty when the
    map has organs only). The margin and shape of a built trunk are drawn from rng."""
    foreground = labels > 0
    margin_mm = rng.uniform(1.5, 3.0)
    exponent = rng.uniform(2.3, 3.0)
    if len(body_labels) > 0:
        return foreground
    lr_low, lr_high = _slice_extents(foreground.any(axis=2))             # (n1,) over axis 0
    dv_low, dv_high = _slice_extents(foreground.any(axis=0).T)           # (n1,) over axis 2
    # The trunk follows the widest structures nearby (ribs, pelvis), not every dip between them,
    # and never narrows below a neck: a running maximum over 8 mm, a floor, then smoothing.
    reach = max(1, int(round(8.0 / spacing[1])))
    smoothing = 2.0 / spacing[1]
    params = []
    for low, high, axis in ((lr_low, lr_high, 0), (dv_low, dv_high, 2)):
        low, high = _fill_gaps(low), _fill_gaps(high)
        center = (low + high) / 2
        radius = (high - low) / 2 + 0.5
        inside = ~np.isnan(center)
        if inside.any():
            r = scipy.ndimage.maximum_filter1d(radius[inside], reach, mode="nearest")
            r = np.maximum(r, 0.6 * np.median(r)) + margin_mm / spacing[axis]
            radius[inside] = scipy.ndimage.gaussian_filter1d(r, smoothing, mode="nearest")
            center[inside] = scipy.ndimage.gaussian_filter1d(center[inside], smoothing, mode="nearest")
        params.append((np.nan_to_num(center), np.nan_to_num(radius, nan=0.0)))
    (cx, rx), (cz, rz) = params
    labelled = (rx > 0) & (rz > 0)       # no body beyond the labelled range along the body axis
    x = np.arange(labels.shape[0], dtype=np.float32)[:, None, None]
    z = np.arange(labels.shape[2], dtype=np.float32)[None, None, :]
    dx = np.abs((x - cx[None, :, None].astype(np.float32)) / np.maximum(rx, 1e-6)[None, :, None].astype(np.float32))
    dz = np.abs((z - cz[None, :, None].astype(np.float32)) / np.maximum(rz, 1e-6)[None, :, None].astype(np.float32))
    envelope = (dx ** exponent + dz ** exponent <= 1.0) & labelled[None, :, None]
    return envelope | foreground
