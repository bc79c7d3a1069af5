#!/usr/bin/env bash
# The Swift test suite under AddressSanitizer, and under ThreadSanitizer all of it but the golden
# parity tests (GoldenFixtureTests: 16 numeric comparisons with the PyTorch reference, which under
# TSan would take over 10 minutes on 2 cores and run under ASan anyway). TSan's part includes the
# C ABI stress test: 16 threads segmenting with one model while others load, free and misuse
# handles. Each build has its own scratch directory (.build/asan, .build/tsan). A report from
# either sanitizer fails the run.
#
# Leaks: the XCTest harness itself leaks its test-suite objects at exit, so LeakSanitizer is off
# here; aimos's own leaks are checked by valgrind on the C ABI test (Tests/c/run.sh) and by
# LeakSanitizer in the fuzzers (Tests/fuzz/run.sh).
#
# Usage: bash Tests/sanitizers/run.sh [address|thread ...]   (default: both)
#        AIMOS_TSAN_FULL=1 ...   the golden tests under ThreadSanitizer too (slow)
set -euo pipefail  # pipefail: a failing swift test fails the run through the grep
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
which=${*:-address thread}

for sanitizer in $which; do
    case "$sanitizer" in
        address)
            echo "-- swift test --sanitize=address (the whole suite)"
            ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
                swift test --sanitize=address --scratch-path .build/asan 2>&1 | grep -v "warning: Cannot export local symbol" ;;
        thread)
            filter=()
            [ "${AIMOS_TSAN_FULL:-0}" = 1 ] || filter=(--skip GoldenFixtureTests)
            echo "-- swift test --sanitize=thread ${filter[*]:-(the whole suite)}"
            TSAN_OPTIONS=halt_on_error=1:abort_on_error=1 \
                swift test --sanitize=thread --scratch-path .build/tsan "${filter[@]}" 2>&1 | grep -v "warning: Cannot export local symbol" ;;
        *) echo "unknown sanitizer '$sanitizer' (address or thread)" >&2; exit 2 ;;
    esac
done
echo "sanitizer builds passed: $which"
