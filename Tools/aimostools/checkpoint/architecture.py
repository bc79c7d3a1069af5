"""The state_dict names and shapes of the AIMOS U-Nets, in pure Python (no PyTorch), so that a
checkpoint can be checked against an architecture before it is converted.

Layout of the published networks (and of reference.AimosUNet): encoders down1..downN, a center
block, decoders upN..up1 and a 1x1 classifier. Each block is conv (3x3, no bias) + BatchNorm:
<block>.conv.weight, <block>.bn.{weight, bias, running_mean, running_var} (and the integer
<block>.bn.num_batches_tracked, which inference does not use and is not listed here).
"""
import collections
import math

from aimostools.layout import orientation_codes

# Encoder widths per architecture; the one table (reference.WIDTHS re-exports it), kept here
# so that the converter needs no torch.
WIDTHS = {
    "Unet64": [32, 64], "Unet128": [32, 64, 128], "Unet256": [32, 64, 128, 256],
    "Unet512": [32, 64, 128, 256, 512], "Unet768": [32, 64, 128, 256, 512, 768],
    "Unet1024": [32, 64, 128, 256, 512, 1024],
}
ARCHITECTURES = list(WIDTHS)
CLASSIFIER_WEIGHT = "classify.weight"
CLASSIFIER_BIAS = "classify.bias"


CROPS = ("body", "none")


# The engine refuses a recorded voxel size above this (ModelMetadata.swift): no mouse scan is
# that coarse, so such a value is a unit mistake (µm for mm).
MAX_VOXEL_SIZE_MM = 100.0


def check_voxel_size_mm(value):
    """`value` as a float when it is a usable voxel size in mm (a finite number > 0, at most
    MAX_VOXEL_SIZE_MM), else ValueError. bool is refused although Python counts it a number."""
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or not 0 < value <= MAX_VOXEL_SIZE_MM):
        raise ValueError(f"voxel size {value!r} must be a finite number of mm, greater than 0 and at most "
                         f"{MAX_VOXEL_SIZE_MM:g}")
    return float(value)


def aimos_metadata(architecture, classes, input_size, uncertainty, slice_axis, ensemble_members=1,
                   orientation=None, crop=None, voxel_size_mm=None):
    """The `aimos` metadata object of a model file (for the converter and for training).
    orientation (the training slices' layout code, rows, columns, slice) and crop ("body" when
    trained on slices cut from the animal's box) are written only when given: absent, the
    engine reads the published "TLD" and "none". voxel_size_mm (the isotropic voxel size of the
    training scans) is written only when given; the engine takes it as the default grid when it
    streams a light-sheet stack down to a coarser one."""
    metadata = {"architecture": architecture, "classes": list(classes), "input_size": input_size,
                "uncertainty": bool(uncertainty), "ensemble_members": ensemble_members, "slice_axis": slice_axis}
    if orientation is not None:
        if not isinstance(orientation, str) or not orientation_codes.is_valid(orientation):
            raise ValueError(f"orientation {orientation!r} is no layout code: three letters, one each of "
                             "H/T (head/tail), L/R (left/right), D/V (dorsal/ventral), e.g. TLD")
        metadata["orientation"] = orientation.upper()
    if crop is not None:
        if crop not in CROPS:
            raise ValueError(f"crop {crop!r} must be 'body' or 'none'")
        metadata["crop"] = crop
    if voxel_size_mm is not None:
        metadata["voxel_size_mm"] = check_voxel_size_mm(voxel_size_mm)
    return metadata


def _conv_bn(shapes, block, cout, cin):
    shapes[f"{block}.conv.weight"] = (cout, cin, 3, 3)
    for leaf in ("weight", "bias", "running_mean", "running_var"):
        shapes[f"{block}.bn.{leaf}"] = (cout,)


def expected_shapes(architecture, output_channels):
    """Ordered dict: float tensor name -> shape for `architecture` with that many outputs."""
    widths = WIDTHS[architecture]
    shapes = collections.OrderedDict()
    for level, width in enumerate(widths):
        cin = 1 if level == 0 else widths[level - 1]
        _conv_bn(shapes, f"down{level + 1}.encode.0", width, cin)
        _conv_bn(shapes, f"down{level + 1}.encode.1", width, width)
    _conv_bn(shapes, "center", widths[-1], widths[-1])
    for level in reversed(range(len(widths))):
        cout = 32 if level == 0 else widths[level - 1]
        # The decoder's first conv sees the upsampled input and the skip, both `width` wide.
        _conv_bn(shapes, f"up{level + 1}.decode.0", cout, 2 * widths[level])
        _conv_bn(shapes, f"up{level + 1}.decode.1", cout, cout)
        _conv_bn(shapes, f"up{level + 1}.decode.2", cout, cout)
    shapes[CLASSIFIER_WEIGHT] = (output_channels, 32, 1, 1)
    shapes[CLASSIFIER_BIAS] = (output_channels,)
    return shapes


def guess_architecture(shapes):
    """The architecture whose layers (classifier aside) have exactly these float tensor
    shapes (name -> shape), or None."""
    body = {k: tuple(v) for k, v in shapes.items() if not k.startswith("classify.")}
    for name in ARCHITECTURES:
        expected = {k: v for k, v in expected_shapes(name, 1).items() if not k.startswith("classify.")}
        if expected == body:
            return name
    return None
