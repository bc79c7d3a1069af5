"""The paired augmentation of AIMOS training (paper, Methods: random rotations of +-10 degrees
and random cropping down to 80 % of the image area), applied to model-grid slices.

As in the published code each transform is drawn with probability 1/2, the rotation is applied
before the crop and the crop is resized back to the full grid; here both are composed into one
sampling grid, so image and labels are resampled once and from the very same points (image
bilinear, labels nearest). Differences from the published code, on purpose: the angle is drawn
from [-10, 10] (the published randint(-10, -10) always gives -10), the corners a rotation
exposes are filled with the slice minimum (its background) rather than 0, and the crop's
aspect ratio (width / height) is drawn from [area, 1 / area], so every crop has 80-100 % of the
area and fits inside the image.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

MAX_ANGLE_DEG = 10.0
MIN_CROP_AREA = 0.8


@dataclass
class Augmentation:
    """One draw: rotation angle, then a crop box in fractions of the image (top, left, h, w)."""
    angle_deg: float = 0.0
    top: float = 0.0
    left: float = 0.0
    height: float = 1.0
    width: float = 1.0

    @property
    def is_identity(self):
        return self.angle_deg == 0.0 and self.height == 1.0 and self.width == 1.0

    @property
    def crop_area(self):
        return self.height * self.width


def draw_augmentation(rng):
    """Rotation with probability 1/2, crop with probability 1/2 (numpy Generator rng)."""
    aug = Augmentation()
    if rng.random() < 0.5:
        aug.angle_deg = float(rng.uniform(-MAX_ANGLE_DEG, MAX_ANGLE_DEG))
    if rng.random() < 0.5:
        area = rng.uniform(MIN_CROP_AREA, 1.0)
        ratio = math.exp(rng.uniform(math.log(area), -math.log(area)))
        aug.width, aug.height = math.sqrt(area * ratio), math.sqrt(area / ratio)
        aug.top = float(rng.uniform(0.0, 1.0 - aug.height))
        aug.left = float(rng.uniform(0.0, 1.0 - aug.width))
    return aug


def sampling_grid(aug, size):
    """grid_sample grid (size, size, 2) in [-1, 1] (align_corners=False): output pixel centre ->
    point of the crop box in the rotated image -> source point (inverse rotation)."""
    centres = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    rows = 2.0 * (aug.top + centres * aug.height) - 1.0
    cols = 2.0 * (aug.left + centres * aug.width) - 1.0
    y, x = torch.meshgrid(rows, cols, indexing="ij")
    theta = math.radians(aug.angle_deg)
    source_x = math.cos(theta) * x + math.sin(theta) * y
    source_y = -math.sin(theta) * x + math.cos(theta) * y
    return torch.stack([source_x, source_y], dim=-1).float()


def augment_batch(images, labels, augmentations):
    """Applies one augmentation per sample. images (B, 1, S, S) float, labels (B, L, S, S) any
    integer or float planes (organ classes, disagreement); returns new tensors of the same
    dtypes. Samples whose draw is the identity are returned unchanged (no resampling)."""
    size = images.shape[-1]
    moved = [i for i, aug in enumerate(augmentations) if not aug.is_identity]
    if not moved:
        return images, labels
    images, labels = images.clone(), labels.clone()
    grid = torch.stack([sampling_grid(augmentations[i], size) for i in moved]).to(images.device)
    index = torch.tensor(moved, device=images.device)
    chosen = images[index].float()
    fill = chosen.amin(dim=(1, 2, 3), keepdim=True)
    sampled = F.grid_sample(chosen - fill, grid, mode="bilinear", padding_mode="zeros",
                            align_corners=False) + fill
    images[index] = sampled.to(images.dtype)
    sampled_labels = F.grid_sample(labels[index].float(), grid, mode="nearest", padding_mode="zeros",
                                   align_corners=False)
    labels[index] = sampled_labels.round().to(labels.dtype)
    return images, labels


def zscore_batch(images):
    """Per-slice z-score with the unbiased std, as reference.preprocess; flat slices become 0."""
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    std = images.std(dim=(1, 2, 3), keepdim=True, unbiased=True)
    flat = ~(std > 0)
    return torch.where(flat, torch.zeros_like(images), (images - mean) / torch.where(flat, torch.ones_like(std), std))


def draw_augmentations(rng, count):
    """count independent draws."""
    return [draw_augmentation(rng) for _ in range(count)]

