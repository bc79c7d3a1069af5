"""Tools/benchmarks/compare_engines.py, on a tiny case: it runs aimos (through the C ABI, on two
kernel paths), PyTorch and ONNX Runtime, the ONNX export computes what the PyTorch module does,
and the JSON it writes holds a positive time and ratios for every engine."""
import json
import math
import os
import subprocess
import sys

import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO = os.path.dirname(TOOLS)


def test_compare_engines_runs_every_engine(tmp_path):
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed (.ci/run installs it)")
    pytest.importorskip("onnx", reason="onnx not installed (.ci/run installs it)")
    library = os.environ.get("AIMOS_LIBRARY_DIR") or os.path.join(REPO, ".build", "release")
    if not os.path.exists(os.path.join(library, "libaimos.so")):
        pytest.skip(f"no libaimos.so in {library}: build it (swift build -c release) or set AIMOS_LIBRARY_DIR")
    out = tmp_path / "result.json"
    env = dict(os.environ, AIMOS_LIBRARY_DIR=library)
    run = subprocess.run([sys.executable, os.path.join(TOOLS, "benchmarks", "compare_engines.py"),
                          "--architecture", "Unet64", "--size", "32", "--slices", "2", "--threads", "1",
                          "--runs", "1", "--classes", "3", "--kernels", "auto,reference", "--json", str(out)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["onnx_max_abs_difference"] < 1e-4
    for engine in ["aimos_auto", "aimos_reference", "pytorch", "onnxruntime"]:
        assert result[engine] > 0 and math.isfinite(result[engine]), engine
        assert result[f"{engine}_vs_onnxruntime"] > 0, engine
        assert engine in run.stdout
    assert result["onnxruntime_vs_onnxruntime"] == 1.0
    assert len(result["rounds"]) == 1
