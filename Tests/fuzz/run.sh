#!/usr/bin/env bash
# Fuzzes the untrusted-input readers with libFuzzer under AddressSanitizer (and LeakSanitizer):
# the model loader, the metadata JSON parser, the NIfTI, DICOM and TIFF readers (Tests/fuzz/Sources). Each
# target runs for a bounded time from its seed corpus (Tests/fuzz/corpus/<target>, made by
# make_seeds.py, plus the project's own model and NIfTI fixtures); any crash, leak, timeout or
# allocation over the limit fails, leaving the input in .build/fuzz/artifacts/<target>/.
# Prints and writes .build/fuzz/summary.txt: executions per second and coverage per target.
#
# Usage: bash Tests/fuzz/run.sh [seconds per target, default 60] [targets...]
#   (CI runs 30 s each; a soak run: bash Tests/fuzz/run.sh 3600)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
seconds=${1:-60}
shift || true
targets=${*:-model metadata nifti dicom tiff}
scratch="$root/.build/fuzz"

echo "building the harnesses (libFuzzer + AddressSanitizer)"
# One combined -sanitize=fuzzer,address for swiftc: SwiftPM passes --sanitize options one by one,
# and swiftc keeps only the last, which would leave the Swift code without coverage counters.
mkdir -p "$scratch"
swift build --product aimos-fuzz --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
    -Xcc -fsanitize=address -Xswiftc -DAIMOS_FUZZ > "$scratch/build.log" 2>&1 || { tail -30 "$scratch/build.log"; exit 1; }
binary="$scratch/debug/aimos-fuzz"

summary="$scratch/summary.txt"
: > "$summary"
failed=0
for target in $targets; do
    work="$scratch/corpus/$target"; artifacts="$scratch/artifacts/$target/"
    rm -rf "$work" "$artifacts"; mkdir -p "$work" "$artifacts"
    seeds=("$root/Tests/fuzz/corpus/$target")
    case "$target" in
        model) extra="-seed_inputs=$root/Tests/AimosCoreTests/Fixtures/unet64_c4_s32_f16.safetensors" ;;
        nifti) seeds+=("$root/Tests/AimosPipelineTests/Fixtures"); extra="" ;;
        *) extra="" ;;
    esac
    log="$scratch/$target.log"
    # -rss_limit_mb / -malloc_limit_mb: a header that makes aimos allocate what it claims is a
    # failure; -timeout: a hang is one too (dicom: 120 s, as the seed finding_gdcm_lenient_claim_4gb
    # has GDCM fill its 4 GB in the trial-read child, 20-50 s of page faults under ASan on a 2-core
    # AMD EPYC VM, 2026-12-03). The dicom target allows 4.5 GB: GDCM parses leniently
    # (it retries an element as implicit VR where explicit fails) and then allocates what such an
    # element claims, up to 4 GB, before aimos can see it (SECURITY.md); the element-length walk
    # (element_lengths.cpp) refuses what it can see first. The tiff target holds one plane of up
    # to 1 GiB (TiffStack.maxPlaneBytes).
    set +e
    # Leaks inside Debian's GDCM are suppressed by name (lsan.supp says which and why); GDCM has
    # no frame pointers, so allocations are unwound the slow way to see its frames.
    AIMOS_FUZZ_TARGET=$target LSAN_OPTIONS="suppressions=$root/Tests/fuzz/lsan.supp:print_suppressions=0" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=$([ "$target" = dicom ] && echo 0 || echo 1)" \
        "$binary" "$work" "${seeds[@]}" $extra -max_total_time="$seconds" \
        -rss_limit_mb=$([ "$target" = dicom ] && echo 6144 || echo 3072) -malloc_limit_mb=$(case "$target" in dicom) echo 4608 ;; tiff) echo 1100 ;; *) echo 1024 ;; esac) \
        -timeout=$([ "$target" = dicom ] && echo 120 || echo 20) -max_len=600000 -print_final_stats=1 \
        -artifact_prefix="$artifacts" > "$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
    line="$target: ${runs:-?} runs in ${seconds} s, ${speed:-?} exec/s, ${coverage:-no coverage line} (edges, features), corpus $(ls "$work" | wc -l) inputs"
    if [ "$rc" -ne 0 ]; then
        line="$line -- FAILED (exit $rc), input kept in $artifacts"
        grep -m 20 -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY|^ +#[0-9]+ " "$log" || true
        failed=1
    fi
    echo "$line" | tee -a "$summary"
done
[ "$failed" -eq 0 ] || { echo "fuzzing found a problem: see .build/fuzz/<target>.log" >&2; exit 1; }
echo "fuzzing passed: no crash, leak, hang or oversized allocation ($summary)"
