"""Tests of aimos-model-metadata (aimostools/cli/model_metadata.py) and of the header rewrite
beneath it (checkpoint/safetensors_header.py), on small model files written here.

    python3 -m pytest -q Tools/tests/checkpoint/test_model_metadata.py
"""
import ctypes
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aimostools.checkpoint import safetensors_io
from aimostools.checkpoint.architecture import aimos_metadata
from aimostools.checkpoint.metadata_schema import KEYS
from aimostools.checkpoint.safetensors_header import HeaderError, read_header
from aimostools.cli.model_metadata import main

REPO = Path(__file__).resolve().parents[3]
METADATA = aimos_metadata("Unet64", ["background", "Heart"], 32, True, 2, orientation="HLD", crop="body")
TRAINING_INFO = {"seed": 1, "note": "kept as it is"}


@pytest.fixture
def model(tmp_path):
    """A small model file: a few tensors of odd lengths (so that the data section does not
    start aligned by chance), aimos metadata and a second metadata entry."""
    rng = np.random.default_rng(0)
    tensors = {"classify.weight": rng.standard_normal((3, 32, 1, 1)).astype(np.float32),
               "classify.bias": rng.standard_normal(3).astype(np.float16),
               "down1.encode.0.bn.running_var": rng.random(5).astype(np.float32)}
    path = tmp_path / "model.safetensors"
    safetensors_io.write(path, tensors, {"aimos": json.dumps(METADATA), "aimos_training": json.dumps(TRAINING_INFO)})
    os.chmod(path, 0o644)
    return path


def split(path):
    """(header dict, header length field, data section bytes) of a safetensors file."""
    raw = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + length]), length, raw[8 + length:]


def aimos_of(path):
    return json.loads(split(path)[0]["__metadata__"]["aimos"])


def folder_listing(path):
    return sorted(p.name for p in Path(path).parent.iterdir())


def test_prints_the_metadata(model, capsys):
    assert main([str(model)]) == 0
    assert json.loads(capsys.readouterr().out) == METADATA


def test_set_writes_a_new_file_with_only_the_header_changed(model, tmp_path):
    original = model.read_bytes()
    out = tmp_path / "new.safetensors"
    assert main([str(model), "--set", "voxel_size_mm=0.25", "--out", str(out)]) == 0
    assert model.read_bytes() == original  # without --in-place MODEL stays as it is
    old_header, _, old_data = split(model)
    new_header, new_length, new_data = split(out)
    assert new_data == old_data  # the tensors' bytes, unchanged
    assert new_length % 8 == 0  # the data start 8-byte aligned, as safetensors requires
    assert aimos_of(out) == {**METADATA, "voxel_size_mm": 0.25}
    assert isinstance(aimos_of(out)["voxel_size_mm"], float)
    assert json.loads(new_header["__metadata__"]["aimos_training"]) == TRAINING_INFO
    assert {k: v for k, v in new_header.items() if k != "__metadata__"} == \
           {k: v for k, v in old_header.items() if k != "__metadata__"}
    tensors, _ = safetensors_io.read(out)
    for name, value in safetensors_io.read(model)[0].items():
        assert np.array_equal(tensors[name], value) and tensors[name].dtype == value.dtype, name
    assert folder_listing(out) == ["model.safetensors", "new.safetensors"]  # no temporary file left


def test_in_place_replaces_the_file_and_keeps_its_permissions(model):
    data = split(model)[2]
    assert main([str(model), "--set", "voxel_size_mm=0.5", "--set", "crop=none", "--in-place"]) == 0
    assert split(model)[2] == data
    assert aimos_of(model) == {**METADATA, "crop": "none", "voxel_size_mm": 0.5}
    assert os.stat(model).st_mode & 0o777 == 0o644
    assert folder_listing(model) == ["model.safetensors"]


def test_values_are_json_where_they_parse_and_text_otherwise(model, tmp_path):
    out = tmp_path / "new.safetensors"
    assert main([str(model), "--set", "input_size=64", "--set", "uncertainty=false", "--set", "crop=body",
                 "--set", 'orientation="tlv"', "--set", 'classes=["background", "Brain"]',
                 "--set", "voxel_size_mm=1", "--out", str(out)]) == 0
    written = aimos_of(out)
    assert written["input_size"] == 64 and type(written["input_size"]) is int
    assert written["uncertainty"] is False and written["crop"] == "body"
    assert written["orientation"] == "TLV" and written["classes"] == ["background", "Brain"]
    assert written["voxel_size_mm"] == 1.0
    assert list(written) == list(METADATA) + ["voxel_size_mm"]  # the key order kept, new keys last


@pytest.mark.parametrize("assignment, problem", [
    ("voxel_size=0.25", "unknown key 'voxel_size'"),
    ("spacing_mm=0.25", "unknown key 'spacing_mm'"),
    ("voxel_size_mm=0", "voxel size 0 must be"),
    ("voxel_size_mm=-0.25", "voxel size -0.25 must be"),
    ("voxel_size_mm=NaN", "voxel size 'NaN' must be"),
    ("voxel_size_mm=Infinity", "voxel size 'Infinity' must be"),
    ("voxel_size_mm=1e999", "voxel size inf must be"),
    ("voxel_size_mm=250", "at most 100"),
    ("voxel_size_mm=true", "voxel size True must be"),
    ("voxel_size_mm=0.25mm", "voxel size '0.25mm' must be"),
    ('voxel_size_mm="0.25"', "voxel size '0.25' must be"),
    ("input_size=12.5", "input_size 12.5 must be an integer"),
    ("slice_axis=3", "slice_axis 3 must be 0, 1 or 2"),
    ("uncertainty=yes", "uncertainty 'yes' must be true or false"),
    ("orientation=TLL", "orientation 'TLL' is no layout code"),
    ("crop=animal", "crop 'animal' must be 'body' or 'none'"),
    ("architecture=Unet65", "architecture 'Unet65' is not one of"),
    ('classes=["background"]', "classes must be a list of 2 to 255 names"),
    ("ensemble_members=0", "ensemble_members 0 must be an integer from 1 to 64"),
    ("voxel_size_mm", "--set needs KEY=VALUE"),
    ("=0.25", "--set needs KEY=VALUE"),
])
@pytest.mark.parametrize("target", ["--out", "--in-place"])
def test_bad_keys_and_values_are_refused_with_exit_2_and_nothing_written(model, tmp_path, capsys,
                                                                         assignment, problem, target):
    original = model.read_bytes()
    out = tmp_path / "new.safetensors"
    where = ["--out", str(out)] if target == "--out" else ["--in-place"]
    # a good assignment first: nothing may be written when any one is bad
    assert main([str(model), "--set", "voxel_size_mm=0.25", "--set", assignment, *where]) == 2
    assert problem in capsys.readouterr().err
    assert model.read_bytes() == original
    assert folder_listing(model) == ["model.safetensors"]  # no output, no temporary file


def test_a_change_needs_a_target_that_is_not_the_model_itself(model, capsys):
    original = model.read_bytes()
    assert main([str(model), "--set", "voxel_size_mm=0.25"]) == 2
    assert "--set needs --out NEW or --in-place" in capsys.readouterr().err
    assert main([str(model), "--set", "voxel_size_mm=0.25", "--out", str(model)]) == 2
    assert "use --in-place" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_status:
        main([str(model), "--out", str(model.parent / "new.safetensors"), "--in-place"])
    assert exit_status.value.code == 2
    assert model.read_bytes() == original and folder_listing(model) == ["model.safetensors"]


def test_a_file_without_the_required_keys_is_refused(tmp_path, capsys):
    path = tmp_path / "plain.safetensors"
    safetensors_io.write(path, {"w": np.zeros(3, np.float32)})
    assert main([str(path), "--set", "voxel_size_mm=0.25", "--in-place"]) == 2
    assert "lacks architecture and classes" in capsys.readouterr().err
    assert main([str(path), "--set", "architecture=Unet64", "--set", 'classes=["background","Heart"]',
                 "--in-place"]) == 0
    assert aimos_of(path) == {"architecture": "Unet64", "classes": ["background", "Heart"]}


# a tensor of 16 bytes with only 8 bytes of data behind the header
SHORT_DATA = b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'


@pytest.mark.parametrize("content, problem", [
    (b"\x01\x02", "too short"),
    (struct.pack("<Q", 1 << 40) + b"{}", "does not fit the file"),
    (struct.pack("<Q", 4) + b"[1] ", "not a JSON object"),
    (struct.pack("<Q", 8) + b"{not js}", "not JSON"),
    (struct.pack("<Q", len(SHORT_DATA)) + SHORT_DATA + b"\0" * 8, "no byte range inside the data section"),
])
def test_files_that_are_not_safetensors_are_refused_with_exit_2(tmp_path, capsys, content, problem):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    assert main([str(path)]) == 2
    assert problem in capsys.readouterr().err
    assert main([str(path), "--set", "voxel_size_mm=0.25", "--in-place"]) == 2
    assert path.read_bytes() == content
    with pytest.raises(HeaderError):
        read_header(path)


def test_the_console_command_runs_and_lists_the_keys(model):
    result = subprocess.run([sys.executable, "-m", "aimostools.cli.model_metadata", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for text in ("--set", "--out", "--in-place", "exit status", *KEYS):
        assert text in result.stdout


def test_the_engine_loads_a_file_with_the_voxel_size(model, tmp_path):
    folder = Path(os.environ.get("AIMOS_LIBRARY_DIR") or REPO / ".build" / "release")
    if not (folder / "libaimos.so").exists():
        pytest.skip(f"no libaimos.so in {folder} (build it, or set AIMOS_LIBRARY_DIR)")
    bundled = REPO / "models" / "aimos-lightsheet.safetensors"
    out = tmp_path / "lightsheet.safetensors"
    assert main([str(bundled), "--set", "voxel_size_mm=0.125", "--out", str(out)]) == 0
    library = ctypes.CDLL(str(folder / "libaimos.so"))
    library.aimos_load_model.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    library.aimos_last_error.restype = ctypes.c_char_p
    library.aimos_free.argtypes = [ctypes.c_void_p]
    handle = ctypes.c_void_p()
    status = library.aimos_load_model(str(out).encode(), ctypes.byref(handle))
    assert status == 0, library.aimos_last_error()
    library.aimos_free(handle)
