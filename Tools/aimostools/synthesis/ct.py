"""Micro-CT appearance for synthetic scans, in Hounsfield units.

Two stages: `render_ct_tissues` gives every tissue of the (working-resolution) label map an
intensity drawn from realistic ranges, with the low mutual contrast of native micro-CT between
soft organs; `apply_ct_scanner` then adds what the scanner does on the output grid: partial
volume blur, beam-hardening cupping and a low-frequency bias, occasional ring or streak
artefacts, and noise. The rotation axis of the scanner is the body axis (axis 1), so the
transverse planes are axes 0 and 2.
"""
import numpy as np
import scipy.ndimage
import scipy.special

from aimostools.synthesis.fields import smooth_field

# Noise standard deviation at 0.1 mm voxels; at a fixed dose it falls with voxel size as
# (0.1 / spacing)^1.5 (more photons per voxel), so a 0.5 mm scan is about 11 times cleaner.
NOISE_LEVELS_HU = {"low": (20.0, 40.0), "medium": (40.0, 100.0), "high": (100.0, 300.0)}
NOISE_REFERENCE_MM = 0.1
SOFT_ORGAN_HU = (20.0, 80.0)
BONE_HU = (400.0, 1500.0)


def _soft(rng, soft_level):
    """A soft-tissue value close to the scan's soft level: organs barely differ in native CT."""
    return float(np.clip(soft_level + rng.uniform(-15, 15), *SOFT_ORGAN_HU))


def draw_tissue_values(rng, kinds):
    """Mean HU per tissue code. `kinds` maps code -> tissue kind (see organs.tissue_kind;
    'air' for outside the body). Liver and spleen are contrast-enhanced together at random
    (as with a hepatic contrast agent such as ExiTron nano)."""
    soft_level = rng.uniform(30, 60)
    enhanced = rng.random() < 0.35
    levels = {"air": -1000 + rng.uniform(-15, 15), "lung": rng.uniform(-700, -400),
              "airway": rng.uniform(-900, -650), "fat": rng.uniform(-120, -80)}
    values = {}
    for code in sorted(kinds):
        kind = kinds[code]
        if kind in levels:
            values[code] = float(levels[kind])
        elif kind in ("liver", "spleen") and enhanced:
            values[code] = float(rng.uniform(100, 250))
        elif kind in ("fluid", "bladder"):
            values[code] = float(rng.uniform(0, 30))
        else:                       # organs, body soft tissue, other soft tissue; bone is set later
            values[code] = _soft(rng, soft_level)
    return values, float(levels["fat"])


def render_ct_tissues(rng, codes, kinds, spacing):
    """float32 HU image of a tissue-code map (codes index `kinds`), voxel size `spacing` mm."""
    values, fat = draw_tissue_values(rng, kinds)
    table = np.zeros(max(kinds) + 1, np.float32)
    for code, value in values.items():
        table[code] = value
    image = table[codes]
    kind_of = np.array([kinds.get(c, "air") for c in range(len(table))], dtype=object)

    def mask_of(*wanted):
        selected = np.array([k in wanted for k in kind_of])
        return selected[codes]

    # Texture: a little in soft tissue, more in the lung (vessels, bronchi).
    texture = smooth_field(rng, codes.shape, spacing, rng.uniform(0.6, 1.5))
    texture_hu = np.array([40.0 if k == "lung" else 0.0 if k in ("air", "bone") else 6.0 for k in kind_of],
                          np.float32)
    image += texture * texture_hu[codes]

    # Unlabelled body tissue is a mix of muscle and fat lobules.
    body = mask_of("body")
    if body.any():
        fat_fraction = rng.uniform(0.1, 0.35)
        lobules = smooth_field(rng, codes.shape, spacing, rng.uniform(1.5, 3.0))
        fat_mask = body & (lobules > scipy.special.ndtri(1 - fat_fraction))
        image[fat_mask] = fat + texture[fat_mask] * 5

    # Bone: dense cortex and lighter marrow.
    bone = mask_of("bone")
    if bone.any():
        high = rng.uniform(900, BONE_HU[1])
        low = max(BONE_HU[0], 0.45 * high)
        density = smooth_field(rng, codes.shape, spacing, rng.uniform(0.5, 1.0))
        image[bone] = low + (high - low) * np.clip(0.5 + 0.3 * density[bone], 0, 1)

    # Gas pockets in stomach and gut.
    gut = mask_of("stomach", "intestine")
    if gut.any():
        gas = smooth_field(rng, codes.shape, spacing, rng.uniform(1.0, 2.5))
        pockets = gut & (gas > rng.uniform(1.0, 2.0))
        image[pockets] = rng.uniform(-900, -600)
    return image


def _transverse_radius(shape, spacing, center):
    """Distance (mm) from the rotation axis in the transverse plane, shape (n0, 1, n2)."""
    x = (np.arange(shape[0]) * spacing - center[0])[:, None, None]
    z = (np.arange(shape[2]) * spacing - center[1])[None, None, :]
    return np.sqrt(x ** 2 + z ** 2).astype(np.float32)


def _rings(rng, shape, spacing, center, max_radius):
    radius = _transverse_radius(shape, spacing, center)
    pattern = np.zeros_like(radius)
    for _ in range(int(rng.integers(1, 6))):
        r = rng.uniform(0.5, max_radius)
        width = rng.uniform(0.5, 1.5) * spacing
        pattern += rng.choice([-1, 1]) * rng.uniform(10, 60) * np.exp(-((radius - r) / width) ** 2)
    return pattern


def _streaks(rng, image, spacing, body_axis_range):
    """Bright/dark lines through a dense spot in a run of transverse slices."""
    dense = np.argwhere(image > 300)
    if len(dense) == 0:
        dense = np.argwhere(image > image.mean())
    spot = dense[int(rng.integers(0, len(dense)))] if len(dense) else np.array(image.shape) // 2
    begin, end = body_axis_range
    x = (np.arange(image.shape[0]) - spot[0])[:, None].astype(np.float32)
    z = (np.arange(image.shape[2]) - spot[2])[None, :].astype(np.float32)
    pattern = np.zeros((image.shape[0], image.shape[2]), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        angle = rng.uniform(0, np.pi)
        distance = x * np.sin(angle) - z * np.cos(angle)
        width = rng.uniform(0.5, 1.2)
        pattern += rng.choice([-1, 1]) * rng.uniform(50, 200) * np.exp(-(distance / width) ** 2)
    image[:, begin:end, :] += pattern[:, None, :]


def apply_ct_scanner(rng, image, body, spacing, artefacts=True, noise_level=None):
    """Scanner effects on a float32 HU image (modified and returned) with body mask `body`
    on isotropic voxels of `spacing` mm. noise_level: 'low', 'medium', 'high' or None (random)."""
    shape = image.shape
    blur = rng.uniform(0.3, 1.0)
    image = scipy.ndimage.gaussian_filter(image, blur, mode="nearest")

    # Beam hardening: darker centre of thick cross-sections, plus a slow bias over the body.
    inside = np.argwhere(body[:, ::4, :])[:, [0, 2]] if body.any() else np.array([[shape[0] / 2, shape[2] / 2]])
    center = inside.mean(axis=0) * spacing
    radius = _transverse_radius(shape, spacing, center)
    body_radius = max(float(np.sqrt(((inside * spacing - center) ** 2).sum(axis=1)).max()), spacing)
    weight = scipy.ndimage.gaussian_filter(body.astype(np.float32), 1.0)
    # Cupping grows with the path length through the animal: up to about 40 HU for a mouse.
    cupping = rng.uniform(0, 3.0) * body_radius * np.clip(1 - (radius / body_radius) ** 2, 0, 1)
    bias = rng.uniform(0, 20) * smooth_field(rng, shape, spacing, rng.uniform(8, 20))
    image -= (cupping - bias) * weight

    if artefacts and rng.random() < 0.2:
        image += _rings(rng, shape, spacing, center, body_radius)
    if artefacts and rng.random() < 0.2:
        length = max(1, int(rng.uniform(0.05, 0.3) * shape[1]))
        begin = int(rng.integers(0, shape[1] - length + 1))
        _streaks(rng, image, spacing, (begin, begin + length))

    level = str(rng.choice(sorted(NOISE_LEVELS_HU)))
    sigma_hu = rng.uniform(*NOISE_LEVELS_HU[noise_level or level]) * (NOISE_REFERENCE_MM / spacing) ** 1.5
    noise = rng.standard_normal(shape, dtype=np.float32)
    grain = rng.uniform(0, 0.8)  # reconstruction kernels correlate neighbouring voxels
    if grain > 0.3:
        noise = scipy.ndimage.gaussian_filter(noise, grain)
        noise /= max(float(noise.std()), 1e-6)
    image += sigma_hu * noise
    return np.clip(image, -1024, 3071).astype(np.float32)
