"""Light-sheet-microscopy-like appearance of a cleared whole mouse (autofluorescence channel),
in arbitrary units (background near zero, bright tissue near 1000).

`render_lightsheet_tissues` gives each tissue a random brightness (each organ bright or dark at
random, as autofluorescence differs between organs and staining protocols); `apply_microscope`
adds exponential falloff with depth along the illumination and detection paths, stripes along
the illumination axis (shadows of absorbing structures), an anisotropic point spread function
(detection along axis 2 is the blurriest) and camera noise.
"""
import numpy as np
import scipy.ndimage

from aimostools.synthesis.fields import smooth_field

NOISE_LEVELS = {"low": (0.002, 0.005), "medium": (0.005, 0.015), "high": (0.015, 0.04)}


def render_lightsheet_tissues(rng, codes, kinds, spacing):
    """float32 image in [0, 1] of a tissue-code map (codes index `kinds`; kind 'air' = outside)."""
    table = np.zeros(max(kinds) + 1, np.float32)
    for code in sorted(kinds):
        kind = kinds[code]
        if kind == "air":
            table[code] = rng.uniform(0.0, 0.01)
        elif kind == "body":
            table[code] = rng.uniform(0.15, 0.5)
        elif rng.random() < 0.5:
            table[code] = rng.uniform(0.5, 1.0)
        else:
            table[code] = rng.uniform(0.05, 0.35)
    image = table[codes]
    texture = smooth_field(rng, codes.shape, spacing, rng.uniform(0.5, 2.0))
    image *= 1 + rng.uniform(0.05, 0.2) * texture * (codes > 0)
    return np.clip(image, 0, None)


def _depth_mm(body, axis, spacing, from_high_end):
    """Path length (mm) through the body from the entry side along `axis`."""
    inside = body.astype(np.float32)
    if from_high_end:
        return np.flip(np.cumsum(np.flip(inside, axis), axis=axis), axis) * spacing
    return np.cumsum(inside, axis=axis) * spacing


def apply_microscope(rng, image, body, spacing, artefacts=True, noise_level=None):
    """Microscope effects on a float32 image in [0, 1] with body mask `body`, isotropic voxels
    of `spacing` mm; returns the float32 scan in arbitrary units (about 0 to 1000)."""
    illumination_axis = int(rng.integers(0, 2))  # the sheet lies in a plane holding axis 2
    falloff_mm = rng.uniform(10, 40)
    if rng.random() < 0.5:      # light sheets from both sides
        attenuation = 0.5 * (np.exp(-_depth_mm(body, illumination_axis, spacing, False) / falloff_mm)
                             + np.exp(-_depth_mm(body, illumination_axis, spacing, True) / falloff_mm))
    else:
        attenuation = np.exp(-_depth_mm(body, illumination_axis, spacing, bool(rng.random() < 0.5)) / falloff_mm)
    detection_mm = rng.uniform(10, 40)
    attenuation *= np.exp(-_depth_mm(body, 2, spacing, bool(rng.random() < 0.5)) / detection_mm)
    image = image * attenuation.astype(np.float32)

    if artefacts and rng.random() < 0.7:
        # Stripes: constant along the illumination axis, varying across it.
        across = [a for a in range(3) if a != illumination_axis]
        plane = rng.standard_normal([image.shape[a] for a in across]).astype(np.float32)
        plane = scipy.ndimage.gaussian_filter(plane, (rng.uniform(0.5, 1.0), rng.uniform(1.0, 4.0)))
        plane = np.abs(plane) / max(float(np.abs(plane).max()), 1e-6)
        stripes = np.clip(1 - rng.uniform(0.2, 0.6) * plane, 0.2, 1)
        image *= np.expand_dims(stripes, illumination_axis)

    in_plane = rng.uniform(0.3, 0.8)
    image = scipy.ndimage.gaussian_filter(image, (in_plane, in_plane, in_plane * rng.uniform(1.5, 3.0)))

    level = str(rng.choice(sorted(NOISE_LEVELS)))
    read_noise = rng.uniform(*NOISE_LEVELS[noise_level or level])
    shot = rng.uniform(0.001, 0.01)  # photon noise grows with the square root of the signal
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    image += noise * np.sqrt(read_noise ** 2 + shot * np.maximum(image, 0)).astype(np.float32)
    offset = rng.uniform(0.0, 0.01)
    return (np.clip(image + offset, 0, None) * 1000).astype(np.float32)
