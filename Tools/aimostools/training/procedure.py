"""AIMOS training (paper, Methods; published code/AIMOS_pipeline.py), written for this project:
2D slices along the slice axis that hold at least one organ voxel, resized to the model grid
(image: Pillow bilinear, as inference; labels: nearest), paired random rotation and crop,
per-slice z-score, an AimosUNet trained with the soft-Dice loss and Adam (lr 1e-3), the
learning rate reduced when the validation loss stagnates for five epochs, and the network of
the lowest validation loss kept and exported as a model file. With crop "body" every volume is
first cut to the animal's box as the engine finds it (body_crop), as it cuts at inference.
"""
import copy
import csv
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch
from PIL import Image

from aimostools.checkpoint.architecture import check_voxel_size_mm
from aimostools.layout import body_crop
from aimostools.layout import orientation_codes
from aimostools.unet import reference
from aimostools.training import augment as training_augment
from aimostools.training import data as training_data
from aimostools.training import loss as training_loss
from aimostools.training import model_file as training_model_file


@dataclass
class TrainingOptions:
    architecture: str = "Unet768"
    input_size: int = 256
    epochs: int = 30
    batch_size: int = 32
    seed: int = 0
    learning_rate: float = 1e-3
    plateau_patience: int = 5         # paper: five epochs (the published code passes 8)
    slice_axis: int = 2
    max_slices_per_case: Optional[int] = None
    classes_present_only: bool = False
    only_classes: Optional[list] = None  # organ names to keep (others become background), e.g. a light-sheet set
    dual_annotation: bool = False
    activation: str = "softmax"       # the published dice_loss; "sigmoid" as inference
    augment: bool = True
    device: str = "cpu"
    crop: str = "none"                # "body": slices cut from the animal's box (body_crop)
    voxel_size_mm: Optional[float] = None  # the training scans' voxel size, recorded in the model file
    time_limit_minutes: Optional[float] = None  # stop before an epoch would end past it (a leased GPU's budget)
    workers: int = 1                  # processes that read the cases into slices
    bf16: bool = False                # forward pass in bfloat16 autocast (loss and weights stay float32)


@dataclass
class SliceSet:
    """Model-grid training slices: images resized but not yet z-scored (N, S, S) float32, organ
    class indices (N, S, S) uint8, and in dual-annotation mode the disagreement (N, S, S) uint8
    with has_second (N,) telling which slices come from a case with a second annotation."""
    images: np.ndarray
    organs: np.ndarray
    disagreement: Optional[np.ndarray] = None
    has_second: Optional[np.ndarray] = None
    case_ids: list = field(default_factory=list)

    def __len__(self):
        return len(self.images)


@dataclass
class TrainingResult:
    net: torch.nn.Module              # the network of the best epoch, in eval mode
    best_epoch: int
    best_loss: float
    history: list                     # one dict per epoch


def resize_labels(slice2d, size):
    """Nearest-neighbour resize of a uint8 label slice to size x size."""
    image = Image.fromarray(np.ascontiguousarray(slice2d, dtype=np.uint8))
    return np.asarray(image.resize((size, size), Image.NEAREST), dtype=np.uint8)


def load_case_slices(case, classes, options):
    """(images, organ targets, disagreement targets (None unless options.dual_annotation), has a
    second annotation, the set of class indices the organ target holds) of one case, organ
    indices mapped into classes. With crop "body" every animal the engine would find gives its
    own crop, and the slice limit holds per crop."""
    lookup = training_data.class_lookup(case.classes, classes)
    scan_xyz, spacing = training_data.load_nifti_xyz(case.scan_path, np.float32)

    def load_labels(path):
        labels_xyz, _ = training_data.load_nifti_xyz(path, np.uint8)
        if labels_xyz.shape != scan_xyz.shape:
            raise ValueError(f"{case.id}: labels grid {labels_xyz.shape[::-1]} differs from the scan's "
                             f"{scan_xyz.shape[::-1]}")
        return lookup[labels_xyz]

    labels_xyz = load_labels(case.labels_path)
    labels2_xyz = load_labels(case.labels2_path) if options.dual_annotation and case.labels2_path else None
    boxes = body_crop.animal_boxes(scan_xyz, spacing) if options.crop == "body" else [None]
    images, organs, present = [], [], set()
    disagreements = [] if options.dual_annotation else None
    for box in boxes:
        def cut(volume):
            return None if volume is None else training_data.xyz_to_zyx(
                volume if box is None else body_crop.crop(volume, box))
        part = _crop_slices(cut(scan_xyz), cut(labels_xyz), cut(labels2_xyz), options)
        images += part[0]
        organs += part[1]
        if disagreements is not None:
            disagreements += part[2]
        present |= part[3]
    return images, organs, disagreements, labels2_xyz is not None, present


def _crop_slices(scan, labels, labels2, options):
    """The training slices of one (cropped) volume in (z, y, x) order; see load_case_slices."""
    # the classes the organ target holds: in dual-annotation mode those both annotators agree on
    target = labels if labels2 is None else training_data.dual_annotation_targets(labels, labels2)[0]
    present = set(np.unique(target).tolist())
    organ_mask = labels if labels2 is None else np.maximum(labels, labels2)
    chosen = training_data.evenly_spaced(training_data.organ_slices(organ_mask, options.slice_axis),
                                         options.max_slices_per_case)
    size = options.input_size
    images, organs = [], []
    disagreements = [] if options.dual_annotation else None
    for index in chosen:
        image = reference.resize_bilinear(reference.slice_view(scan, options.slice_axis, index), size)
        if not np.std(image) > 0:
            continue  # a flat slice carries nothing to learn (inference predicts background)
        first = resize_labels(reference.slice_view(labels, options.slice_axis, index), size)
        if labels2 is not None:
            second = resize_labels(reference.slice_view(labels2, options.slice_axis, index), size)
            first, disagreement = training_data.dual_annotation_targets(first, second)
            disagreements.append(disagreement)
        elif disagreements is not None:
            disagreements.append(np.zeros_like(first))  # a dual-mode case with one annotation
        images.append(image)
        organs.append(first)
    return images, organs, disagreements, present


def empty_slice_set(size, dual):
    return SliceSet(np.zeros((0, size, size), np.float32), np.zeros((0, size, size), np.uint8),
                    np.zeros((0, size, size), np.uint8) if dual else None,
                    np.zeros(0, bool) if dual else None, [])


def build_slice_sets(train_cases, val_cases, options, log=print):
    """(training SliceSet, validation SliceSet, class list). The class list merges the datasets'
    lists; with classes_present_only it keeps background and the classes the training labels
    contain (other labels become background)."""
    classes = training_data.merged_classes(train_cases + val_cases)
    sets, present = [], set()
    for cases in (train_cases, val_cases):
        parts = {"images": [], "organs": [], "disagreement": [], "has_second": [], "case_ids": []}
        for case, loaded in zip(cases, _load_all(cases, classes, options)):
            images, organs, disagreements, has_second, case_present = loaded
            if cases is train_cases:
                present |= case_present
            parts["images"] += images
            parts["organs"] += organs
            if options.dual_annotation:
                parts["disagreement"] += disagreements
            parts["has_second"] += [has_second] * len(images)
            parts["case_ids"] += [case.id] * len(images)
            log(f"  {case.id} ({case.subject}): {len(images)} slices{' (2 annotations)' if has_second else ''}")
        if not parts["images"]:
            sets.append(empty_slice_set(options.input_size, options.dual_annotation))
            continue
        dual = options.dual_annotation
        sets.append(SliceSet(np.stack(parts["images"]), np.stack(parts["organs"]),
                             np.stack(parts["disagreement"]) if dual else None,
                             np.array(parts["has_second"]) if dual else None, parts["case_ids"]))
    if options.only_classes:
        unknown = [name for name in options.only_classes if name not in classes]
        if unknown:
            raise ValueError(f"classes not in the datasets: {', '.join(unknown)} (known: {', '.join(classes[1:])})")
    if options.classes_present_only or options.only_classes:
        kept = [classes[0]] + [name for index, name in enumerate(classes)
                               if index > 0 and (not options.classes_present_only or index in present)
                               and (not options.only_classes or name in options.only_classes)]
        table = training_data.class_lookup(classes, kept)
        for slice_set in sets:
            slice_set.organs = table[slice_set.organs]
        classes = kept
    return sets[0], sets[1], classes


def _load_all(cases, classes, options):
    """load_case_slices of every case, in order; with options.workers > 1 in that many processes
    (forked, so the cases need no pickling beyond the results)."""
    if options.workers <= 1 or len(cases) <= 1:
        return [load_case_slices(case, classes, options) for case in cases]
    with multiprocessing.get_context("fork").Pool(min(options.workers, len(cases))) as pool:
        return pool.starmap(load_case_slices, [(case, classes, options) for case in cases])


def batch_tensors(slice_set, index, device, dual):
    """(images (B,1,S,S) float32, label planes (B,L,S,S) uint8, has_second (B,) bool or None)."""
    images = torch.from_numpy(slice_set.images[index]).unsqueeze(1).to(device)
    planes = [slice_set.organs[index]] + ([slice_set.disagreement[index]] if dual else [])
    labels = torch.from_numpy(np.stack(planes, axis=1)).to(device)
    has_second = torch.from_numpy(slice_set.has_second[index]).to(device) if dual else None
    return images, labels, has_second


def batch_loss(net, images, labels, has_second, n_classes, options):
    with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=options.bf16):
        logits = net(training_augment.zscore_batch(images))
    return training_loss.aimos_dice_loss(
        logits.float(), labels[:, 0], n_classes, options.activation,
        disagreement=labels[:, 1] if options.dual_annotation else None, has_disagreement=has_second)


def train_epoch(net, optimizer, slice_set, n_classes, options, rng):
    """One pass over the shuffled training slices with augmentation; the mean batch loss."""
    net.train()
    order = rng.permutation(len(slice_set))
    losses = []
    for start in range(0, len(order), options.batch_size):
        index = np.sort(order[start:start + options.batch_size])
        images, labels, has_second = batch_tensors(slice_set, index, options.device, options.dual_annotation)
        if options.augment:
            augmentations = training_augment.draw_augmentations(rng, len(index))
            images, labels = training_augment.augment_batch(images, labels, augmentations)
        loss, _ = batch_loss(net, images, labels, has_second, n_classes, options)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def validation_loss(net, slice_set, n_classes, options):
    """Mean batch loss over the validation slices in their order, no augmentation."""
    net.eval()
    losses = []
    with torch.no_grad():
        for start in range(0, len(slice_set), options.batch_size):
            index = np.arange(start, min(start + options.batch_size, len(slice_set)))
            images, labels, has_second = batch_tensors(slice_set, index, options.device, options.dual_annotation)
            loss, _ = batch_loss(net, images, labels, has_second, n_classes, options)
            losses.append(loss.item())
    return float(np.mean(losses))


def initial_network(classes, options, pretrained=None):
    """A fresh AimosUNet (seeded by the caller), or the pretrained one with a new classifier."""
    channels = len(classes) + (1 if options.dual_annotation else 0)
    if pretrained:
        return training_model_file.network_from_pretrained(pretrained, options.architecture, channels)
    return reference.AimosUNet(options.architecture, channels)


def train(train_set, val_set, classes, options, pretrained=None, log=print, log_csv=None):
    """Trains for options.epochs and returns the network of the lowest validation loss (the
    training loss when there is no validation set)."""
    if len(train_set) == 0:
        raise ValueError("no training slice holds an organ")
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    net = initial_network(classes, options, pretrained).to(options.device)
    optimizer = torch.optim.Adam(net.parameters(), lr=options.learning_rate)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", patience=options.plateau_patience)
    has_validation = len(val_set) > 0
    best_loss, best_epoch, best_state, history = float("inf"), 0, None, []
    writer = None
    if log_csv:
        csv_file = open(log_csv, "w", newline="")
        writer = csv.writer(csv_file)
        writer.writerow(["epoch", "train_loss", "val_loss", "learning_rate", "best", "seconds"])
    training_started = time.time()
    try:
        for epoch in range(1, options.epochs + 1):
            started = time.time()
            rate = optimizer.param_groups[0]["lr"]
            train_loss = train_epoch(net, optimizer, train_set, len(classes), options, rng)
            val_loss = validation_loss(net, val_set, len(classes), options) if has_validation else float("nan")
            monitored = val_loss if has_validation else train_loss
            scheduler.step(monitored)
            improved = monitored < best_loss
            if improved:
                best_loss, best_epoch = monitored, epoch
                best_state = copy.deepcopy({k: v.detach().cpu() for k, v in net.state_dict().items()})
            seconds = time.time() - started
            history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                            "learning_rate": rate, "best": improved, "seconds": seconds})
            log(f"epoch {epoch}/{options.epochs}: train loss {train_loss:.4f}, validation loss "
                f"{val_loss:.4f}, lr {rate:.1e}{'  (best)' if improved else ''}, {seconds:.1f} s")
            if writer:
                writer.writerow([epoch, f"{train_loss:.6f}", f"{val_loss:.6f}", f"{rate:.3e}", int(improved), f"{seconds:.2f}"])
                csv_file.flush()
            # stop before an epoch that, as long as this one, would end past the limit
            if (options.time_limit_minutes is not None and epoch < options.epochs
                    and time.time() - training_started + seconds > 60 * options.time_limit_minutes):
                log(f"time limit of {options.time_limit_minutes:g} minutes: stopped after epoch {epoch}")
                break
    finally:
        if writer:
            csv_file.close()
    if best_state is None:
        raise ValueError("the loss was never finite: training diverged")
    net = net.cpu()
    net.load_state_dict(best_state)
    return TrainingResult(net.eval(), best_epoch, best_loss, history)


def train_from_datasets(data_dirs, options, out_path, val_subjects=None, test_subjects=None,
                        pretrained=None, dtype="F32", log=print, log_csv=None):
    """The whole training tool: read the datasets, split by subject, build the slices, train and
    export the best network to out_path. Returns (TrainingResult, class list, split)."""
    if options.voxel_size_mm is not None:
        check_voxel_size_mm(options.voxel_size_mm)  # refused before the hours of training, not after
    cases = training_data.read_datasets(data_dirs)
    train_cases, val_cases, test_cases = training_data.split_by_subject(cases, val_subjects, test_subjects, options.seed)
    split = {name: sorted({c.subject for c in group}) for name, group in
             (("train", train_cases), ("validation", val_cases), ("test", test_cases))}
    log(f"subjects: train {split['train']}, validation {split['validation']}, test (left out) {split['test']}")
    if not val_cases:
        log("warning: no validation subject; the best epoch is chosen by the training loss")
    if options.dual_annotation and not any(c.labels2_path for c in train_cases):
        raise ValueError("--dual-annotation needs training cases with a second annotation (labels2)")
    train_set, val_set, classes = build_slice_sets(train_cases, val_cases, options, log)
    log(f"{len(train_set)} training and {len(val_set)} validation slices; classes {classes}")
    result = train(train_set, val_set, classes, options, pretrained, log, log_csv)
    # the datasets are in the synthesis layout, so the slice axis fixes the slices' layout
    orientation = orientation_codes.slice_code(orientation_codes.SYNTHESIS, options.slice_axis)
    metadata = training_model_file.model_metadata(options.architecture, classes, options.input_size,
                                                  options.dual_annotation, options.slice_axis,
                                                  orientation=orientation, crop=options.crop,
                                                  voxel_size_mm=options.voxel_size_mm)
    info = {"seed": options.seed, "epochs": len(result.history), "batch_size": options.batch_size,
            "device": options.device, "bf16": options.bf16,
            "best_epoch": result.best_epoch, "best_loss": result.best_loss,
            "loss": f"soft-Dice ({options.activation})", "augment": options.augment,
            "max_slices_per_case": options.max_slices_per_case, "crop": options.crop,
            "data": [os.path.basename(os.path.normpath(d)) for d in data_dirs],
            "train_cases": [c.id for c in train_cases], "validation_cases": [c.id for c in val_cases],
            "subjects": split, "pretrained": os.path.basename(pretrained) if pretrained else None}
    training_model_file.export_model(out_path, result.net.state_dict(), metadata, dtype, info)
    log(f"wrote {out_path} (best epoch {result.best_epoch}, loss {result.best_loss:.4f})")
    return result, classes, split
