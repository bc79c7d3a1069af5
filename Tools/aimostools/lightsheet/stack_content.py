"""What the planes of a synthetic light-sheet stack hold, computed one plane at a time.

A small source volume of relative brightness (0 = clearing medium, 1 = the brightest tissue),
from a NIfTI scan or a synthetic ellipsoid mouse, is upsampled trilinearly onto the stack's
grid plane by plane; the microscope's marks are added at full resolution: illumination falling
off across the sheet from both sides (along x), stripes along the illumination axis, planes
dimmer with depth along detection (z), and camera noise (offset, read noise, shot noise).

Axes: stack voxel (x, y, z) is plane z, row y, column x. Source voxel (i, j, k) maps onto
(x, y, z), the source's whole field of view stretched onto the stack's (voxel centres aligned).

Speed: each plane is a few vectorised passes over its pixels (the interpolation is separable
and its weights are computed once), so a 2000 x 6000 plane takes about 0.1 s on one core.
"""
import threading

import nibabel as nib
import numpy as np
import scipy.ndimage

CAMERA_OFFSET = 100.0     # sCMOS cameras add a fixed offset so that noise is not clipped at 0
MEDIUM_COUNTS = 30.0      # autofluorescence of the clearing medium outside the animal
TISSUE_COUNTS = 2400.0    # the brightest tissue (relative brightness 1)
READ_NOISE = 3.0          # counts, standard deviation
SHOT_GAIN = 1.0           # variance of the shot noise per count of signal (Poisson-like)
NOISE_BANK_VALUES = 1 << 23  # Gaussian noise drawn once (32 MiB) and reused, shifted, for each plane
NOISE_BANK_SHIFTS = 256
MAX_SOURCE_SIDE = 160     # the synthetic mouse's source grid: smooth at this size, cheap to build

# Relative light-sheet brightness of CT values (HU): air dark, fat dimmer than soft tissue,
# bone dimmer again (cleared bone autofluoresces little), piecewise linear.
HU_POINTS = [-1000.0, -500.0, -100.0, 0.0, 100.0, 400.0, 2000.0]
BRIGHTNESS_POINTS = [0.0, 0.1, 0.55, 0.8, 1.0, 0.7, 0.5]

# Output units: counts for uint16 and float32; uint8 stacks hold counts / 16 (a 12-bit camera).
DTYPE_SCALE = {"uint16": 1.0, "uint8": 1.0 / 16.0, "float32": 1.0}
DTYPE_MAX = {"uint16": 65535.0, "uint8": 255.0, "float32": np.inf}


def linear_weights(n_out, n_in):
    """(lower index, upper index, upper weight) of linear interpolation from n_in voxels onto
    n_out with voxel centres aligned, clamped at the ends."""
    u = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    u = np.clip(u, 0, n_in - 1)
    lower = np.floor(u).astype(np.intp)
    upper = np.minimum(lower + 1, n_in - 1)
    return lower, upper, (u - lower).astype(np.float32)


def brightness_from_ct(hu):
    return np.interp(hu, HU_POINTS, BRIGHTNESS_POINTS).astype(np.float32)


def brightness_from_labels(labels, rng):
    """Each label a random brightness, as autofluorescence differs between organs; 0 stays dark."""
    table = rng.uniform(0.35, 1.0, int(labels.max()) + 1).astype(np.float32)
    table[0] = 0.0
    return table[labels.astype(np.intp)]


def looks_like_labels(data):
    """Integer values from 0 to at most 255 taking few distinct values: a label map."""
    if data.size == 0 or data.min() < 0 or data.max() > 255 or not np.all(data == np.round(data)):
        return False
    return len(np.unique(data)) <= 64


def source_from_scan(path, kind="auto", seed=0):
    """Relative brightness of a NIfTI scan (a CT in HU or a label map), as a float32 array
    indexed [k, j, i] (a plane per k). kind: 'auto', 'ct' or 'labels'."""
    data = np.asarray(nib.load(str(path)).get_fdata(dtype=np.float32))
    if data.ndim == 4:
        data = data[..., 0]
    if data.ndim != 3:
        raise ValueError(f"{path}: a 3D scan is needed, this one has {data.ndim} dimensions")
    if kind == "auto":
        kind = "labels" if looks_like_labels(data) else "ct"
    if kind == "labels":
        brightness = brightness_from_labels(data, np.random.default_rng(seed))
    elif kind == "ct":
        brightness = brightness_from_ct(data)
    else:
        raise ValueError(f"unknown scan kind {kind!r} (auto, ct or labels)")
    return np.ascontiguousarray(brightness.transpose(2, 1, 0))


def synthetic_mouse(shape, seed=0):
    """A smooth ellipsoid body, lightly textured, with a few brighter blobs (organs), on a small
    grid in the stack's proportions, indexed [k, j, i]."""
    rng = np.random.default_rng(seed)
    scale = MAX_SOURCE_SIDE / max(shape)
    nx, ny, nz = (max(4, round(n * scale)) for n in shape)
    z, y, x = np.meshgrid(*(np.linspace(-1, 1, n, dtype=np.float32) for n in (nz, ny, nx)), indexing="ij")
    radius = np.sqrt((x / 0.85) ** 2 + (y / 0.92) ** 2 + (z / 0.8) ** 2)
    body = np.clip((1 - radius) / 0.08, 0, 1)       # a soft edge a few source voxels wide
    texture = scipy.ndimage.gaussian_filter(rng.standard_normal(body.shape).astype(np.float32), 2.0)
    texture /= max(float(np.abs(texture).max()), 1e-6)
    brightness = body * (0.35 + 0.08 * texture)
    for _ in range(6):
        centre = rng.uniform(-0.5, 0.5, 3) * (0.85, 0.92, 0.8)
        width = rng.uniform(0.06, 0.18)
        distance2 = (x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2
        brightness += body * rng.uniform(0.3, 0.6) * np.exp(-distance2 / (2 * width ** 2))
    return np.clip(brightness, 0, 1).astype(np.float32)


def _stripes(rng, count, width):
    """Stripe attenuation across the illumination axis: 1 where clear, down to 0.7 in shadows."""
    noise = scipy.ndimage.gaussian_filter1d(rng.standard_normal(count), width)
    return (1 - 0.3 * np.abs(noise) / max(float(np.abs(noise).max()), 1e-12)).astype(np.float32)


class LightsheetPlanes:
    """plane(z): plane z of a light-sheet stack of `shape` (X, Y, Z) as a (Y, X) array of
    `dtype` ('uint16', 'uint8' or 'float32'), made from `source` (relative brightness, [k, j, i]).
    Each plane depends only on (seed, z), so planes may be made in any order or in parallel."""

    def __init__(self, source, shape, dtype="uint16", seed=0):
        if dtype not in DTYPE_SCALE:
            raise ValueError(f"unknown dtype {dtype!r} ({', '.join(DTYPE_SCALE)})")
        self.shape = tuple(int(n) for n in shape)
        self.dtype = dtype
        self.seed = seed
        nx, ny, nz = self.shape
        scale = DTYPE_SCALE[dtype]
        rng = np.random.default_rng([seed, 1 << 20])
        self.source = (MEDIUM_COUNTS + TISSUE_COUNTS * np.asarray(source, np.float32)) * np.float32(scale)
        self.z_weights = linear_weights(nz, self.source.shape[0])
        self.y_weights = linear_weights(ny, self.source.shape[1])
        self.x_weights = linear_weights(nx, self.source.shape[2])
        # Sheets from both sides along x, each fading over about a sample's width.
        x = np.arange(nx, dtype=np.float64)
        falloff = rng.uniform(0.6, 1.2) * nx
        both = 0.5 * (np.exp(-x / falloff) + np.exp(-(nx - 1 - x) / falloff))
        self.illumination = (both / both.max()).astype(np.float32)
        # Stripes a few pixels wide, drifting between two patterns over the stack's depth.
        width = max(1.0, ny / 1500)
        self.stripe_patterns = (_stripes(rng, ny, width), _stripes(rng, ny, width))
        self.detection_falloff = rng.uniform(0.2, 0.5)   # fraction of the signal lost at the far end
        self.read_noise = np.float32(READ_NOISE * scale)
        self.shot_gain = np.float32(SHOT_GAIN * scale)
        self.offset = np.float32(CAMERA_OFFSET * scale)
        bank_rows = int(np.clip(NOISE_BANK_VALUES // (nx + NOISE_BANK_SHIFTS), 256, 2048))
        self.noise_bank = rng.standard_normal((bank_rows, nx + NOISE_BANK_SHIFTS), dtype=np.float32)
        self._local = threading.local()

    def _scratch(self):
        """Three plane-sized float32 buffers per thread, kept between planes: a fresh 48 MB
        array costs more in page faults than the arithmetic done on it."""
        buffers = getattr(self._local, "buffers", None)
        if buffers is None:
            nx, ny, _ = self.shape
            buffers = self._local.buffers = [np.empty((ny, nx), np.float32) for _ in range(3)]
        return buffers

    def __call__(self, z):
        nx, ny, nz = self.shape
        rng = np.random.default_rng([self.seed, z])
        plane, sigma, noise = self._scratch()
        k0, k1, wk = (w[z] for w in self.z_weights)
        small = self.source[k0] * (1 - wk) + self.source[k1] * wk
        i0, i1, wi = self.x_weights
        rows = small[:, i0] * (1 - wi) + small[:, i1] * wi     # (source rows, X)
        rows *= self.illumination
        depth = z / max(nz - 1, 1)
        mix = np.float32(0.5 - 0.5 * np.cos(np.pi * depth))
        stripes = self.stripe_patterns[0] * (1 - mix) + self.stripe_patterns[1] * mix
        stripes *= np.float32(1 - self.detection_falloff * depth)
        j0, j1, wj = self.y_weights
        # mode="clip": with out= and the default mode, take copies through a buffer.
        np.take(rows, j0, axis=0, out=plane, mode="clip")
        plane *= ((1 - wj) * stripes)[:, None]
        np.take(rows, j1, axis=0, out=noise, mode="clip")
        noise *= (wj * stripes)[:, None]
        plane += noise
        # Noise of variance read^2 + gain * signal: rows of the Gaussian bank, picked at random
        # at a random shift (a fresh Gaussian per pixel would cost more than the rest together).
        np.multiply(plane, self.shot_gain, out=sigma)
        sigma += self.read_noise ** 2
        np.sqrt(sigma, out=sigma)
        shift = int(rng.integers(0, NOISE_BANK_SHIFTS + 1))
        picks = rng.integers(0, self.noise_bank.shape[0], ny)
        np.take(self.noise_bank[:, shift:shift + nx], picks, axis=0, out=noise, mode="clip")
        noise *= sigma
        plane += noise
        if self.dtype == "float32":
            plane += self.offset
            np.maximum(plane, 0, out=plane)
            return plane.copy()
        plane += self.offset + np.float32(0.5)   # + 0.5: the cast below truncates, so this rounds
        np.clip(plane, 0, DTYPE_MAX[self.dtype], out=plane)
        return plane.astype(self.dtype)
