#!/usr/bin/env bash
# The ABI check (issue 13): a library built now must serve every program built against an
# earlier header.
#   1. Old callers: Tests/abi/old_caller.c, built against each header kept in include-*/ (0.1,
#      0.3, 1.0, 1.1), runs against the library built now.
#   2. Exported symbols: abidiff of libaimos.so against baseline/libaimos.abi; a removed symbol
#      (abidiff's "incompatible" bit) fails. Every exported aimos_* symbol must be declared
#      in abi_surface.c, unless experimental.
#   3. Types: abidiff of abi_surface.c's debug info (every signature, struct and enum of
#      include/aimos.h) against baseline/surface.abi; fails on a moved, removed or retyped field,
#      a changed enumerator value or a changed signature. Appending fields to a struct (at its
#      end: struct_size) and adding enumerators or functions pass.
# Needs abigail-tools (abidw, abidiff). Usage:
#   bash Tests/abi/check.sh [library dir]        check (default .build/release)
#   bash Tests/abi/check.sh --update [lib dir]   rewrite the baselines, for a release that only
#                                                adds; commit them with the change
#   ABI_CHECK_HEADER=<dir with aimos.h> ...      check that header's types instead (self-test)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/Tests/abi"
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
lib="${1:-$root/.build/release}"
header_dir="${ABI_CHECK_HEADER:-$root/include}"
work="$root/.build/abi-check"
mkdir -p "$work/scratch"
command -v abidiff >/dev/null || { echo "abidiff not found: apt-get install abigail-tools" >&2; exit 2; }
test -f "$lib/libaimos.so" || { echo "no $lib/libaimos.so: build the library first" >&2; exit 2; }

# The type surface of a header: abi_surface.c compiled with debug info, as abidw reads it.
surface_abi() {  # <header dir> <out.abi>
    cc -g -O0 -shared -fPIC -I"$1" "$here/abi_surface.c" -o "$work/surface.so"
    abidw --no-corpus-path --no-show-locs "$work/surface.so" --out-file "$2"
}

# The exported symbols of a library: abidw of a copy without debug info (the symbol table is
# what this part compares; the types are the header surface's. abidw 2.2 also asserts on the
# C++ debug info of the DICOM bridge).
symbols_abi() {  # <library> <out.abi>
    objcopy --strip-debug "$1" "$work/stripped.so"
    abidw --no-corpus-path --no-show-locs "$work/stripped.so" --out-file "$2"
}

if [ "$update" = 1 ]; then
    symbols_abi "$lib/libaimos.so" "$here/baseline/libaimos.abi"
    surface_abi "$root/include" "$here/baseline/surface.abi"
    echo "baselines rewritten: Tests/abi/baseline/{libaimos,surface}.abi"
    exit 0
fi

failed=0
# Programs link by the SONAME, libaimos.so.0, as against an installed library.
mkdir -p "$work/lib"
ln -sfn "$lib/libaimos.so" "$work/lib/libaimos.so.0"
ln -sfn "$lib/libaimos.so" "$work/lib/libaimos.so"

if [ -z "${ABI_CHECK_HEADER:-}" ]; then
    echo "-- programs built against old headers, run against this library"
    for old in "$here"/include-*/; do
        version=$(basename "$old"); version=${version#include-}
        cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O1 -I"$old" -I"$root/Tests/c" \
           "$here/old_caller.c" -L"$work/lib" -laimos -Wl,-rpath,"$work/lib" -lm -o "$work/old_caller_$version"
        if ! "$work/old_caller_$version" "$root/Tests/AimosCoreTests/Fixtures" "$work/scratch"; then
            echo "FAIL: a program built against the $version header" >&2; failed=1
        fi
    done

    echo "-- exported symbols against baseline/libaimos.abi"
    symbols_abi "$lib/libaimos.so" "$work/libaimos.abi"
    set +e; abidiff "$here/baseline/libaimos.abi" "$work/libaimos.abi" > "$work/symbols.txt"; rc=$?; set -e
    if [ $((rc & 8)) -ne 0 ] || [ $((rc & 3)) -ne 0 ]; then
        cat "$work/symbols.txt"; echo "FAIL: exported symbols removed (abidiff exit $rc)" >&2; failed=1
    elif grep -q "Added function symbol" "$work/symbols.txt"; then
        grep "\[A\]" "$work/symbols.txt" | sed 's/^ */   added: /'
    fi
    exported=$(nm -D --defined-only "$lib/libaimos.so" | awk '$2 == "T" && $3 ~ /^aimos_/ {sub(/@.*/, "", $3); print $3}')
    for symbol in $exported; do
        case "$symbol" in aimos_experimental_*) continue ;; esac
        grep -q "AIMOS_ENTRY($symbol)" "$here/abi_surface.c" ||
            { echo "FAIL: $symbol is exported but not listed in Tests/abi/abi_surface.c" >&2; failed=1; }
    done
fi

echo "-- the header's types and signatures against baseline/surface.abi"
surface_abi "$header_dir" "$work/surface.abi"
set +e; abidiff "$here/baseline/surface.abi" "$work/surface.abi" > "$work/types.txt"; rc=$?; set -e
if [ $((rc & 11)) -ne 0 ]; then
    cat "$work/types.txt"; echo "FAIL: abidiff exit $rc" >&2; failed=1
elif [ "$rc" -ne 0 ]; then
    # What breaks a compiled caller: a field that moved, went or changed type; an enumerator's
    # new value; a renamed or resized type; a parameter added or removed. A struct that grew by
    # appended fields reports "type size changed" next to insertions at offsets past its old
    # size; any other size change is a break.
    if python3 - "$work/types.txt" <<'PY'
import re, sys
bad = []
lines = open(sys.argv[1]).read().splitlines()
for i, line in enumerate(lines):
    if re.search(r"offset changed|data member deletion|data members? removed|enumerator change|enumerator deletion|"
                 r"name changed|parameter \d+ of type .* was (added|removed)|Removed function|Removed variable", line):
        bad.append(line.strip())
    m = re.search(r"type size changed from (\d+) to (\d+) \(in bits\)$", line)
    if m:
        old, new = int(m.group(1)), int(m.group(2))
        inserted = [int(o) for o in re.findall(r"at offset (\d+) \(in bits\)", "\n".join(lines[i + 1:i + 40]).split("type size changed")[0])]
        if new < old or not inserted or min(inserted) < old:
            bad.append(line.strip())
sys.exit(1 if bad else 0)
PY
    then
        echo "   compatible additions only (new codes or functions, structs grown at their end): update the baseline with the release"
    else
        cat "$work/types.txt"; echo "FAIL: an incompatible change to the header's types or signatures" >&2; failed=1
    fi
fi

if [ "$failed" -ne 0 ]; then exit 1; fi
if [ -n "${ABI_CHECK_HEADER:-}" ]; then
    echo "ABI check passed: no type of $header_dir/aimos.h changed incompatibly"
else
    echo "ABI check passed: old callers run, no symbol removed, no type changed incompatibly"
fi
