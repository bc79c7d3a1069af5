"""Every hostile case of untrusted_cases.py, through the C ABI as a viewer would meet it: the
model cases through aimos_load_model, the NIfTI and DICOM cases through aimos_segment_nifti. Each must
return its status with a message naming the problem, under a 2 GB address-space limit (so a
header that makes aimos allocate what it claims fails here), and leave no output file behind.
Each case runs in its own process: a crash fails that case only.

Needs the built library (.build/release/libaimos.so, or $AIMOS_LIBRARY_DIR).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import untrusted_cases as cases  # noqa: E402

ROOT = HERE.parents[1]
LIBRARY = Path(os.environ.get("AIMOS_LIBRARY_DIR", ROOT / ".build/release")) / "libaimos.so"
MODEL = ROOT / "Tests/AimosCoreTests/Fixtures/unet64_c3_s32_f32.safetensors"
FORMAT_STATUS = cases.FORMAT
STATUS = ["AIMOS_OK", "INVALID_ARGUMENT", "IO", "FORMAT", "UNSUPPORTED", "OUT_OF_MEMORY", "CANCELLED", "INTERNAL", "MISUSE"]

# One call in a fresh interpreter: prints {"status", "message"}.
CALL = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
lib.aimos_last_error.restype = ctypes.c_char_p
kind, path = sys.argv[2], sys.argv[3].encode()
if kind == "model":
    handle = ctypes.c_void_p()
    status = lib.aimos_load_model(path, ctypes.byref(handle))
    ok_handle = (handle.value is not None) == (status == 0)
    lib.aimos_model_free(handle)
else:
    model = ctypes.c_void_p()
    assert lib.aimos_load_model(sys.argv[4].encode(), ctypes.byref(model)) == 0
    status = lib.aimos_segment_nifti(model, path, sys.argv[5].encode(), None)
    ok_handle = True
    lib.aimos_model_free(model)
print(json.dumps({"status": status, "message": lib.aimos_last_error().decode("utf-8", "replace"), "ok_handle": ok_handle}))
"""


def call(*args):
    command = " ".join(f"'{a}'" for a in (sys.executable, "-c", CALL, LIBRARY) + args)
    done = subprocess.run(["bash", "-c", f"ulimit -v 2000000; exec {command}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the call crashed (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(autouse=True)
def built():
    if not LIBRARY.exists():
        pytest.skip(f"libaimos.so is not built at {LIBRARY} (swift build -c release --static-swift-stdlib)")


@pytest.mark.parametrize("name,data,status,word", cases.model_cases(), ids=[c[0] for c in cases.model_cases()])
def test_model_file(tmp_path, name, data, status, word):
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(data)
    got = call("model", path)
    assert STATUS[got["status"]] == STATUS[status], f"{name}: {got['message']}"
    assert got["ok_handle"], f"{name}: out_model must be set exactly on success"
    if status != 0:
        assert word.lower() in got["message"].lower() and str(path) in got["message"], f"{name}: {got['message']}"


def check_scan_file(tmp_path, name, data, suffix, status, word):
    """One scan file through aimos_segment_nifti: its status, a message naming the file and the
    problem, and no output unless it succeeded."""
    scan = tmp_path / f"{name}{suffix}"
    scan.write_bytes(data)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    got = call("nifti", scan, MODEL, out_dir / "labels.nii.gz")
    assert STATUS[got["status"]] == STATUS[status], f"{name}: {got['message']}"
    if status != 0:
        assert word.lower() in got["message"].lower() and scan.name in got["message"], f"{name}: {got['message']}"
        assert list(out_dir.iterdir()) == [], f"{name}: a failed run left {list(out_dir.iterdir())}"
    else:
        assert [p.name for p in out_dir.iterdir()] == ["labels.nii.gz"]


@pytest.mark.parametrize("name,data,suffix,status,word", cases.nifti_cases(), ids=[c[0] for c in cases.nifti_cases()])
def test_nifti_file(tmp_path, name, data, suffix, status, word):
    check_scan_file(tmp_path, name, data, suffix, status, word)


@pytest.mark.parametrize("name,data,status,word", cases.dicom_cases(), ids=[c[0] for c in cases.dicom_cases()])
def test_dicom_file(tmp_path, name, data, status, word):
    check_scan_file(tmp_path, name, data, ".dcm", status, word)


# Many model files in one fresh interpreter: prints one status per path.
LOAD_MANY = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
statuses = []
for path in sys.argv[2:]:
    handle = ctypes.c_void_p()
    statuses.append(lib.aimos_load_model(path.encode(), ctypes.byref(handle)))
    lib.aimos_model_free(handle)
print(json.dumps(statuses))
"""


def test_model_truncated_anywhere(tmp_path):
    """The valid model cut at every byte of its length field and header start, and at 48 points
    spread over the rest: every cut is a FORMAT error (never a crash or an allocation of what the
    header claims, under the 2 GB limit)."""
    model = cases.MODEL_FIXTURE.read_bytes()
    cuts = sorted(set(range(0, 24)) | {len(model) * k // 48 for k in range(1, 48)} | {len(model) - 1})
    paths = []
    for cut in cuts:
        path = tmp_path / f"cut_{cut}.safetensors"
        path.write_bytes(model[:cut])
        paths.append(str(path))
    command = " ".join(f"'{a}'" for a in [sys.executable, "-c", LOAD_MANY, LIBRARY] + paths)
    done = subprocess.run(["bash", "-c", f"ulimit -v 2000000; exec {command}"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"crashed (exit {done.returncode}): {done.stderr[-2000:]}"
    statuses = json.loads(done.stdout.strip().splitlines()[-1])
    wrong = [(cut, STATUS[s]) for cut, s in zip(cuts, statuses) if s != FORMAT_STATUS]
    assert wrong == [], f"cuts that did not give FORMAT: {wrong}"


@pytest.mark.parametrize("name,data,status,word", cases.tiff_cases(), ids=[c[0] for c in cases.tiff_cases()])
def test_tiff_file(tmp_path, name, data, status, word):
    """A light-sheet TIFF stack (its voxel size in OME-XML) through aimos_segment_nifti."""
    scan, out = tmp_path / "stack.tif", tmp_path / "labels.nii.gz"
    scan.write_bytes(data)
    got = call("nifti", scan, MODEL, out)
    assert STATUS[got["status"]] == STATUS[status], got["message"]
    assert word in got["message"]
    if status == cases.OK:
        assert out.exists()
    else:
        assert str(scan) in got["message"] or "stack.tif" in got["message"], got["message"]
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["stack.tif"] + (["labels.nii.gz"] if status == cases.OK else []))
