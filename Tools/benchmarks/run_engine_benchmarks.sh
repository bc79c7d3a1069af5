#!/usr/bin/env bash
# The engine benchmarks of BENCHMARKS.md, in one run: aimos (each kernel path this CPU has),
# PyTorch and ONNX Runtime side by side (compare_engines.py), for Unet768 on 1 and 2 threads,
# Unet64/128/256 on 2 threads, one-slice latency, and aimos bench on a 256 x 256 x 200 volume
# for memory. Results (JSON, one file per case) go to $1 (default /tmp/aimos-engine-bench).
# Needs: swift build -c release --static-swift-stdlib; pip install torch onnx onnxruntime.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/aimos-engine-bench}
mkdir -p "$out"
export AIMOS_LIBRARY_DIR="$root/.build/release"
paths=$("$root/.build/release/aimos-cli" info --system | sed -n 's/^kernel paths: \(.*\) (best.*/\1/p' | tr -d ' ')
compare() { python3 "$root/Tools/benchmarks/compare_engines.py" "$@" 2>&1 | grep -v -i warning; }
compare --architecture Unet768 --threads 2 --runs 7 --kernels "auto,$paths" --json "$out/unet768_t2.json"
compare --architecture Unet768 --threads 1 --kernels auto,avx2 --json "$out/unet768_t1.json"
for a in Unet64 Unet128 Unet256; do
    compare --architecture $a --threads 2 --kernels auto,avx2 --json "$out/${a,,}_t2.json"
done
compare --architecture Unet768 --threads 2 --slices 1 --runs 9 --kernels auto,avx2 --json "$out/unet768_latency.json"
"$root/.build/release/aimos-cli" bench --architecture Unet768 --slices 200 --runs 1 --threads 2 --json > "$out/unet768_200_slices.json"
cat "$out/unet768_200_slices.json"
