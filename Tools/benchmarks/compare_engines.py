#!/usr/bin/env python3
"""Times aimos (through its C ABI, aimos_segment_volume on a float32 volume), PyTorch and ONNX
Runtime on the CPU in one run, on the same weights, and prints the ratios.

    python3 -m pip install torch onnx onnxruntime      # from PyPI
    python3 Tools/benchmarks/compare_engines.py --architecture Unet768 --size 256 --slices 8 --threads 2

aimos is timed from the volume to the label map (resize, z-score, network, sigmoid, argmax,
resampling), so its figure includes work the peers are spared: they are timed on the network
and the sigmoid only, on a batch of z-scored slices. The ONNX file is exported from the same
PyTorch module (opset 17, dynamic batch). --kernels times aimos on each listed kernel path
(AIMOS_CPU_KERNELS, one model loaded per path).

Every engine runs once to warm up; then --runs rounds, each running every engine in turn (once
untimed, then timed: the first run after another engine's is slowed by that engine's spinning
threads and memory), so that a shared machine's drift falls on all of them alike. Reported: each engine's median
time, and the median over rounds of its ratio to ONNX Runtime and to PyTorch in that round.
"""
import argparse
import ctypes
import json
import os
import platform
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Examples", "python"))

from aimostools.checkpoint import safetensors_io  # noqa: E402
from aimostools.unet import reference  # noqa: E402
from aimostools.unet import test_weights  # noqa: E402


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor(), []
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    wanted = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "amx_tile", "amx_bf16"]
    return name, [f for f in wanted if f in flags]


def timed(fn):
    # The first run after another engine's is slower (another engine's threads still spinning,
    # its memory still to be faulted back in): run once untimed, after a pause, then time.
    time.sleep(0.3)
    fn()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def make_model(architecture, size, classes, directory):
    net = reference.AimosUNet(architecture, classes).eval()
    state = {k: test_weights.tensor(k, tuple(v.shape)) for k, v in net.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    net.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()}, strict=False)
    meta = {"architecture": architecture, "classes": [f"class{i}" for i in range(classes)], "input_size": size}
    path = os.path.join(directory, f"{architecture.lower()}.safetensors")
    safetensors_io.write(path, state, {"aimos": json.dumps(meta)})
    return net, path


def aimos_runner(model_path, volume, threads, kernels):
    """aimos on one kernel path (the path is fixed when the model is loaded)."""
    import aimos
    os.environ["AIMOS_CPU_KERNELS"] = kernels
    model = aimos.Model(model_path)
    os.environ.pop("AIMOS_CPU_KERNELS")
    return model, lambda: model.segment(volume, 0.1, orientation="none", slice_axis=2, threads=threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", default="Unet768")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--classes", type=int, default=11)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kernels", default="auto", help="comma-separated aimos kernel paths, e.g. auto,avx2,reference")
    parser.add_argument("--no-pytorch", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    import onnxruntime as ort
    torch.set_num_threads(args.threads)
    name, flags = cpu_model()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        net, model_path = make_model(args.architecture, args.size, args.classes, tmp)
        x = np.linspace(0, 1, args.size, dtype=np.float32)
        volume = (np.sin(12 * x)[:, None, None] + np.cos(17 * x)[None, :, None]
                  + 0.1 * rng.standard_normal((args.size, args.size, args.slices), dtype=np.float32)).astype(np.float32)
        batch = torch.from_numpy(rng.standard_normal((args.slices, 1, args.size, args.size), dtype=np.float32))

        results = {"architecture": args.architecture, "size": args.size, "slices": args.slices,
                   "threads": args.threads, "cpu": name, "flags": flags,
                   "torch_version": torch.__version__, "onnxruntime_version": ort.__version__}
        runners, models = {}, []
        for kernels in args.kernels.split(","):
            model, run = aimos_runner(model_path, volume, args.threads, kernels)
            models.append(model)
            runners[f"aimos_{kernels}"] = run
        if not args.no_pytorch:
            def run_torch():
                with torch.no_grad():
                    return torch.sigmoid(net(batch))
            runners["pytorch"] = run_torch

        onnx_path = os.path.join(tmp, "model.onnx")
        torch.onnx.export(net, batch[:1], onnx_path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=17, dynamo=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        feed = batch.numpy()

        def run_onnx():
            y = session.run(None, {"x": feed})[0]
            return 1 / (1 + np.exp(-y))
        runners["onnxruntime"] = run_onnx
        # The exported network is the PyTorch one: the same outputs on the benchmark's batch.
        with torch.no_grad():
            reference_output = torch.sigmoid(net(batch)).numpy()
        results["onnx_max_abs_difference"] = float(np.max(np.abs(run_onnx() - reference_output)))

        for run in runners.values():
            run()
        rounds = [{key: timed(run) / args.slices for key, run in runners.items()} for _ in range(args.runs)]
        for key in runners:
            results[key] = statistics.median(r[key] for r in rounds)
            results[f"{key}_vs_onnxruntime"] = statistics.median(r[key] / r["onnxruntime"] for r in rounds)
            if "pytorch" in runners:
                results[f"{key}_vs_pytorch"] = statistics.median(r[key] / r["pytorch"] for r in rounds)
        results["rounds"] = rounds
        for model in models:
            model.close()

    print(f"cpu: {name} ({' '.join(flags)}); {args.architecture} at {args.size}, {args.slices} slices, {args.threads} threads")
    print(f"{'engine':<20} {'s/slice':>9} {'/ ONNX Runtime':>15} {'/ PyTorch':>10}   (ratios: median over {args.runs} rounds)")
    for key in [k for k in results if k.startswith("aimos_") and "_vs_" not in k] + ["pytorch", "onnxruntime"]:
        if key not in results:
            continue
        vs_pt = results.get(f"{key}_vs_pytorch", float("nan"))
        print(f"{key:<20} {results[key]:9.4f} {results[key + '_vs_onnxruntime']:15.2f} {vs_pt:10.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
