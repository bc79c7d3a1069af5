"""SynthSeg-style tissue intensities (Billot et al., Medical Image Analysis 86:102789, 2023):
every tissue of the label map gets a random mean and a random texture strength, unrelated to
what the tissue looks like in any real modality, so the network learns shapes rather than one
contrast. The values are drawn in the modality's range and the modality's scanner or microscope
effects follow (synthesis.py), so a random-intensity case is mixed with the CT or light-sheet
prior in everything but the tissue table.

One constraint is kept from real scans: air (outside the body) is the darkest tissue, as it is
in every micro-CT and light-sheet scan, because the engine's body search relies on it.
"""
import numpy as np

from aimostools.synthesis.fields import smooth_field

# (air range, tissue range, largest texture standard deviation), per modality's units.
RANGES = {"ct": ((-1010.0, -900.0), (-800.0, 2000.0), 120.0),
          "lightsheet": ((0.0, 0.02), (0.04, 1.0), 0.12)}


def render_random_tissues(rng, codes, kinds, spacing, modality):
    """float32 image of a tissue-code map (codes index `kinds`; kind 'air' = outside the body)
    with one random mean and texture strength per tissue code, in `modality`'s units."""
    (air_low, air_high), (low, high), texture_max = RANGES[modality]
    means = np.zeros(max(kinds) + 1, np.float32)
    spreads = np.zeros_like(means)
    for code in sorted(kinds):
        if kinds[code] == "air":
            means[code] = rng.uniform(air_low, air_high)
        else:
            means[code] = rng.uniform(low, high)
            spreads[code] = rng.uniform(0.0, texture_max)
    texture = smooth_field(rng, codes.shape, spacing, rng.uniform(0.5, 2.0))
    return means[codes] + texture * spreads[codes]
