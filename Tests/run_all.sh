#!/usr/bin/env bash
# Runs every test of the project (needs the packages .ci/run installs):
#   the Swift engine and pipeline tests (golden parity with the PyTorch reference),
#   the C ABI test (with valgrind where installed, cancellation at every slice, allocation failure),
#   the ABI check (programs built against the 0.1, 0.3, 1.0 and 1.1 headers; abidiff against the baseline),
#   untrusted inputs (hostile model, NIfTI and DICOM files; libFuzzer, bounded; ASan and TSan builds),
#   the command on label maps (aimos volumes, evaluate, disagreement, variability, allocate),
#   the scan-layout tests (48 anatomical layouts, beds, several animals, voxel units),
#   the DICOM tests (series written by pydicom against the NIfTI route; PET on its own grid),
#   the light-sheet tests (TIFF stacks streamed onto a working grid; a 1 GB stack's peak memory),
#   the cohort tests (cohort mode with resume and provenance; the Snakemake workflow interrupted),
#   the Python tools' tests (converter, synthesis, training, metrics),
#   the viewer tests (3D Slicer's core libraries and ITK open the outputs),
#   the embedding tests (Python binding, Fiji plugin, C example, CMake install + consumers).
# Usage: bash Tests/run_all.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export AIMOS_LIBRARY_DIR="$root/.build/release"

# Each suite is a section; the seconds each took are printed at the end (CI's time budget).
timings=() section_name="" section_start=$SECONDS
finish_section() { [ -z "$section_name" ] || timings+=("$(printf '%6d s  %s' $((SECONDS - section_start)) "${section_name:0:90}")"); }
section() { finish_section; section_name=$1; section_start=$SECONDS; echo "== $1"; }

section "swift build -c release --static-swift-stdlib"
swift build -c release --static-swift-stdlib
section "swift test"
swift test
section "C ABI test"
bash Tests/c/run.sh
section "ABI compatibility: programs built against the 0.1, 0.3, 1.0 and 1.1 headers, abidiff against the baseline"
bash Tests/abi/check.sh
bash Tests/abi/test_check.sh
section "Untrusted inputs: hostile model, NIfTI, DICOM and TIFF files through the C ABI, the fuzzers' seed corpora replayed"
python3 -m pytest -q -rs Tests/fuzz
for target in model metadata nifti dicom tiff; do .build/release/aimos-fuzz "$target" "Tests/fuzz/corpus/$target"; done
section "Fuzzing: libFuzzer + ASan on the model loader, the metadata parser, the NIfTI, DICOM and TIFF readers (${AIMOS_FUZZ_SECONDS:-30} s each)"
bash Tests/fuzz/run.sh "${AIMOS_FUZZ_SECONDS:-30}"
section "Sanitizers: the Swift tests under AddressSanitizer and (but the golden parity tests) ThreadSanitizer"
bash Tests/sanitizers/run.sh
section "The command on label maps: volumes, the paper's analyses (real maps in ../shared), untrusted NIfTI headers"
python3 -m pytest -q -rs Tests/cli
section "Scan layouts: orientation in all 48 layouts, body crop, several animals, voxel units"
python3 -m pytest -q -rs Tests/scan_layout
section "DICOM series in (orientations, shuffled files, two series, defects, compressed, multi-frame) and signals on their own grids"
python3 -m pytest -q -rs Tests/dicom
section "Light-sheet TIFF stacks (layouts, block means, full-resolution planes, the ABI's plane callback, defects, a 1 GB stack in bounded memory)"
python3 -m pytest -q -rs Tests/lightsheet
section "Cohorts: aimos segment --output-dir (resume, failures, cohort table, provenance) and the Snakemake workflow (interrupted, resumed)"
python3 -m pytest -q -rs Tests/cohort
section "Viewers: 3D Slicer (slicer-core) and ITK-SNAP's reader (ITK) open the outputs"
python3 -m pytest -q -rs Tests/viewers
section "Python tools"
python3 -m pytest -q -rs Tools/tests
section "Python binding"
python3 -m pytest -q -rs Examples/python
section "Fiji plugin"
bash Examples/fiji/test.sh
section "CMake build and ctest (C ABI test, C example, install + pkg-config and find_package consumers)"
cmake -S . -B .build/cmake -DAIMOS_LIBRARY_DIR="$AIMOS_LIBRARY_DIR" >/dev/null
cmake --build .build/cmake
# c_abi is the C ABI test that Tests/c/run.sh ran above (also under valgrind): not again.
(cd .build/cmake && ctest --output-on-failure -E '^c_abi$')
finish_section
printf '%s\n' "seconds per suite:" "${timings[@]}" "$(printf '%6d s  all' "$SECONDS")"
echo "all test suites passed"
