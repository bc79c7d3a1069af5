"""Tests of the training tool (aimos-train, aimostools/training*.py) on tiny synthetic
datasets written here, Unet64 at 32x32, CPU:

    python3 -m pytest -q Tools/tests/training/test_training.py
"""
import ctypes
import json
import os
import subprocess
import sys

import nibabel
import numpy as np
import pytest

import torch

TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO = os.path.dirname(TOOLS)
from aimostools.layout import body_crop
from aimostools.layout import orientation_codes
from aimostools.unet import reference
from aimostools.checkpoint import safetensors_io
from aimostools.training import procedure as training
from aimostools.training import augment as training_augment
from aimostools.training import data as training_data
from aimostools.training import loss as training_loss
from aimostools.training import model_file as training_model_file
from aimostools.cli import train as train_cli

torch.set_num_threads(1)
CLASSES = training_data.PROJECT_CLASSES
HEART, LIVER = CLASSES.index("Heart"), CLASSES.index("Liver")
SHAPE = (24, 20, 12)  # x, y, z


def toy_case(x_offset, seed, pad_x=0):
    """A scan with a heart and a liver block (distinct brightness) and its labels, (x, y, z);
    pad_x more voxels of background along x."""
    shape = (SHAPE[0] + pad_x,) + SHAPE[1:]
    labels = np.zeros(shape, np.uint8)
    labels[x_offset:x_offset + 8, 5:12, 3:9] = HEART
    labels[x_offset + 9:x_offset + 13, 5:15, 4:8] = LIVER
    noise = np.random.default_rng(seed).normal(0, 20, shape)
    scan = np.where(labels == HEART, 200.0, 0.0) + np.where(labels == LIVER, 500.0, 0.0) - 500.0 + noise
    return scan.astype(np.float32), labels


def write_toy_dataset(directory, subjects=("a", "b", "c"), scans_per_subject=2, second_annotation=False,
                      spacing=0.5, pad_x=0):
    """A dataset as aimos-synthesize writes it (dataset.json + NIfTIs), 0.5 mm voxels unless
    told otherwise."""
    os.makedirs(directory, exist_ok=True)
    affine = np.diag([spacing, spacing, spacing, 1.0])
    entries = []
    for k, subject in enumerate(subjects):
        for scan_index in range(scans_per_subject):
            case_id = f"{subject}_s{scan_index}"
            scan, labels = toy_case(3 + k + scan_index, seed=10 * k + scan_index, pad_x=pad_x)
            entry = {"id": case_id, "subject": subject, "source_map": "toy", "modality": "ct",
                     "seed": scan_index, "spacing_mm": [spacing] * 3,
                     "scan": f"{case_id}_scan.nii.gz", "labels": f"{case_id}_labels.nii.gz"}
            nibabel.save(nibabel.Nifti1Image(scan, affine), os.path.join(directory, entry["scan"]))
            nibabel.save(nibabel.Nifti1Image(labels, affine), os.path.join(directory, entry["labels"]))
            if second_annotation:
                labels2 = labels.copy()
                labels2[labels2 == HEART] = 0
                labels2[3 + k + scan_index:3 + k + scan_index + 8, 5:10, 3:9] = HEART  # a smaller heart
                labels2[18:21, 15:18, 2:4] = CLASSES.index("Bladder")  # seen by one annotator only
                entry["labels2"] = f"{case_id}_labels2.nii.gz"
                nibabel.save(nibabel.Nifti1Image(labels2, affine), os.path.join(directory, entry["labels2"]))
            entries.append(entry)
    with open(os.path.join(directory, "dataset.json"), "w") as f:
        json.dump({"classes": CLASSES, "cases": entries}, f)
    return directory


def tiny_options(**changes):
    values = dict(architecture="Unet64", input_size=32, epochs=2, batch_size=4, seed=3)
    values.update(changes)
    return training.TrainingOptions(**values)


@pytest.fixture(scope="module")
def toy_dataset(tmp_path_factory):
    return write_toy_dataset(str(tmp_path_factory.mktemp("toy")))


@pytest.fixture(scope="module")
def trained_by_cli(toy_dataset, tmp_path_factory):
    """One run of the command-line tool: (model path, log path, completed process)."""
    out = tmp_path_factory.mktemp("cli")
    model, log = str(out / "model.safetensors"), str(out / "log.csv")
    process = subprocess.run(
        [sys.executable, "-m", "aimostools.cli.train", "--data", toy_dataset, "--architecture", "Unet64",
         "--input-size", "32", "--epochs", "2", "--batch-size", "4", "--seed", "1", "--val-subjects", "b",
         "--test-subjects", "c", "--classes-present-only", "--max-slices-per-case", "4", "--threads", "1",
         "--device", "cpu", "--voxel-size-mm", "0.5", "--log", log, "--out", model],
        capture_output=True, text=True, timeout=300)
    return model, log, process


# --- slices ------------------------------------------------------------------------------

def test_organ_slices_are_exactly_the_slices_holding_organ_voxels():
    labels = np.zeros((6, 5, 4), np.uint8)  # (z, y, x)
    labels[1, 2, 3] = 4
    labels[4, 0:2, 0] = 2
    assert training_data.organ_slices(labels, 2).tolist() == [1, 4]   # along z
    assert training_data.organ_slices(labels, 1).tolist() == [0, 1, 2]  # along y
    assert training_data.organ_slices(labels, 0).tolist() == [0, 3]   # along x


def test_case_slices_skip_organ_free_slices_and_honour_the_limit(toy_dataset):
    case = training_data.read_dataset(toy_dataset)[0]
    _, labels_xyz = toy_case(3, 0)
    expected = int(np.count_nonzero(labels_xyz.any(axis=(0, 1))))  # z slices with an organ
    assert 0 < expected < SHAPE[2]
    images, organs, _, _, present = training.load_case_slices(case, CLASSES, tiny_options())
    assert len(images) == expected
    assert all(o.shape == (32, 32) and o.max() > 0 for o in organs)
    assert present == {0, HEART, LIVER}
    limited = training.load_case_slices(case, CLASSES, tiny_options(max_slices_per_case=2))[0]
    assert len(limited) == 2


def test_slice_layout_codes_follow_the_slices_cut():
    """slice_code against the slices reference.slice_view really cuts from a synthesis-layout
    volume: the stack (rows, columns, slice index) must be that volume re-laid out as the code."""
    volume_xyz = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    zyx = training_data.xyz_to_zyx(volume_xyz)
    codes = {}
    for axis in (0, 1, 2):
        count = zyx.shape[reference.volume_axis(axis)]
        stack = np.stack([reference.slice_view(zyx, axis, i) for i in range(count)], axis=2)
        codes[axis] = orientation_codes.slice_code(orientation_codes.SYNTHESIS, axis)
        relaid, _ = orientation_codes.to_layout(volume_xyz, orientation_codes.SYNTHESIS, codes[axis])
        assert np.array_equal(stack, relaid), axis
    assert codes == {2: "HLD", 1: "DLH", 0: "DHL"}


def test_body_crop_cuts_scan_and_labels_to_the_engines_box_before_slicing(tmp_path):
    data = write_toy_dataset(str(tmp_path / "wide"), subjects=("a",), scans_per_subject=1, spacing=2.0, pad_x=24)
    case = training_data.read_dataset(data)[0]
    scan_xyz, spacing = training_data.load_nifti_xyz(case.scan_path, np.float32)
    labels_xyz, _ = training_data.load_nifti_xyz(case.labels_path, np.uint8)
    lower, upper = body_crop.largest_box(scan_xyz, spacing)
    assert upper[0] - lower[0] < 0.5 * scan_xyz.shape[0]  # the air beside the body is cut away
    assert np.all(labels_xyz[:lower[0]] == 0) and np.all(labels_xyz[upper[0]:] == 0)  # no organ lost
    images, organs, _, _, _ = training.load_case_slices(case, CLASSES, tiny_options(crop="body", slice_axis=1))
    scan = training_data.xyz_to_zyx(body_crop.crop(scan_xyz, (lower, upper)))
    labels = training_data.xyz_to_zyx(body_crop.crop(labels_xyz, (lower, upper)))
    rows = training_data.organ_slices(labels, 1)
    assert len(images) == len(rows) > 0
    for image, organ, index in zip(images, organs, rows):
        assert np.array_equal(image, reference.resize_bilinear(reference.slice_view(scan, 1, index), 32))
        assert np.array_equal(organ, training.resize_labels(reference.slice_view(labels, 1, index), 32))
    uncropped = training.load_case_slices(case, CLASSES, tiny_options(slice_axis=1))[0]
    assert not np.array_equal(uncropped[0], images[0])


def test_body_crop_training_writes_orientation_and_crop(tmp_path):
    data = write_toy_dataset(str(tmp_path / "crop"), subjects=("a", "b"), scans_per_subject=1, spacing=2.0, pad_x=24)
    out = str(tmp_path / "crop.safetensors")
    training.train_from_datasets([data], tiny_options(epochs=1, crop="body", slice_axis=1), out,
                                 val_subjects=["b"], log=lambda m: None)
    _, metadata = training_model_file.read_model(out)
    assert metadata["orientation"] == "DLH" and metadata["crop"] == "body" and metadata["slice_axis"] == 1


# --- augmentation ------------------------------------------------------------------------

def block_label_map(size=64):
    """Three blocks, kept off the image border (where the image blends with the fill)."""
    labels = np.zeros((size, size), np.float32)
    labels[10:40, 12:30] = 1
    labels[20:50, 35:54] = 2
    labels[42:53, 9:22] = 3
    return labels


def test_augmentation_moves_image_and_labels_together():
    labels = torch.from_numpy(block_label_map())[None, None].repeat(24, 1, 1, 1)
    image = labels.clone()  # an image equal to its label map must stay equal, edges aside
    rng = np.random.default_rng(5)
    augmentations = [training_augment.Augmentation(
        angle_deg=float(rng.uniform(-10, 10)), top=0.05, left=0.08, height=0.9, width=0.92) for _ in range(24)]
    new_image, new_labels = training_augment.augment_batch(image, labels.to(torch.uint8), augmentations)
    assert not torch.equal(new_labels.float(), labels)  # something moved
    for b in range(24):
        lab = new_labels[b, 0].numpy().astype(int)
        img = np.rint(new_image[b, 0].numpy()).astype(int)
        mismatch = img != lab
        # an edge pixel has a neighbour of another label; mismatches may only sit there
        padded = np.pad(lab, 1, mode="edge")
        neighbours = [padded[1 + dy:1 + dy + 64, 1 + dx:1 + dx + 64] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
        on_edge = np.any([n != lab for n in neighbours], axis=0)
        assert not np.any(mismatch & ~on_edge)
        assert mismatch.mean() < 0.06  # label edges are about 13 % of this map


def test_crop_samples_the_box_it_draws():
    size = 40
    columns = torch.arange(size, dtype=torch.float32).repeat(size, 1)[None, None]
    crop = training_augment.Augmentation(top=0.1, left=0.15, height=0.85, width=0.8)
    out, _ = training_augment.augment_batch(columns, torch.zeros(1, 1, size, size, dtype=torch.uint8), [crop])
    expected = (0.15 + (np.arange(size) + 0.5) / size * 0.8) * size - 0.5  # source column of each output column
    np.testing.assert_allclose(out[0, 0, 5].numpy(), expected, atol=1e-4)


def test_drawn_augmentations_stay_within_the_paper_ranges():
    rng = np.random.default_rng(0)
    draws = training_augment.draw_augmentations(rng, 2000)
    areas = np.array([a.crop_area for a in draws])
    angles = np.array([a.angle_deg for a in draws])
    cropped = areas < 1.0
    assert np.all((areas >= 0.8 - 1e-12) & (areas <= 1.0))
    assert all(a.top >= 0 and a.left >= 0 and a.top + a.height <= 1 + 1e-12 and a.left + a.width <= 1 + 1e-12
               for a in draws)
    assert np.all(np.abs(angles) <= 10.0)
    assert 0.4 < cropped.mean() < 0.6 and 0.4 < (angles != 0).mean() < 0.6  # each with probability 1/2
    assert areas[cropped].min() < 0.82 and areas[cropped].max() > 0.98
    assert angles.min() < -9.5 and angles.max() > 9.5


def test_zscore_uses_the_unbiased_std_and_zeroes_flat_slices():
    images = torch.stack([torch.arange(16.0).reshape(1, 4, 4), torch.full((1, 4, 4), 7.0)])
    z = training_augment.zscore_batch(images)
    values = np.arange(16.0)
    np.testing.assert_allclose(z[0, 0].numpy().ravel(), (values - values.mean()) / values.std(ddof=1), rtol=1e-6)
    assert torch.count_nonzero(z[1]) == 0


# --- loss --------------------------------------------------------------------------------

def one_hot_logits(target, n_classes, scale=30.0):
    hot = torch.nn.functional.one_hot(target, n_classes).permute(0, 3, 1, 2).float()
    return scale * (2 * hot - 1)


def test_soft_dice_loss_is_zero_when_perfect_and_near_one_when_disjoint():
    target = torch.zeros(2, 8, 8, dtype=torch.long)
    target[:, 2:5, 2:5] = 1
    target[:, 5:8, 0:3] = 2
    for activation in ("softmax", "sigmoid"):
        perfect, _ = training_loss.aimos_dice_loss(one_hot_logits(target, 3), target, 3, activation)
        assert perfect.item() < 1e-6
        disjoint, _ = training_loss.aimos_dice_loss(one_hot_logits((target + 1) % 3, 3), target, 3, activation)
        assert disjoint.item() > 0.999


def test_loss_of_an_absent_class_is_a_constant_as_in_the_published_loss():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[:, 2:5, 2:5] = 1  # class 2 absent from the batch
    loss, dice = training_loss.aimos_dice_loss(one_hot_logits(target, 3), target, 3)
    assert abs(loss.item() - 1 / 3) < 1e-5 and dice[2].item() == 0.0


def test_uncertainty_channel_joins_the_dice_mean_only_with_a_second_annotation():
    target = torch.zeros(2, 8, 8, dtype=torch.long)
    target[:, 1:4, 1:4] = 1
    disagreement = torch.zeros(2, 8, 8, dtype=torch.uint8)
    disagreement[:, 4:6, 4:6] = 1
    logits = torch.cat([one_hot_logits(target, 2), 30.0 * (2 * disagreement[:, None].float() - 1)], dim=1)
    both = torch.tensor([True, True])
    loss, dice = training_loss.aimos_dice_loss(logits, target, 2, disagreement=disagreement, has_disagreement=both)
    assert len(dice) == 3 and loss.item() < 1e-6
    wrong = logits.clone()
    wrong[:, 2] = -wrong[:, 2]
    loss, _ = training_loss.aimos_dice_loss(wrong, target, 2, disagreement=disagreement, has_disagreement=both)
    assert abs(loss.item() - 1 / 3) < 1e-3  # the uncertainty term alone is wrong
    loss, dice = training_loss.aimos_dice_loss(wrong, target, 2, disagreement=disagreement,
                                               has_disagreement=torch.tensor([False, False]))
    assert len(dice) == 2 and loss.item() < 1e-6


# --- training ----------------------------------------------------------------------------

def learnable_slice_set(count=8, size=32, seed=0):
    """Bright squares that are the organ: trivially learnable."""
    rng = np.random.default_rng(seed)
    images = rng.normal(0, 0.1, (count, size, size)).astype(np.float32)
    organs = np.zeros((count, size, size), np.uint8)
    for i in range(count):
        r, c = rng.integers(2, size - 14, 2)
        organs[i, r:r + 12, c:c + 12] = 1
        images[i][organs[i] == 1] += 1.0
    return training.SliceSet(images, organs, case_ids=["toy"] * count)


def test_loss_falls_on_a_learnable_task():
    slices = learnable_slice_set()
    result = training.train(slices, slices, ["background", "Heart"],
                            tiny_options(epochs=6, augment=False, plateau_patience=100), log=lambda m: None)
    losses = [h["val_loss"] for h in result.history]
    train_losses = [h["train_loss"] for h in result.history]
    assert train_losses[-1] < 0.6 * train_losses[0]
    assert result.best_loss == min(losses) and losses[result.best_epoch - 1] == result.best_loss


def test_training_is_deterministic_on_cpu():
    slices = learnable_slice_set()
    runs = [training.train(slices, slices, ["background", "Heart"], tiny_options(epochs=2), log=lambda m: None)
            for _ in range(2)]
    assert [h["train_loss"] for h in runs[0].history] == [h["train_loss"] for h in runs[1].history]
    for name, value in runs[0].net.state_dict().items():
        assert torch.equal(value, runs[1].net.state_dict()[name]), name


def test_time_limit_stops_before_an_epoch_that_would_end_past_it():
    slices = learnable_slice_set()
    logged = []
    result = training.train(slices, slices, ["background", "Heart"],
                            tiny_options(epochs=5, time_limit_minutes=1e-6), log=logged.append)
    assert len(result.history) == 1 and result.best_epoch == 1
    assert any("stopped after epoch 1" in line for line in logged)
    generous = training.train(slices, slices, ["background", "Heart"],
                              tiny_options(epochs=3, time_limit_minutes=60), log=lambda m: None)
    assert len(generous.history) == 3


def test_bf16_forward_trains_and_differs_from_float32_only_by_rounding():
    slices = learnable_slice_set()
    net = training.initial_network(["background", "Heart"], tiny_options()).eval()
    images, labels, _ = training.batch_tensors(slices, np.arange(4), "cpu", False)
    with torch.no_grad():
        exact = training.batch_loss(net, images, labels, None, 2, tiny_options())[0]
        rounded = training.batch_loss(net, images, labels, None, 2, tiny_options(bf16=True))[0]
    assert exact.dtype == rounded.dtype == torch.float32
    assert exact != rounded and abs(float(exact - rounded)) < 0.05
    result = training.train(slices, slices, ["background", "Heart"],
                            tiny_options(epochs=6, augment=False, plateau_patience=100, bf16=True), log=lambda m: None)
    losses = [h["train_loss"] for h in result.history]
    assert np.isfinite(losses).all() and losses[-1] < 0.6 * losses[0]


def test_slices_read_by_several_processes_equal_those_read_by_one(toy_dataset):
    cases = training_data.read_dataset(toy_dataset)
    one = training.build_slice_sets(cases[:4], cases[4:], tiny_options(), log=lambda m: None)
    several = training.build_slice_sets(cases[:4], cases[4:], tiny_options(workers=3), log=lambda m: None)
    assert one[2] == several[2]
    for mine, theirs in zip(one[:2], several[:2]):
        assert len(mine) > 0 and mine.case_ids == theirs.case_ids
        assert np.array_equal(mine.images, theirs.images) and np.array_equal(mine.organs, theirs.organs)


def test_export_keeps_metadata_shapes_batchnorm_and_logits(tmp_path):
    slices = learnable_slice_set()
    classes = ["background", "Heart"]
    result = training.train(slices, slices, classes, tiny_options(epochs=1), log=lambda m: None)
    path = str(tmp_path / "model.safetensors")
    metadata = training_model_file.model_metadata("Unet64", classes, 32, False, 2)
    training_model_file.export_model(path, result.net.state_dict(), metadata, training_info={"seed": 3})
    tensors, entries = safetensors_io.read(path)
    assert json.loads(entries["aimos"]) == {"architecture": "Unet64", "classes": classes, "input_size": 32,
                                            "uncertainty": False, "ensemble_members": 1, "slice_axis": 2}
    with_layout = training_model_file.model_metadata("Unet64", classes, 32, False, 0, orientation="dhl", crop="body")
    assert with_layout["orientation"] == "DHL" and with_layout["crop"] == "body"
    expected = {n: tuple(v.shape) for n, v in reference.AimosUNet("Unet64", 2).state_dict().items()
                if not n.endswith("num_batches_tracked")}
    assert {n: tuple(v.shape) for n, v in tensors.items()} == expected
    assert all(v.dtype == np.float32 for v in tensors.values())
    trained_mean = result.net.state_dict()["down1.encode.0.bn.running_mean"].numpy()
    assert np.any(trained_mean != 0) and np.array_equal(tensors["down1.encode.0.bn.running_mean"], trained_mean)
    nets, loaded_metadata = training_model_file.load_networks(path)
    x = torch.from_numpy(training_augment.zscore_batch(torch.from_numpy(slices.images[:3]).unsqueeze(1)).numpy())
    with torch.no_grad():
        assert torch.equal(nets[0](x), result.net(x))
    half = str(tmp_path / "half.safetensors")
    training_model_file.export_model(half, result.net.state_dict(), metadata, dtype="F16")
    half_tensors, _ = safetensors_io.read(half)
    assert all(v.dtype == np.float16 for v in half_tensors.values())
    assert os.path.getsize(half) < 0.6 * os.path.getsize(path)


def test_pretrained_start_replaces_only_the_classifier(tmp_path):
    torch.manual_seed(0)
    old = reference.AimosUNet("Unet64", 11)
    for module in old.modules():  # non-default BatchNorm statistics, so they are seen to travel
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
    path = str(tmp_path / "pretrained.safetensors")
    training_model_file.export_model(path, old.state_dict(),
                                     training_model_file.model_metadata("Unet64", CLASSES, 32, False, 2))
    new_classes = ["background", "Heart", "Liver"]
    torch.manual_seed(1)
    net = training.initial_network(new_classes, tiny_options(dual_annotation=True), pretrained=path)
    old_state, new_state = old.state_dict(), net.state_dict()
    assert new_state["classify.weight"].shape == (4, 32, 1, 1) and new_state["classify.bias"].shape == (4,)
    for name, value in new_state.items():
        if name.startswith("classify.") or name.endswith("num_batches_tracked"):
            continue
        assert torch.equal(value, old_state[name]), name
    with pytest.raises(ValueError):
        training_model_file.network_from_pretrained(path, "Unet128", 3)


# --- dual annotation and splits ----------------------------------------------------------

def test_dual_annotation_targets_on_a_hand_made_pair():
    first = np.array([[0, 1, 1, 2],
                      [0, 1, 2, 2],
                      [3, 3, 0, 0]], np.uint8)
    second = np.array([[0, 1, 0, 2],
                       [1, 1, 2, 3],
                       [3, 3, 0, 2]], np.uint8)
    agreement, disagreement = training_data.dual_annotation_targets(first, second)
    np.testing.assert_array_equal(agreement, [[0, 1, 0, 2],
                                              [0, 1, 2, 0],
                                              [3, 3, 0, 0]])
    np.testing.assert_array_equal(disagreement, [[0, 0, 1, 0],
                                                 [1, 0, 0, 1],
                                                 [0, 0, 0, 1]])


def test_dual_annotation_training_exports_an_uncertainty_model(tmp_path):
    data = write_toy_dataset(str(tmp_path / "dual"), subjects=("a", "b"), scans_per_subject=1,
                             second_annotation=True)
    out = str(tmp_path / "dual.safetensors")
    result, classes, _ = training.train_from_datasets(
        [data], tiny_options(epochs=1, dual_annotation=True, classes_present_only=True), out,
        val_subjects=["b"], log=lambda m: None)
    _, metadata = training_model_file.read_model(out)
    # Bladder, marked by one annotator only, is no agreed organ and so no class of the model
    assert metadata["uncertainty"] is True and metadata["classes"] == ["background", "Heart", "Liver"]
    assert result.net.classify.weight.shape[0] == 4
    case = training_data.read_dataset(data)[0]
    _, organs, disagreements, has_second, _ = training.load_case_slices(
        case, CLASSES, tiny_options(dual_annotation=True))
    assert has_second and any(d.any() for d in disagreements)
    for organ, disagreement in zip(organs, disagreements):
        assert not np.any((organ == HEART) & (disagreement == 1))  # disputed voxels are no organ


def test_split_is_by_subject_and_keeps_the_test_subjects_out():
    cases = [training_data.Case(f"{s}_{i}", s, "ct", "", "", None, CLASSES, (1, 1, 1))
             for s in ("m1", "m2", "m3", "m4") for i in range(3)]
    for seed in range(6):
        train, val, test = training_data.split_by_subject(cases, None, ["m4"], seed)
        train_subjects, val_subjects = {c.subject for c in train}, {c.subject for c in val}
        assert len(val_subjects) == 1 and not train_subjects & val_subjects
        assert {c.subject for c in test} == {"m4"} and "m4" not in train_subjects | val_subjects
        assert len(train) + len(val) + len(test) == len(cases)
    train, val, _ = training_data.split_by_subject(cases, ["m2", "m3"], None, 0)
    assert {c.subject for c in val} == {"m2", "m3"} and {c.subject for c in train} == {"m1", "m4"}
    with pytest.raises(ValueError):
        training_data.split_by_subject(cases, ["m9"], None, 0)
    with pytest.raises(ValueError):
        training_data.split_by_subject(cases, ["m1"], ["m1"], 0)


# --- the command-line tool ---------------------------------------------------------------

def test_cli_trains_logs_and_exports(trained_by_cli):
    model, log, process = trained_by_cli
    assert process.returncode == 0, process.stderr
    assert "train ['a'], validation ['b'], test (left out) ['c']" in process.stdout
    _, entries = safetensors_io.read(model)
    metadata = json.loads(entries["aimos"])
    assert metadata["classes"] == ["background", "Heart", "Liver"]  # --classes-present-only
    assert metadata["architecture"] == "Unet64" and metadata["input_size"] == 32
    # slice axis 2 of the synthesis layout (x left, y head, z back): rows y, columns x, slices z
    assert metadata["orientation"] == "HLD" and metadata["crop"] == "none"
    assert metadata["voxel_size_mm"] == 0.5
    info = json.loads(entries["aimos_training"])
    assert info["train_cases"] == ["a_s0", "a_s1"] and info["validation_cases"] == ["b_s0", "b_s1"]
    assert info["epochs"] == 2 and info["device"] == "cpu" and info["bf16"] is False
    with open(log) as f:
        rows = f.read().strip().splitlines()
    assert rows[0].startswith("epoch,train_loss,val_loss") and len(rows) == 3


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "0.25mm"])
def test_cli_refuses_a_bad_voxel_size_before_reading_anything(value, capsys):
    with pytest.raises(SystemExit) as exit_status:
        train_cli.parse_arguments(["--data", "unused", "--voxel-size-mm", value, "--out", "unused.safetensors"])
    assert exit_status.value.code == 2 and "--voxel-size-mm" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-2", "nan", "soon"])
def test_cli_refuses_a_time_limit_that_is_not_positive(value, capsys):
    with pytest.raises(SystemExit) as exit_status:
        train_cli.parse_arguments(["--data", "unused", "--time-limit-minutes", value, "--out", "unused.safetensors"])
    assert exit_status.value.code == 2 and "--time-limit-minutes" in capsys.readouterr().err


def test_voxel_size_is_recorded_when_given_and_checked_before_training(tmp_path):
    classes = ["background", "Heart"]
    assert "voxel_size_mm" not in training_model_file.model_metadata("Unet64", classes, 32, False, 2)
    given = training_model_file.model_metadata("Unet64", classes, 32, False, 2, voxel_size_mm=0.25)
    assert given["voxel_size_mm"] == 0.25
    # refused up front: the missing dataset is never reached
    with pytest.raises(ValueError, match="voxel size 0 must be"):
        training.train_from_datasets([str(tmp_path / "no-such-dataset")], tiny_options(voxel_size_mm=0),
                                     str(tmp_path / "x.safetensors"), log=lambda m: None)
    assert not os.path.exists(tmp_path / "x.safetensors")


def test_cli_refuses_a_validation_subject_that_is_also_a_test_subject(toy_dataset, tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "aimostools.cli.train", "--data", toy_dataset, "--architecture", "Unet64",
         "--input-size", "32", "--epochs", "1", "--val-subjects", "b", "--test-subjects", "b",
         "--out", str(tmp_path / "x.safetensors")], capture_output=True, text=True, timeout=120)
    assert process.returncode == 2 and "both in validation and test" in process.stderr
    assert not os.path.exists(tmp_path / "x.safetensors")


def aimos_library():
    directory = os.environ.get("AIMOS_LIBRARY_DIR") or os.path.join(REPO, ".build", "release")
    path = os.path.join(directory, "libaimos.so")
    return path if os.path.exists(path) else None


class AimosVolume(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int), ("dims", ctypes.c_int64 * 3),
                ("spacing_mm", ctypes.c_double * 3)]


class AimosOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("slice_axis", ctypes.c_int32), ("threads", ctypes.c_int32),
                ("keep_probabilities", ctypes.c_int32), ("progress", ctypes.c_void_p), ("user_data", ctypes.c_void_p)]


def test_the_aimos_engine_segments_with_the_exported_model_like_the_reference(trained_by_cli, toy_dataset):
    path = aimos_library()
    if path is None:
        pytest.skip("libaimos.so not found: set AIMOS_LIBRARY_DIR or run swift build -c release")
    model_path, _, process = trained_by_cli
    assert process.returncode == 0, process.stderr
    lib = ctypes.CDLL(path)
    lib.aimos_last_error.restype = ctypes.c_char_p
    lib.aimos_load_model.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.aimos_segment_volume.argtypes = [ctypes.c_void_p, ctypes.POINTER(AimosVolume),
                                         ctypes.POINTER(AimosOptions), ctypes.POINTER(ctypes.c_void_p)]
    lib.aimos_options_init.argtypes = [ctypes.POINTER(AimosOptions)]
    lib.aimos_result_labels.argtypes = [ctypes.c_void_p]
    lib.aimos_result_labels.restype = ctypes.POINTER(ctypes.c_uint8)
    lib.aimos_free.argtypes = [ctypes.c_void_p]
    model = ctypes.c_void_p()
    assert lib.aimos_load_model(model_path.encode(), ctypes.byref(model)) == 0, lib.aimos_last_error()
    case = training_data.read_dataset(toy_dataset)[4]  # a test-subject case
    scan, _ = training_data.load_nifti_xyz(case.scan_path, np.float32)
    voxels = np.asfortranarray(scan)  # x fastest, as the C ABI wants
    volume = AimosVolume(voxels.ctypes.data, 5, (ctypes.c_int64 * 3)(*scan.shape), (ctypes.c_double * 3)(0.5, 0.5, 0.5))
    options = AimosOptions()
    lib.aimos_options_init(ctypes.byref(options))
    options.threads = 1
    result = ctypes.c_void_p()
    try:
        assert lib.aimos_segment_volume(model, ctypes.byref(volume), ctypes.byref(options),
                                        ctypes.byref(result)) == 0, lib.aimos_last_error()
        flat = np.ctypeslib.as_array(lib.aimos_result_labels(result), (scan.size,))
        engine = flat.reshape(scan.shape[::-1]).transpose(2, 1, 0).copy()
    finally:
        lib.aimos_free(result)
        lib.aimos_free(model)
    nets, metadata = training_model_file.load_networks(model_path)
    expected = reference.segment(training_data.xyz_to_zyx(scan), nets, metadata["classes"], 32, 2, False)[0]
    mismatch = np.count_nonzero(engine != expected.transpose(2, 1, 0))
    assert mismatch <= 0.001 * scan.size, f"{mismatch} of {scan.size} labels differ"


def test_body_crop_gives_every_animal_its_own_crop(tmp_path):
    """A scan with two animals (synthesis --extra-animals) trains on both, one crop each, as the
    engine segments each in its own box."""
    directory = str(tmp_path / "two")
    os.makedirs(directory)
    spacing = 2.0
    scan, labels = toy_case(3, seed=1, pad_x=60)
    second_scan, second_labels = toy_case(3, seed=2)
    scan[55:55 + second_scan.shape[0]] = second_scan          # the second animal beside the first
    labels[55:55 + second_labels.shape[0]] = second_labels
    affine = np.diag([spacing, spacing, spacing, 1.0])
    nibabel.save(nibabel.Nifti1Image(scan, affine), os.path.join(directory, "two_scan.nii.gz"))
    nibabel.save(nibabel.Nifti1Image(labels, affine), os.path.join(directory, "two_labels.nii.gz"))
    with open(os.path.join(directory, "dataset.json"), "w") as f:
        json.dump({"classes": CLASSES, "cases": [{"id": "two", "subject": "a", "scan": "two_scan.nii.gz",
                                                  "labels": "two_labels.nii.gz", "spacing_mm": [spacing] * 3}]}, f)
    case = training_data.read_dataset(directory)[0]
    boxes = body_crop.animal_boxes(scan, [spacing] * 3)
    assert len(boxes) == 2 and boxes[0][1][0] <= boxes[1][0][0]
    images = training.load_case_slices(case, CLASSES, tiny_options(crop="body", slice_axis=1))[0]
    per_box = [len(training_data.organ_slices(training_data.xyz_to_zyx(body_crop.crop(labels, box)), 1)) for box in boxes]
    assert len(images) == sum(per_box) and min(per_box) > 0
    limited = training.load_case_slices(case, CLASSES, tiny_options(crop="body", slice_axis=1, max_slices_per_case=2))[0]
    assert len(limited) == 4      # the limit holds per crop


def test_only_classes_keeps_the_named_organs(toy_dataset):
    cases = training_data.read_dataset(toy_dataset)
    options = tiny_options(only_classes=["Heart"])
    train_set, _, classes = training.build_slice_sets(cases[:2], [], options, log=lambda m: None)
    assert classes == ["background", "Heart"]
    assert set(np.unique(train_set.organs).tolist()) == {0, 1}
    with pytest.raises(ValueError, match="Spleenish"):
        training.build_slice_sets(cases[:2], [], tiny_options(only_classes=["Spleenish"]), log=lambda m: None)
