#!/usr/bin/env python3
"""Wall time and peak memory (maximum resident set size) of `aimos segment` on large inputs:
NIfTI scans of N^3 voxels and light-sheet TIFF stacks, for BENCHMARKS.md.

    python3 Tools/benchmarks/peak_memory.py                      # NIfTI 256^3, 512^3; TIFF 2000x6000x1500
    python3 Tools/benchmarks/peak_memory.py --nifti 128 --stack 500x1500x400
    python3 Tools/benchmarks/peak_memory.py --nifti none --stack 2000x6000x1500 --largest-that-fits

Inputs are generated into --workdir first (timed apart from aimos, and deleted after each case
unless --keep): int16 NIfTI scans (.nii.gz) resampled trilinearly from the bundled sample CT,
padded with air into a cube first so that voxels stay isotropic; TIFF stacks written plane by
plane by aimostools.lightsheet (the sample CT upsampled, light-sheet intensities and noise;
--stack-layout, --stack-dtype; no OME metadata, so aimos is given the voxel size). A stack
that does not fit the disk with --margin-gb to spare is skipped, or with --largest-that-fits cut
to the most planes that fit (the plane size, which a streaming reader's memory follows, kept).

aimos is run once per case under /usr/bin/time -v (its "Maximum resident set size"), or, where
that is missing, under a Python wrapper reading getrusage(RUSAGE_CHILDREN).ru_maxrss:
    aimos segment --input SCAN --output OUT/labels.nii.gz --quiet --threads T
    aimos segment --input STACK --voxel-size 0.006,0.006,0.006 --output OUT/labels.nii.gz --quiet --threads T
The stack is read right after it was written, so partly from the page cache, as a user's
stack copied in just before would be. TIFF cases need an aimos with TIFF input (its segment
--help names --working-voxel-size); with an older one they are skipped.

The binary: --aimos, else $AIMOS_CLI, $AIMOS_LIBRARY_DIR/aimos(-cli), .build/release/aimos(-cli).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import nibabel as nib
import numpy as np
import scipy.ndimage

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tools"))

from aimostools.lightsheet import stack_content, stack_writer  # noqa: E402

SAMPLE_CT = os.path.join(ROOT, "data", "sample", "sample_ct.nii.gz")
AIR_HU = -1000
GB = 1e9
# Runs a command and writes the largest resident set size of its process tree (KiB on Linux).
RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def find_aimos(explicit=None):
    candidates = [explicit, os.environ.get("AIMOS_CLI")]
    for folder in (os.environ.get("AIMOS_LIBRARY_DIR"), os.path.join(ROOT, ".build", "release")):
        if folder:
            candidates += [os.path.join(folder, "aimos"), os.path.join(folder, "aimos-cli")]
    for path in filter(None, candidates):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which("aimos")


def reads_tiff(aimos):
    help_text = subprocess.run([aimos, "segment", "--help"], capture_output=True, text=True).stdout
    return "--working-voxel-size" in help_text


def machine_line(threads):
    """CPU model, the vector flags that matter for aimos's kernels, cores, memory, threads."""
    name, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and name == "unknown CPU":
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    has = {f: f in flags for f in ("avx2", "fma", "avx512f")}
    has["amx"] = any(f.startswith("amx") for f in flags)
    summary = [f if present else f"no {f}" for f, present in has.items()]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        memory = f", {kib / 2 ** 20:.0f} GiB"
    except (OSError, StopIteration):
        pass
    used = f"{threads}" if threads else f"0 (all {cores})"
    return f"{name}; flags: {', '.join(summary)}; {cores} cores{memory}; aimos --threads {used}"


def parse_time_report(text):
    """Maximum resident set size in KiB from GNU time -v's report."""
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if not match:
        raise ValueError("no 'Maximum resident set size' in the time report")
    return int(match.group(1))


def measure(command, workdir, method="auto"):
    """Runs command once: (wall seconds, peak RSS in MiB, return code, stderr tail)."""
    if method == "auto":
        method = "time" if os.access("/usr/bin/time", os.X_OK) else "rusage"
    report = os.path.join(workdir, ".rss_report")
    if method == "time":
        wrapped = ["/usr/bin/time", "-v", "-o", report, *command]
    else:
        wrapped = [sys.executable, "-c", RUSAGE_WRAPPER, report, *command]
    start = time.perf_counter()
    run = subprocess.run(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    with open(report) as f:
        text = f.read()
    os.remove(report)
    kib = parse_time_report(text) if method == "time" else int(text)
    return seconds, kib / 1024, run.returncode, run.stderr[-2000:]


def write_nifti_cube(path, side):
    """The sample CT padded with air into an isotropic cube and resampled to side^3, int16."""
    image = nib.load(SAMPLE_CT)
    data = np.asarray(image.dataobj, dtype=np.float32)
    cube = max(data.shape)
    padded = np.full((cube,) * 3, AIR_HU, np.float32)
    start = [(cube - n) // 2 for n in data.shape]
    padded[tuple(slice(s, s + n) for s, n in zip(start, data.shape))] = data
    resampled = scipy.ndimage.zoom(padded, side / cube, output=np.int16, order=1, mode="nearest", grid_mode=True)
    spacing = float(image.header.get_zooms()[0]) * cube / side
    nib.save(nib.Nifti1Image(resampled, np.diag([spacing] * 3 + [1.0])), path)
    return resampled.size


def write_stack(path, shape, layout, dtype):
    """The sample CT upsampled onto a light-sheet stack of shape (X, Y, Z), without OME metadata."""
    planes = stack_content.LightsheetPlanes(stack_content.source_from_scan(SAMPLE_CT), shape, dtype)
    stack_writer.write_stack(path, planes, shape, dtype, layout, workers=min(2, os.cpu_count() or 1))
    return shape[0] * shape[1] * shape[2]


def bytes_on_disk(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path))
    return os.path.getsize(path)


def fitting_shape(shape, dtype, free_bytes, margin_bytes):
    """The shape with as many planes as fit in free_bytes less the margin (None if not one)."""
    plane = stack_writer.stack_bytes((shape[0], shape[1], 1), dtype)
    planes = int((free_bytes - margin_bytes) // plane)
    if planes < 1:
        return None
    return (shape[0], shape[1], min(shape[2], planes))


def parse_shape(text):
    sizes = tuple(int(v) for v in text.lower().replace(",", "x").split("x"))
    if len(sizes) != 3 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"a stack shape is XxYxZ, not {text!r}")
    return sizes


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nifti", default="256,512", help="cube sides of the NIfTI cases, or 'none'")
    parser.add_argument("--stack", action="append", help="TIFF stack XxYxZ (repeatable; default "
                        "2000x6000x1500), or 'none'")
    parser.add_argument("--stack-voxel-um", type=float, default=6.0, help="the stacks' voxel size in µm")
    parser.add_argument("--stack-layout", choices=stack_writer.LAYOUTS, default="planes")
    parser.add_argument("--stack-dtype", choices=list(stack_writer.DTYPES), default="uint16")
    parser.add_argument("--largest-that-fits", action="store_true",
                        help="cut a stack that does not fit the disk to the most planes that do")
    parser.add_argument("--margin-gb", type=float, default=5.0, help="disk left free (default 5 GB)")
    parser.add_argument("--workdir", help="where inputs and outputs go (default: a new folder in the temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated inputs and outputs")
    parser.add_argument("--aimos", help="the aimos binary")
    parser.add_argument("--model", help="passed on to aimos segment --model")
    parser.add_argument("--threads", type=int, default=0, help="aimos --threads (0: all cores)")
    parser.add_argument("--rss-method", choices=["auto", "time", "rusage"], default="auto")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    args.nifti = [] if args.nifti.lower() == "none" else [int(v) for v in args.nifti.split(",")]
    stacks = args.stack or ["2000x6000x1500"]
    args.stack = [] if [s.lower() for s in stacks] == ["none"] else [parse_shape(s) for s in stacks]
    return args


def stack_name(args, shape, planes_wanted=None):
    name = (f"TIFF {args.stack_layout} {shape[0]} x {shape[1]} x {shape[2]} {args.stack_dtype}, "
            f"{args.stack_voxel_um:g} µm")
    return name + (f" (cut from {planes_wanted} planes to fit the disk)" if planes_wanted else "")


def cases(args):
    for side in args.nifti:
        yield {"case": f"NIfTI {side}^3 int16 (.nii.gz)", "kind": "nifti", "side": side}
    for shape in args.stack:
        yield {"case": stack_name(args, shape), "kind": "tiff", "shape": shape}


def shape_that_fits(case, args, workdir):
    """A stack case's shape if it fits the disk with the margin to spare; else, with
    --largest-that-fits, the most planes that do; else None (case['note'] says why)."""
    shape = case["shape"]
    needed = stack_writer.stack_bytes(shape, args.stack_dtype)
    free = shutil.disk_usage(workdir).free
    margin = args.margin_gb * GB
    if needed + margin <= free:
        return shape
    message = (f"{case['case']} takes {needed / GB:.1f} GB; {free / GB:.1f} GB are free and "
               f"{args.margin_gb:g} GB are to stay free")
    fitted = fitting_shape(shape, args.stack_dtype, free, margin) if args.largest_that_fits else None
    if fitted is None:
        case["note"] = "skipped: " + message
        print(case["note"], file=sys.stderr)
        return None
    print(f"{message}: using {fitted[2]} of its {shape[2]} planes", file=sys.stderr)
    case["case"] = stack_name(args, fitted, shape[2])
    return fitted


def generate(case, args, folder, workdir):
    """Writes the case's input into folder: (its path, aimos's extra options), or None to skip."""
    if case["kind"] == "nifti":
        path = os.path.join(folder, "scan.nii.gz")
        case["voxels"] = write_nifti_cube(path, case["side"])
        return path, []
    shape = shape_that_fits(case, args, workdir)
    if shape is None:
        return None
    path = os.path.join(folder, "stack" if args.stack_layout == "planes" else "stack.tif")
    case["voxels"] = write_stack(path, shape, args.stack_layout, args.stack_dtype)
    return path, ["--voxel-size", ",".join([f"{args.stack_voxel_um / 1000:g}"] * 3)]


def run_case(case, args, aimos, workdir, tiff_ok):
    if case["kind"] == "tiff" and not tiff_ok:
        case["note"] = "skipped: this aimos has no TIFF input (no --working-voxel-size)"
        return case
    folder = tempfile.mkdtemp(prefix="case-", dir=workdir)
    try:
        start = time.perf_counter()
        generated = generate(case, args, folder, workdir)
        if generated is None:
            return case
        source, options = generated
        case["generation_s"] = time.perf_counter() - start
        case["input_bytes"] = bytes_on_disk(source)
        command = [aimos, "segment", "--input", source, *options, "--output", os.path.join(folder, "labels.nii.gz"),
                   "--quiet", "--threads", str(args.threads)]
        if args.model:
            command += ["--model", args.model]
        case["command"] = " ".join(command)
        seconds, rss_mib, code, stderr = measure(command, workdir, args.rss_method)
        case.update(aimos_s=seconds, peak_rss_mib=rss_mib, exit_code=code)
        if code != 0:
            case["note"] = f"aimos failed (exit {code}): {stderr.strip()[-500:]}"
        return case
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def readable_bytes(count):
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:,.1f} {unit}"
    return f"{count} B"


def table(results):
    lines = ["| case | voxels | input | generation s | aimos s | peak RSS MiB |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        if "aimos_s" not in r:
            lines.append(f"| {r['case']} | | | | {r.get('note', '')} | |")
            continue
        seconds = f"{r['aimos_s']:.1f}" if r["exit_code"] == 0 else f"failed (exit {r['exit_code']})"
        lines.append(f"| {r['case']} | {r['voxels']:,} | {readable_bytes(r['input_bytes'])} | "
                     f"{r['generation_s']:.1f} | {seconds} | {r['peak_rss_mib']:,.0f} |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    aimos = find_aimos(args.aimos)
    if not aimos:
        sys.exit("peak_memory: no aimos binary (build it, or give --aimos or $AIMOS_CLI)")
    workdir = args.workdir or tempfile.mkdtemp(prefix="aimos-peak-memory-")
    os.makedirs(workdir, exist_ok=True)
    tiff_ok = bool(args.stack) and reads_tiff(aimos)
    version = subprocess.run([aimos, "--version"], capture_output=True, text=True).stdout.strip()
    results = []
    for case in cases(args):
        print(f"== {case['case']}", file=sys.stderr, flush=True)
        results.append(run_case(case, args, aimos, workdir, tiff_ok))
    if not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    machine = machine_line(args.threads)
    sys.stderr.flush()
    print(table(results))
    print()
    print(f"Machine: {machine}. aimos {version} ({aimos}).")
    for r in results:
        if r.get("note") and "aimos_s" in r:
            print(f"{r['case']}: {r['note']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "aimos": aimos, "aimos_version": version, "cases": results}, f, indent=1)
    return 1 if any(r.get("exit_code") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
