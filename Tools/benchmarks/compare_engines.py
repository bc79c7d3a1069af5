#!/usr/bin/env python3
"""Times aimos (through its C ABI, aimos_segment_volume on a float32 volume), PyTorch and ONNX
Runtime on the CPU in one run, on the same weights, and prints the ratios.

    python3 -m pip install torch onnx onnxruntime      # from PyPI
    python3 Tools/benchmarks/compare_engines.py --architecture Unet768 --size 256 --slices 8 --threads 2

aimos is timed from the volume to the label map (resize, z-score, network, sigmoid, argmax,
resampling), so its figure includes work the peers are spared: they are timed on the network
and the sigmoid only, on a batch of z-scored slices. The ONNX file is exported from the same
PyTorch module (opset 17, dynamic batch). Each engine runs once to warm up, then --runs times;
the median is reported. --kernels times aimos on each listed kernel path (AIMOS_CPU_KERNELS).
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


def median_time(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_model(architecture, size, classes, directory):
    net = reference.AimosUNet(architecture, classes).eval()
    state = {k: test_weights.tensor(k, tuple(v.shape)) for k, v in net.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    net.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()}, strict=False)
    meta = {"architecture": architecture, "classes": [f"class{i}" for i in range(classes)], "input_size": size}
    path = os.path.join(directory, f"{architecture.lower()}.safetensors")
    safetensors_io.write(path, state, {"aimos": json.dumps(meta)})
    return net, path


def time_aimos(model_path, volume, threads, runs, kernels):
    import aimos
    os.environ["AIMOS_CPU_KERNELS"] = kernels
    with aimos.Model(model_path) as model:
        return median_time(lambda: model.segment(volume, 0.1, orientation="none", slice_axis=2, threads=threads), runs)


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
                   "torch": torch.__version__, "onnxruntime": ort.__version__}
        for kernels in args.kernels.split(","):
            results[f"aimos_{kernels}"] = time_aimos(model_path, volume, args.threads, args.runs, kernels) / args.slices

        if not args.no_pytorch:
            with torch.no_grad():
                results["pytorch"] = median_time(lambda: torch.sigmoid(net(batch)), args.runs) / args.slices

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
        results["onnxruntime"] = median_time(run_onnx, args.runs) / args.slices

    print(f"cpu: {name} ({' '.join(flags)}); {args.architecture} at {args.size}, {args.slices} slices, {args.threads} threads")
    print(f"{'engine':<20} {'s/slice':>9} {'/ ONNX Runtime':>15} {'/ PyTorch':>10}")
    for key in [k for k in results if k.startswith("aimos_")] + ["pytorch", "onnxruntime"]:
        if key not in results:
            continue
        t = results[key]
        vs_ort = t / results["onnxruntime"]
        vs_pt = t / results["pytorch"] if "pytorch" in results else float("nan")
        print(f"{key:<20} {t:9.4f} {vs_ort:15.2f} {vs_pt:10.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
