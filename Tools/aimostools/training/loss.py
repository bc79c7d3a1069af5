"""The soft-Dice loss of AIMOS training.

The published dice_loss (code/utils/tools.py) turns the logits into probabilities with a
softmax over all class channels (background included), sums intersection and cardinality over
the batch and the pixels per class, takes 2 * intersection / (cardinality + 1e-7) per class and
returns 1 - the mean over the classes. A class absent from a batch thus adds a constant 1 (its
intersection is 0) with zero gradient. "softmax" reproduces that; "sigmoid" is the variant with
independent per-class sigmoids (what inference applies), offered because it calibrates the
probability maps the engine reports.

Dual-annotation training adds the uncertainty channel (the last logit) as one more Dice term:
sigmoid of that logit against the disagreement target, over the samples that have a second
annotation (left out of the mean when the batch has none).
"""
import torch
import torch.nn.functional as F

EPSILON = 1e-7


def soft_dice(probabilities, targets, dims):
    """2 * sum(p * t) / (sum(p + t) + eps), summed over dims."""
    intersection = torch.sum(probabilities * targets, dims)
    cardinality = torch.sum(probabilities + targets, dims)
    return 2.0 * intersection / (cardinality + EPSILON)


def aimos_dice_loss(logits, organ_target, n_classes, activation="softmax",
                    disagreement=None, has_disagreement=None):
    """(loss, per-term Dice) for logits (B, C[+1], H, W) and organ_target (B, H, W) class indices.

    With disagreement (B, H, W) in {0, 1} and has_disagreement (B,) bool, the last logit channel
    is the uncertainty channel and its Dice joins the mean."""
    organ_logits = logits[:, :n_classes]
    if activation == "softmax":
        probabilities = F.softmax(organ_logits, dim=1)
    elif activation == "sigmoid":
        probabilities = torch.sigmoid(organ_logits)
    else:
        raise ValueError(f"unknown activation {activation!r}")
    one_hot = F.one_hot(organ_target.long(), n_classes).permute(0, 3, 1, 2).to(probabilities.dtype)
    dice = soft_dice(probabilities, one_hot, (0, 2, 3))
    if disagreement is not None and bool(has_disagreement.any()):
        heat = torch.sigmoid(logits[has_disagreement, n_classes])
        target = disagreement[has_disagreement].to(heat.dtype)
        dice = torch.cat([dice, soft_dice(heat, target, (0, 1, 2)).reshape(1)])
    return 1.0 - dice.mean(), dice.detach()
