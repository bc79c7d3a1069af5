"""Tests of the torch-free checkpoint reader (aimostools/checkpoint*.py) and of
convert_checkpoint.py, on small checkpoints written by PyTorch (make_checkpoint_fixtures.py)
and on files crafted here, hostile ones included.

    python3 -m pytest -q Tools/tests/checkpoint/test_convert_checkpoint.py
"""
import collections
import ctypes
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[2]
from aimostools.checkpoint import safetensors_io
from aimostools.unet import test_weights
from aimostools.checkpoint.torch_file import CheckpointError, load, load_state_dict
from aimostools.checkpoint.architecture import WIDTHS, aimos_metadata, expected_shapes, guess_architecture
from aimostools.checkpoint.class_ids import load_class_names
from aimostools.checkpoint.convert import ConversionError, convert

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "checkpoints"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
CLASSES = ["background", "Brain", "Heart"]
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C


def expected_state(float_dtype=np.float32):
    """name -> array the Unet64 fixtures hold: the test_weights formula, as PyTorch saved it."""
    state = collections.OrderedDict()
    for name, dtype, shape in MANIFEST["state_dict"]:
        if dtype == "int64":
            state[name] = np.array(MANIFEST["num_batches_tracked"], dtype=np.int64)
        else:
            state[name] = test_weights.tensor(name, tuple(shape)).astype(float_dtype)
    return state


def assert_same_arrays(actual, expected):
    assert list(actual) == list(expected)
    for name, value in expected.items():
        assert actual[name].dtype == value.dtype, name
        assert actual[name].shape == value.shape, name
        assert np.array_equal(actual[name], value), name


def run_converter(*args):
    """Runs aimos-convert in a fresh interpreter in which `import torch` fails."""
    blocker = ("import runpy, sys; sys.modules['torch'] = None; sys.argv = ['aimos-convert'] + sys.argv[1:]; "
               "runpy.run_module('aimostools.cli.convert_checkpoint', run_name='__main__', alter_sys=True)")
    return subprocess.run([sys.executable, "-c", blocker, *map(str, args)],
                          capture_output=True, text=True, timeout=120)


# --- torch.save files written here, byte by byte, without PyTorch --------------------------

class TorchPickle:
    """Emits the protocol-2 pickle opcodes that torch.save writes for a dict of tensors."""

    def __init__(self, legacy):
        self.legacy = legacy
        self.out = bytearray(b"\x80\x02")

    def text(self, value):
        data = value.encode()
        self.out += b"X" + struct.pack("<I", len(data)) + data

    def integer(self, value):
        self.out += b"J" + struct.pack("<i", value)

    def global_(self, module, name):
        self.out += f"c{module}\n{name}\n".encode()

    def int_tuple(self, values):
        self.out += b"("
        for v in values:
            self.integer(v)
        self.out += b"t"

    def tensor(self, storage_type, key, numel, offset, size, stride, view=None):
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.out += b"(("  # the arguments tuple, then the persistent id tuple
        self.text("storage")
        self.global_("torch", storage_type)
        self.text(key)
        self.text("cpu")
        self.integer(numel)
        if self.legacy:
            if view is None:
                self.out += b"N"
            else:
                self.out += b"("
                self.text(view[0])
                self.integer(view[1])
                self.integer(view[2])
                self.out += b"t"
        self.out += b"tQ"  # TUPLE, BINPERSID
        self.integer(offset)
        self.int_tuple(size)
        self.int_tuple(stride)
        self.out += b"\x89"  # requires_grad False
        self.global_("collections", "OrderedDict")
        self.out += b")RtR"  # OrderedDict(), then _rebuild_tensor_v2(*args)

    def state_dict(self, entries):
        """entries: name -> (storage_type, key, numel, offset, size, stride[, view])."""
        self.out += b"}("
        for name, spec in entries.items():
            self.text(name)
            self.tensor(*spec)
        self.out += b"u."
        return bytes(self.out)


STORAGE_TYPE_OF = {np.dtype(np.float32): "FloatStorage", np.dtype(np.float16): "HalfStorage",
                   np.dtype(np.float64): "DoubleStorage", np.dtype(np.int64): "LongStorage"}


def write_zip_checkpoint(path, object_pickle, storages, prefix="archive"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{prefix}/data.pkl", object_pickle)
        archive.writestr(f"{prefix}/byteorder", "little")
        for key, data in storages.items():
            archive.writestr(f"{prefix}/data/{key}", data)
        archive.writestr(f"{prefix}/version", "3\n")


def write_legacy_checkpoint(path, object_pickle, storages, sys_info_pickle=None):
    """storages: key -> (element size, raw bytes), in the order of the key list."""
    header = (pickle.dumps(LEGACY_MAGIC_NUMBER, protocol=2) + pickle.dumps(1001, protocol=2)
              + (sys_info_pickle or pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)))
    with open(path, "wb") as f:
        f.write(header + object_pickle + pickle.dumps(list(storages), protocol=2))
        for itemsize, data in storages.values():
            f.write(struct.pack("<q", len(data) // itemsize) + data)


def save_arrays(path, arrays, legacy=False):
    """A torch.save-like checkpoint of contiguous numpy arrays (one storage each)."""
    entries, storages = {}, {}
    for index, (name, array) in enumerate(arrays.items()):
        array = np.ascontiguousarray(array)
        strides = tuple(s // array.itemsize for s in array.strides)
        entries[name] = (STORAGE_TYPE_OF[array.dtype], str(index), array.size, 0, array.shape, strides)
        storages[str(index)] = (array.itemsize, array.tobytes())
    object_pickle = TorchPickle(legacy).state_dict(entries)
    if legacy:
        write_legacy_checkpoint(path, object_pickle, storages)
    else:
        write_zip_checkpoint(path, object_pickle, {k: v[1] for k, v in storages.items()})


# --- the reader --------------------------------------------------------------------------

def test_architecture_shapes_match_pytorch_for_every_unet():
    assert set(MANIFEST["architectures"]) == set(WIDTHS)
    for architecture, pytorch_shapes in MANIFEST["architectures"].items():
        expected = {k: tuple(v) for k, v in pytorch_shapes.items() if not k.endswith("num_batches_tracked")}
        assert dict(expected_shapes(architecture, 3)) == expected, architecture
        assert guess_architecture(expected) == architecture


@pytest.mark.parametrize("fixture", ["unet64_zip.pt", "unet64_legacy.pt", "unet64_dataparallel.pt"])
def test_both_formats_give_exactly_the_saved_tensors(fixture):
    assert_same_arrays(load_state_dict(FIXTURES / fixture), expected_state())


def test_dataparallel_names_lose_their_module_prefix():
    raw = load(FIXTURES / "unet64_dataparallel.pt")
    assert all(name.startswith("module.") for name in raw)
    assert list(load_state_dict(FIXTURES / "unet64_dataparallel.pt")) == [n for n, _, _ in MANIFEST["state_dict"]]


def test_float16_checkpoint_keeps_float16_values():
    assert_same_arrays(load_state_dict(FIXTURES / "unet64_fp16.pt"), expected_state(np.float16))


@pytest.mark.parametrize("fixture", ["unet64_zip.pt", "unet64_legacy.pt"])
def test_aimos_checkpoint_fields_besides_the_weights(fixture):
    checkpoint = load(FIXTURES / fixture)
    assert list(checkpoint) == ["epoch", "model_state_dict", "trainLoss", "valLoss"]
    assert (checkpoint["epoch"], checkpoint["trainLoss"], checkpoint["valLoss"]) == (30, 0.1234, 0.2345)


@pytest.mark.parametrize("fixture", ["views.pt", "views_legacy.pt"])
def test_strided_offset_shared_and_typed_tensors(fixture):
    loaded = load(FIXTURES / fixture)
    expected = np.load(FIXTURES / "views_expected.npz")
    tensors = loaded["tensors"]
    assert set(tensors) == {k for k in expected.files if not k.startswith("optimizer.")}
    for name, value in tensors.items():
        assert value.dtype == expected[name].dtype, name
        assert value.shape == expected[name].shape, name
        assert np.array_equal(value, expected[name]), name
    assert tensors["bfloat16"].dtype == np.float32  # bfloat16 comes back as float32
    adam = loaded["optimizer_state_dict"]
    for key in ("exp_avg", "exp_avg_sq", "step"):
        assert np.array_equal(adam["state"][0][key], expected[f"optimizer.state.0.{key}"])
    assert adam["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["dice"] == 0.875 and isinstance(loaded["dice"], np.float64)
    assert loaded["size"] == (2, 3)
    assert loaded["nested"] == [1, (2.5, None), {"flag": True, "text": "x"}]


def test_zip_archive_name_may_be_anything(tmp_path):
    renamed = tmp_path / "NACTmodel.pt"
    with zipfile.ZipFile(FIXTURES / "unet64_zip.pt") as source, zipfile.ZipFile(renamed, "w") as target:
        for name in source.namelist():
            target.writestr("NACTmodel/" + name.split("/", 1)[1], source.read(name))
    assert_same_arrays(load_state_dict(renamed), expected_state())


@pytest.mark.parametrize("legacy", [False, True])
def test_handmade_storage_offsets_strides_and_views(tmp_path, legacy):
    data = np.arange(12, dtype=np.float32) * 1.5
    view = ("view", 2, 8) if legacy else None  # legacy storage view: elements 2..9 of the root
    first = 2 if legacy else 0
    entries = {"matrix_t": ("FloatStorage", "root", 12, 1, (3, 2), (1, 4), view),
               "tail": ("FloatStorage", "root", 12, 5, (3,), (1,), view)}
    if not legacy:
        entries = {k: v[:6] for k, v in entries.items()}
    path = tmp_path / "views.pt"
    object_pickle = TorchPickle(legacy).state_dict(entries)
    if legacy:
        write_legacy_checkpoint(path, object_pickle, {"root": (4, data.tobytes())})
    else:
        write_zip_checkpoint(path, object_pickle, {"root": data.tobytes()})
    state = load_state_dict(path)
    base = data[first:]
    assert np.array_equal(state["matrix_t"], np.lib.stride_tricks.as_strided(base[1:], (3, 2), (4, 16)))
    assert np.array_equal(state["tail"], base[5:8])


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("size, stride, offset", [
    ((9,), (1,), 0), ((2,), (1,), 7), ((4, 4), (4, 1), 0), ((2, 2), (-1, 1), 3), ((2,), (1,), -1)])
def test_tensor_outside_its_storage_is_refused(tmp_path, legacy, size, stride, offset):
    path = tmp_path / "bad.pt"
    spec = ("FloatStorage", "0", 8, offset, size, stride) + ((None,) if legacy else ())
    object_pickle = TorchPickle(legacy).state_dict({"w": spec})
    data = np.zeros(8, np.float32).tobytes()
    if legacy:
        write_legacy_checkpoint(path, object_pickle, {"0": (4, data)})
    else:
        write_zip_checkpoint(path, object_pickle, {"0": data})
    with pytest.raises(CheckpointError, match="bad.pt: tensor with size"):
        load(path)


@pytest.mark.parametrize("cut", [100, 4000, -3])
def test_truncated_files_are_reported(tmp_path, cut):
    for fixture, problem in (("unet64_zip.pt", "is a damaged zip archive"), ("unet64_legacy.pt", "")):
        path = tmp_path / fixture
        path.write_bytes((FIXTURES / fixture).read_bytes()[:cut])
        with pytest.raises(CheckpointError, match=f"{fixture}: {problem}"):
            load(path)


def test_files_that_are_not_checkpoints_are_reported(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    with pytest.raises(CheckpointError, match="notes.txt: not a torch.save file"):
        load(text)
    plain = tmp_path / "plain.pickle"
    plain.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(CheckpointError, match="wrong magic number"):
        load(plain)
    with pytest.raises(CheckpointError, match="missing.pt: No such file"):
        load(tmp_path / "missing.pt")
    no_weights = tmp_path / "no_weights.pt"
    write_zip_checkpoint(no_weights, pickle.dumps({"epoch": 3, "trainLoss": 0.5}, protocol=2), {})
    with pytest.raises(CheckpointError, match="no_weights.pt: entry 'epoch' is a int, not a tensor"):
        load_state_dict(no_weights)


# --- hostile files -------------------------------------------------------------------------

class ReducesTo:
    """Pickles as a call of `function(*args)`, the way a hostile checkpoint runs code."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def hostile_pickle(kind, marker):
    """(pickle bytes that would create `marker` when unpickled, the global it names)."""
    if kind == "os.system":  # as written by hand: GLOBAL 'os system'
        emitter = TorchPickle(legacy=False)
        emitter.global_("os", "system")
        emitter.text(f"touch '{marker}'")
        return bytes(emitter.out) + b"\x85R.", "os.system"
    import subprocess as sp
    calls = {"posix.system": ReducesTo(os.system, f"touch '{marker}'"),
             "builtins.eval": ReducesTo(eval, f"open({str(marker)!r}, 'w').close()"),
             "subprocess.Popen": ReducesTo(sp.Popen, ["touch", str(marker)])}
    payload = {"epoch": 1, "model_state_dict": collections.OrderedDict(w=calls[kind])}
    return pickle.dumps(payload, protocol=2), kind


HOSTILE_KINDS = ["os.system", "posix.system", "builtins.eval", "subprocess.Popen"]


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
@pytest.mark.parametrize("container", ["zip", "legacy", "legacy header", "class ids"])
def test_hostile_pickles_are_refused_without_running(tmp_path, kind, container):
    marker = tmp_path / "marker"
    payload, global_name = hostile_pickle(kind, marker)
    path = tmp_path / "evil.pt"
    if container == "zip":
        write_zip_checkpoint(path, payload, {})
    elif container == "legacy":
        write_legacy_checkpoint(path, payload, {})
    elif container == "legacy header":
        write_legacy_checkpoint(path, pickle.dumps({}, protocol=2), {}, sys_info_pickle=payload)
    else:
        path.write_bytes(payload)
    reader = load_class_names if container == "class ids" else load
    with pytest.raises(CheckpointError) as refused:
        reader(path)
    assert f"refused to load the global '{global_name}'" in str(refused.value)
    assert str(path) in str(refused.value)
    assert not marker.exists()


def test_converter_refuses_hostile_checkpoint_with_exit_2(tmp_path):
    marker = tmp_path / "marker"
    payload, _ = hostile_pickle("builtins.eval", marker)
    evil = tmp_path / "NACTmodel.pt"
    write_zip_checkpoint(evil, payload, {})
    output = tmp_path / "model.safetensors"
    result = run_converter("--architecture", "Unet64", "--classes", ",".join(CLASSES), "-o", output, evil)
    assert result.returncode == 2
    assert "NACTmodel.pt" in result.stderr and "'builtins.eval'" in result.stderr
    assert not marker.exists() and not output.exists()


# --- class names ---------------------------------------------------------------------------

def test_class_names_from_aimos_training_cids():
    assert MANIFEST["class_ids"] == {"Heart": 2, "Brain": 1}
    assert load_class_names(FIXTURES / "trainingCIDs.pickledump") == CLASSES
    assert load_class_names(str(FIXTURES / "trainingCIDs")) == CLASSES  # as AIMOS's pload, no ending


@pytest.mark.parametrize("class_ids, problem", [
    ({"Brain": 1, "Heart": 3}, r"class ids are \[1, 3\]"),
    ({"Brain": 1, "Heart": 1}, "share id 1"),
    ({"background": 0, "Brain": 1}, r"class ids are \[0, 1\]"),
    ({"Brain": "1"}, "not an integer"),
    (["Brain", "Heart"], "not a non-empty dict"),
])
def test_bad_class_id_files_are_reported(tmp_path, class_ids, problem):
    path = tmp_path / "trainingCIDs.pickledump"
    path.write_bytes(pickle.dumps(class_ids, protocol=4))
    with pytest.raises(CheckpointError, match=problem):
        load_class_names(path)


# --- the converter -------------------------------------------------------------------------

def read_model(path):
    tensors, metadata = safetensors_io.read(path)
    return tensors, json.loads(metadata["aimos"])


def test_converts_a_checkpoint_without_torch(tmp_path):
    output = tmp_path / "model.safetensors"
    result = run_converter("--architecture", "Unet64", "--classes", "background, Brain,Heart",
                           "--input-size", "128", "--slice-axis", "1", "-o", output, FIXTURES / "unet64_legacy.pt")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout
    tensors, metadata = read_model(output)
    assert metadata == {"architecture": "Unet64", "classes": CLASSES, "input_size": 128, "uncertainty": False,
                        "ensemble_members": 1, "slice_axis": 1, "orientation": "TLD", "crop": "none"}
    expected = {k: v for k, v in expected_state().items() if not k.endswith("num_batches_tracked")}
    assert sorted(tensors) == sorted(expected) == sorted(expected_shapes("Unet64", 3))
    for name, value in expected.items():
        assert tensors[name].dtype == np.float32 and np.array_equal(tensors[name], value), name
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary file left


def test_orientation_and_crop_are_written_as_given(tmp_path):
    output = tmp_path / "model.safetensors"
    result = run_converter("--architecture", "Unet64", "--classes", ",".join(CLASSES), "--orientation", "hld",
                           "--crop", "body", "-o", output, FIXTURES / "unet64_zip.pt")
    assert result.returncode == 0, result.stderr
    metadata = read_model(output)[1]
    assert metadata["orientation"] == "HLD" and metadata["crop"] == "body"
    convert([FIXTURES / "unet64_zip.pt"], output, "Unet64", CLASSES)  # the published layout by default
    assert read_model(output)[1]["orientation"] == "TLD" and read_model(output)[1]["crop"] == "none"


@pytest.mark.parametrize("args, problem", [
    (["--orientation", "TLL"], "orientation 'TLL' is no layout code"),
    (["--orientation", "TLDX"], "orientation 'TLDX' is no layout code"),
    (["--crop", "animal"], "invalid choice: 'animal'"),
])
def test_bad_orientation_or_crop_fails_with_exit_2_and_no_output(tmp_path, args, problem):
    output = tmp_path / "model.safetensors"
    result = run_converter("--architecture", "Unet64", "--classes", ",".join(CLASSES), *args, "-o", output,
                           FIXTURES / "unet64_zip.pt")
    assert result.returncode == 2 and problem in result.stderr
    assert not output.exists()


def test_metadata_writes_orientation_and_crop_only_when_given():
    plain = aimos_metadata("Unet64", CLASSES, 256, False, 2)
    assert "orientation" not in plain and "crop" not in plain
    given = aimos_metadata("Unet64", CLASSES, 256, False, 2, orientation="tRv", crop="none")
    assert given["orientation"] == "TRV" and given["crop"] == "none"
    for bad in ("TL", "TTD", "LRD", "TLQ", 3):
        with pytest.raises(ValueError, match="no layout code"):
            aimos_metadata("Unet64", CLASSES, 256, False, 2, orientation=bad)
    with pytest.raises(ValueError, match="crop 'Body' must be 'body' or 'none'"):
        aimos_metadata("Unet64", CLASSES, 256, False, 2, crop="Body")


def test_voxel_size_is_written_only_when_given(tmp_path):
    output = tmp_path / "model.safetensors"
    result = run_converter("--architecture", "Unet64", "--classes", ",".join(CLASSES), "--voxel-size-mm", "0.25",
                           "-o", output, FIXTURES / "unet64_zip.pt")
    assert result.returncode == 0, result.stderr
    assert read_model(output)[1]["voxel_size_mm"] == 0.25
    convert([FIXTURES / "unet64_zip.pt"], output, "Unet64", CLASSES)
    assert "voxel_size_mm" not in read_model(output)[1]
    assert aimos_metadata("Unet64", CLASSES, 256, False, 2, voxel_size_mm=1)["voxel_size_mm"] == 1.0
    for bad in (0, -0.5, float("nan"), float("inf"), 101, True, "0.25"):
        with pytest.raises(ValueError, match="must be a finite number of mm"):
            aimos_metadata("Unet64", CLASSES, 256, False, 2, voxel_size_mm=bad)


@pytest.mark.parametrize("value", ["0", "-0.25", "nan", "inf", "1e400"])
def test_bad_voxel_size_fails_with_exit_2_and_no_output(tmp_path, value):
    output = tmp_path / "model.safetensors"
    result = run_converter("--architecture", "Unet64", "--classes", ",".join(CLASSES), "--voxel-size-mm", value,
                           "-o", output, FIXTURES / "unet64_zip.pt")
    assert result.returncode == 2 and "must be a finite number of mm" in result.stderr
    assert not output.exists()


def test_class_ids_file_and_uncertainty_channel(tmp_path):
    output = tmp_path / "model.safetensors"
    convert([FIXTURES / "unet64_zip.pt"], output, "Unet64", load_class_names(FIXTURES / "trainingCIDs.pickledump"))
    assert read_model(output)[1]["classes"] == CLASSES
    result = run_converter("--architecture", "Unet64", "--classes", "background,Brain", "--uncertainty",
                           "-o", output, FIXTURES / "unet64_zip.pt")
    assert result.returncode == 0, result.stderr
    metadata = read_model(output)[1]
    assert metadata["classes"] == ["background", "Brain"] and metadata["uncertainty"] is True


def test_ensemble_of_two_checkpoints(tmp_path):
    output = tmp_path / "ensemble.safetensors"
    result = run_converter("--architecture", "Unet64", "--class-ids", FIXTURES / "trainingCIDs.pickledump",
                           "-o", output, FIXTURES / "unet64_zip.pt", FIXTURES / "unet64_dataparallel.pt")
    assert result.returncode == 0, result.stderr
    tensors, metadata = read_model(output)
    assert metadata["ensemble_members"] == 2 and metadata["classes"] == CLASSES
    names = list(expected_shapes("Unet64", 3))
    assert sorted(tensors) == sorted(f"member{m}.{n}" for m in (0, 1) for n in names)
    for name, value in expected_state().items():
        if not name.endswith("num_batches_tracked"):
            assert np.array_equal(tensors["member0." + name], value)
            assert np.array_equal(tensors["member1." + name], value)


@pytest.mark.parametrize("fixture, dtype", [("unet64_zip.pt", "F16"), ("unet64_zip.pt", "BF16"),
                                            ("unet64_fp16.pt", "F32"), ("unet64_fp16.pt", "F16")])
def test_output_dtypes(tmp_path, fixture, dtype):
    output = tmp_path / "model.safetensors"
    convert([FIXTURES / fixture], output, "Unet64", CLASSES, dtype=dtype)
    source = load_state_dict(FIXTURES / fixture)
    with open(output, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    tensors, _ = read_model(output)
    for name in expected_shapes("Unet64", 3):
        assert header[name]["dtype"] == dtype
        value = source[name].astype(np.float32)
        if dtype == "F16":
            value = value.astype(np.float16)
        elif dtype == "BF16":
            value = safetensors_io.from_bf16_bits(safetensors_io.to_bf16_bits(value)).reshape(value.shape)
        assert np.array_equal(tensors[name].astype(np.float32), value.astype(np.float32)), name


def test_wrong_architecture_fails_with_exit_2_and_no_output(tmp_path):
    output = tmp_path / "model.safetensors"
    result = run_converter("--architecture", "Unet128", "--classes", ",".join(CLASSES), "-o", output,
                           FIXTURES / "unet64_zip.pt")
    assert result.returncode == 2
    assert "unet64_zip.pt" in result.stderr
    assert "missing tensor 'down3.encode.0.conv.weight'" in result.stderr
    assert "looks like Unet64" in result.stderr
    assert not output.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("classes, uncertainty", [(CLASSES + ["Lung"], False), (CLASSES[1:], False), (CLASSES, True)])
def test_wrong_class_count_fails_with_exit_2_and_keeps_old_output(tmp_path, classes, uncertainty):
    output = tmp_path / "model.safetensors"
    output.write_text("previous model")
    args = ["--architecture", "Unet64", "--classes", ",".join(classes), "-o", output, FIXTURES / "unet64_zip.pt"]
    result = run_converter(*args, *(["--uncertainty"] if uncertainty else []))
    assert result.returncode == 2
    assert f"'classify.weight') has 3 output channels, but {len(classes)} classes were given" in result.stderr
    assert ("is the background missing" in result.stderr) == ("background" not in classes)
    assert output.read_text() == "previous model" and len(list(tmp_path.iterdir())) == 1


def test_every_member_is_checked_before_writing(tmp_path):
    bad = tmp_path / "nan.pt"
    state = {k: v for k, v in expected_state().items()}
    state["center.bn.running_var"] = state["center.bn.running_var"].copy()
    state["center.bn.running_var"][3] = np.nan
    save_arrays(bad, state, legacy=True)
    output = tmp_path / "model.safetensors"
    with pytest.raises(ConversionError, match="nan.pt: tensor 'center.bn.running_var' contains NaN"):
        convert([FIXTURES / "unet64_zip.pt", bad], output, "Unet64", CLASSES)
    assert not output.exists()


def test_handmade_zip_checkpoint_converts_like_the_pytorch_one(tmp_path):
    handmade = tmp_path / "handmade.pt"
    save_arrays(handmade, expected_state())
    convert([handmade], tmp_path / "a.safetensors", "Unet64", CLASSES)
    convert([FIXTURES / "unet64_zip.pt"], tmp_path / "b.safetensors", "Unet64", CLASSES)
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


@pytest.mark.parametrize("args, problem", [
    (["--classes", "background,Brain,Brain"], "class names repeat: Brain"),
    (["--classes", "background"], "2 to 255 classes"),
    (["--classes", ",".join(CLASSES), "--input-size", "2"], "input size 2 must be from 4"),
    (["--class-ids", "no-such-file"], "no-such-file: No such file"),
])
def test_bad_options_fail_with_exit_2(tmp_path, args, problem):
    output = tmp_path / "model.safetensors"
    result = run_converter("--architecture", "Unet64", *args, "-o", output, FIXTURES / "unet64_zip.pt")
    assert result.returncode == 2
    assert problem in result.stderr
    assert not output.exists()


def test_help_documents_the_options():
    result = run_converter("--help")
    assert result.returncode == 0
    for option in ("--architecture", "--classes", "--class-ids", "--uncertainty", "--input-size",
                   "--slice-axis", "--orientation", "--crop", "TLD", "--voxel-size-mm", "--dtype", "--output",
                   "exit status"):
        assert option in result.stdout


# --- the converted weights compute what the PyTorch model computes --------------------------

def test_converted_model_gives_the_logits_of_the_original(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed, so the logits comparison "
                                               "with the original model cannot run")
    from aimostools.unet import reference

    checkpoint = FIXTURES / "unet64_legacy.pt"
    original = reference.AimosUNet("Unet64", 3)
    original.load_state_dict(torch.load(checkpoint, weights_only=True)["model_state_dict"])
    output = tmp_path / "model.safetensors"
    convert([checkpoint], output, "Unet64", CLASSES)
    tensors, _ = safetensors_io.read(output)
    converted = reference.AimosUNet("Unet64", 3)
    missing, unexpected = converted.load_state_dict(
        {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    x = torch.from_numpy(np.random.default_rng(1).standard_normal((2, 1, 48, 40)).astype(np.float32))
    with torch.no_grad():
        expected = original.eval()(x)
        actual = converted.eval()(x)
    assert expected.shape == (2, 3, 48, 40)
    assert torch.equal(actual, expected)


def test_engine_loads_the_converted_file(tmp_path):
    folder = Path(os.environ.get("AIMOS_LIBRARY_DIR") or TOOLS.parent / ".build" / "release")
    if not (folder / "libaimos.so").exists():
        pytest.skip(f"no libaimos.so in {folder} (build it, or set AIMOS_LIBRARY_DIR), so the engine "
                    "cannot be asked to load the converted file")
    output = tmp_path / "model.safetensors"
    convert([FIXTURES / "unet64_legacy.pt", FIXTURES / "unet64_fp16.pt"], output, "Unet64",
            ["background", "Brain"], uncertainty=True, dtype="BF16")
    library = ctypes.CDLL(str(folder / "libaimos.so"))
    library.aimos_load_model.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    library.aimos_last_error.restype = ctypes.c_char_p
    library.aimos_model_class_count.argtypes = [ctypes.c_void_p]
    library.aimos_model_class_name.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    library.aimos_model_class_name.restype = ctypes.c_char_p
    library.aimos_free.argtypes = [ctypes.c_void_p]
    model = ctypes.c_void_p()
    status = library.aimos_load_model(str(output).encode(), ctypes.byref(model))
    assert status == 0, library.aimos_last_error()
    try:
        names = [library.aimos_model_class_name(model, i) for i in range(library.aimos_model_class_count(model))]
        assert names == [b"background", b"Brain"]
    finally:
        library.aimos_free(model)
