"""PyTorch reference of the AIMOS 2D U-Nets and of the published inference pipeline, written
for this project from the paper and the published module layout (state_dict keys match
OSchoppe/AIMOS, so official checkpoints load into it). Used to make golden fixtures and to
train models; the library itself never runs Python.
"""
import numpy as np
import scipy.ndimage
import torch
import torch.nn.functional as F
from PIL import Image

from aimostools.checkpoint.architecture import WIDTHS  # one table, in the torch-free module; re-exported


class ConvBnRelu(torch.nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = torch.nn.Conv2d(cin, cout, kernel_size=3, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(cout, eps=1e-4)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Encoder(torch.nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.encode = torch.nn.Sequential(ConvBnRelu(cin, cout), ConvBnRelu(cout, cout))

    def forward(self, x):
        skip = self.encode(x)
        return skip, F.max_pool2d(skip, kernel_size=2, stride=2)


class Decoder(torch.nn.Module):
    def __init__(self, width, cout):
        super().__init__()
        self.decode = torch.nn.Sequential(ConvBnRelu(2 * width, cout), ConvBnRelu(cout, cout), ConvBnRelu(cout, cout))

    def forward(self, skip, x):
        up = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=True)
        return self.decode(torch.cat([up, skip], 1))


class AimosUNet(torch.nn.Module):
    """UNet64 ... UNet1024 by encoder widths; module names as the published code."""

    def __init__(self, architecture, out_channels):
        super().__init__()
        self.widths = WIDTHS[architecture]
        for level, width in enumerate(self.widths):
            cin = 1 if level == 0 else self.widths[level - 1]
            setattr(self, f"down{level + 1}", Encoder(cin, width))
            setattr(self, f"up{level + 1}", Decoder(width, 32 if level == 0 else self.widths[level - 1]))
        self.center = ConvBnRelu(self.widths[-1], self.widths[-1])
        self.classify = torch.nn.Conv2d(32, out_channels, kernel_size=1, bias=True)

    def forward(self, x):
        skips = []
        for level in range(len(self.widths)):
            skip, x = getattr(self, f"down{level + 1}")(x)
            skips.append(skip)
        x = self.center(x)
        for level in reversed(range(len(self.widths))):
            x = getattr(self, f"up{level + 1}")(skips[level], x)
        return self.classify(x)


def volume_axis(axis):
    """The numpy (z, y, x) axis that aimos slice axis `axis` (2 = z, 1 = y, 0 = x) cuts along."""
    return {2: 0, 1: 1, 0: 2}[axis]


def slice_view(volume_zyx, axis, index):
    """The 2D slice as aimos cuts it: axis 2 rows=y cols=x; axis 1 rows=z cols=x; axis 0 rows=z cols=y."""
    if axis == 2:
        return volume_zyx[index, :, :]
    if axis == 1:
        return volume_zyx[:, index, :]
    return volume_zyx[:, :, index]


def resize_bilinear(slice2d, size):
    """Pillow BILINEAR resize of the slice, as float32, to size x size (a writable copy)."""
    image = Image.fromarray(np.ascontiguousarray(slice2d.astype(np.float32)))
    return np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.float32).copy()


def preprocess(slice2d, size):
    """Pillow BILINEAR resize of the float32 slice, then z-score (unbiased std); None if flat."""
    t = torch.from_numpy(resize_bilinear(slice2d, size))
    std = t.std()
    if not torch.isfinite(std) or std.item() == 0:
        return None
    return ((t - t.mean()) / std).numpy()


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def segment(volume_zyx, nets, classes, size, axis, uncertainty):
    """The published inference on one volume. Returns labels (z,y,x), probabilities
    (C,z,y,x), uncertainty (z,y,x) or None, and per-slice (model input, member logits)."""
    n_classes = len(classes)
    channels = n_classes + (1 if uncertainty else 0)
    labels = np.zeros(volume_zyx.shape, np.uint8)
    probabilities = np.zeros((n_classes,) + volume_zyx.shape, np.float32)
    heat = np.zeros(volume_zyx.shape, np.float32) if uncertainty else None
    inputs, logits = [], []
    for index in range(volume_zyx.shape[volume_axis(axis)]):
        s = slice_view(volume_zyx, axis, index)
        rows, cols = s.shape
        x = preprocess(s, size)
        inputs.append(x)
        if x is None:
            grid = np.zeros((channels, size, size), np.float32)
            logits.append(None)
        else:
            with torch.no_grad():
                member_logits = [net(torch.from_numpy(x)[None, None])[0].numpy() for net in nets]
            logits.append(member_logits)
            member_probs = [sigmoid(m) for m in member_logits]
            grid = member_probs[0] if len(nets) == 1 else np.median(np.stack(member_probs), axis=0).astype(np.float32)
        grid_labels = np.argmax(grid[:n_classes], axis=0)
        out_labels = scipy.ndimage.zoom(grid_labels, (rows / size, cols / size), order=0)
        assert out_labels.shape == (rows, cols)
        back = F.interpolate(torch.from_numpy(np.ascontiguousarray(grid))[None], size=(rows, cols),
                             mode="bilinear", align_corners=True)[0].numpy()
        target = [slice(None)] * 3
        target[volume_axis(axis)] = index
        target = tuple(target)
        labels[target] = out_labels
        for c in range(n_classes):
            probabilities[(c,) + target] = back[c]
        if uncertainty:
            heat[target] = back[channels - 1]
    return labels, probabilities, heat, inputs, logits
