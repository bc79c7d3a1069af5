"""Tools/benchmarks/peak_memory.py: its table, peak-RSS readings (GNU time and the getrusage
wrapper) and disk-fitting rule on a stand-in aimos that allocates a known amount, and one small
run of the real aimos where it is built."""
import json
import os
import subprocess
import sys
from collections import namedtuple

import pytest

pytest.importorskip("tifffile", reason="tifffile not installed (.ci/run installs it)")
TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO = os.path.dirname(TOOLS)
sys.path.insert(0, os.path.join(TOOLS, "benchmarks"))
import peak_memory  # noqa: E402

SCRIPT = os.path.join(TOOLS, "benchmarks", "peak_memory.py")
STAND_IN_MIB = 120
STAND_IN = f"""#!{sys.executable}
# A stand-in for aimos: reads TIFF (its help says so), touches {STAND_IN_MIB} MiB, writes --output.
import sys
args = sys.argv[1:]
if args == ["--version"]:
    print("stand-in 0.0")
elif args[:2] == ["segment", "--help"]:
    print("--working-voxel-size")
else:
    block = bytearray({STAND_IN_MIB} << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    open(args[args.index("--output") + 1], "w").write(" ".join(args))
"""


@pytest.fixture
def stand_in(tmp_path):
    path = tmp_path / "aimos"
    path.write_text(STAND_IN)
    path.chmod(0o755)
    return str(path)


def run_benchmark(*args):
    run = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.mark.parametrize("method", ["time", "rusage"])
def test_table_and_peak_rss_of_each_case(tmp_path, stand_in, method):
    if method == "time" and not os.access("/usr/bin/time", os.X_OK):
        pytest.skip("no /usr/bin/time here (the script falls back to getrusage)")
    work, result = tmp_path / "work", tmp_path / "result.json"
    run = run_benchmark("--aimos", stand_in, "--nifti", "24", "--stack", "40x60x9", "--stack", "30x20x5",
                        "--workdir", str(work), "--rss-method", method, "--json", str(result))
    cases = json.loads(result.read_text())["cases"]
    assert [c["voxels"] for c in cases] == [24 ** 3, 40 * 60 * 9, 30 * 20 * 5]
    for case in cases:
        assert case["exit_code"] == 0 and case["aimos_s"] > 0 and case["generation_s"] > 0
        assert STAND_IN_MIB <= case["peak_rss_mib"] < STAND_IN_MIB + 200, case["peak_rss_mib"]
    assert cases[1]["input_bytes"] >= 40 * 60 * 9 * 2, "uint16 planes, uncompressed"
    assert "--voxel-size 0.006,0.006,0.006" in cases[1]["command"] and "--voxel-size" not in cases[0]["command"]
    lines = run.stdout.splitlines()
    assert lines[0] == "| case | voxels | input | generation s | aimos s | peak RSS MiB |"
    assert "| TIFF planes 40 x 60 x 9 uint16, 6 µm | 21,600 |" in run.stdout
    assert any(line.startswith("Machine: ") and "cores" in line and "--threads 0" in line for line in lines)
    assert os.listdir(work) == [], "inputs and outputs deleted without --keep"


def test_keep_leaves_the_inputs(tmp_path, stand_in):
    run_benchmark("--aimos", stand_in, "--nifti", "none", "--stack", "16x16x3", "--workdir", str(tmp_path), "--keep")
    (case,) = [p for p in tmp_path.iterdir() if p.name.startswith("case-")]
    assert sorted(os.listdir(case / "stack")) == ["plane_00000.tif", "plane_00001.tif", "plane_00002.tif"]
    assert (case / "labels.nii.gz").exists()


def test_a_stack_too_large_for_the_disk_is_cut_or_skipped(tmp_path, stand_in, monkeypatch, capsys):
    plane = 100 * 200 * 2
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(peak_memory.shutil, "disk_usage", lambda path: Usage(0, 0, 5e9 + 7.5 * plane))
    assert peak_memory.fitting_shape((100, 200, 50), "uint16", 5e9 + 7.5 * plane, 5e9) == (100, 200, 7)
    assert peak_memory.fitting_shape((100, 200, 50), "uint16", 5e9, 5e9) is None
    common = ["--aimos", stand_in, "--nifti", "none", "--stack", "100x200x50", "--workdir", str(tmp_path)]
    peak_memory.main(common + ["--json", str(tmp_path / "cut.json")])
    (skipped,) = json.loads((tmp_path / "cut.json").read_text())["cases"]
    assert skipped["note"].startswith("skipped:") and "aimos_s" not in skipped
    peak_memory.main(common + ["--largest-that-fits", "--json", str(tmp_path / "cut.json")])
    (cut,) = json.loads((tmp_path / "cut.json").read_text())["cases"]
    assert cut["voxels"] == 100 * 200 * 7 and "cut from 50 planes" in cut["case"]
    assert "using 7 of its 50 planes" in capsys.readouterr().err


def test_time_report_parsing():
    report = "\tCommand being timed: \"x\"\n\tMaximum resident set size (kbytes): 421337\n\tExit status: 0\n"
    assert peak_memory.parse_time_report(report) == 421337
    with pytest.raises(ValueError):
        peak_memory.parse_time_report("nothing")


def test_real_aimos_on_small_cases(tmp_path):
    aimos = peak_memory.find_aimos()
    if not aimos:
        pytest.skip("no aimos binary: build it (swift build -c release) or set AIMOS_CLI")
    result = tmp_path / "result.json"
    run_benchmark("--nifti", "48", "--stack", "120x360x60", "--workdir", str(tmp_path / "w"), "--json", str(result))
    cases = json.loads(result.read_text())["cases"]
    assert cases[0]["exit_code"] == 0 and cases[0]["peak_rss_mib"] > 10
    if peak_memory.reads_tiff(aimos):
        assert cases[1]["exit_code"] == 0, cases[1].get("note")
    else:
        assert cases[1]["note"].startswith("skipped")
