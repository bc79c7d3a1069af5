#!/usr/bin/env bash
# Runs every test of the project: the Swift engine tests (golden parity with the PyTorch
# reference), the C ABI test (with valgrind where installed), and the Python tool tests.
# Usage: bash Tests/run_all.sh        (from anywhere; needs the packages .ci/run installs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== swift build -c release"
swift build -c release
echo "== swift test"
swift test
echo "== C ABI test"
bash Tests/c/run.sh
