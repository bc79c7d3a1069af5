#!/usr/bin/env bash
# Tests the type check of check.sh itself: edits of include/aimos.h that break compiled callers
# must fail it, edits that only add must pass. (Each edit is made on a copy in .build.)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/.build/abi-check/edits"
rm -rf "$work"; mkdir -p "$work"
passed=0; failed=0

expect() {  # <pass|fail> <name> <python replace: old> <new>
    local want=$1 name=$2
    mkdir -p "$work/$name"
    python3 - "$root/include/aimos.h" "$work/$name/aimos.h" "$3" "$4" <<'PY'
import sys
text = open(sys.argv[1]).read()
assert sys.argv[3] in text, "edit anchor not found: " + sys.argv[3]
open(sys.argv[2], "w").write(text.replace(sys.argv[3], sys.argv[4], 1))
PY
    if ABI_CHECK_HEADER="$work/$name" bash "$root/Tests/abi/check.sh" > "$work/$name/out.txt" 2>&1; then got=pass; else got=fail; fi
    if [ "$got" = "$want" ]; then
        echo "ok   $name: $got"; passed=$((passed + 1))
    else
        echo "FAIL $name: check.sh said $got, expected $want"; sed 's/^/     /' "$work/$name/out.txt" | tail -20
        failed=$((failed + 1))
    fi
}

expect pass "unchanged header" "#define AIMOS_H" "#define AIMOS_H"
expect pass "a field appended to aimos_options" "const char *dicom_series;   /*" "const char *dicom_series; int32_t appended;   /*"
expect pass "a status code added" "    AIMOS_ERROR_MISUSE = 8 " "    AIMOS_ERROR_MISUSE = 8,
    AIMOS_ERROR_LATER = 9 "
expect fail "a field inserted at the start of aimos_layout" "    char orientation[4];        /* the scan's layout used" "    int32_t inserted;
    char orientation[4];        /* the scan's layout used"
expect fail "a field removed from aimos_volume" "    double spacing_mm[3];  /* voxel size in mm along x, y, z; each finite and > 0 */
} aimos_volume;" "} aimos_volume;"
expect fail "a field widened in aimos_options" "    int32_t threads;  " "    int64_t threads;  "
expect fail "a status code renumbered" "AIMOS_ERROR_IO = 2," "AIMOS_ERROR_IO = 12,"
expect fail "a return type widened" "int32_t aimos_model_input_size(const aimos_model *model);" "int64_t aimos_model_input_size(const aimos_model *model);"
expect fail "a parameter added" "aimos_status aimos_load_model(const char *path, aimos_model **out_model);" "aimos_status aimos_load_model(const char *path, aimos_model **out_model, int flags);"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
