#!/usr/bin/env bash
# Runs the C example on tiny NIfTI scans made from a golden fixture and checks its label maps
# against the fixture's labels, its volume table against the fixture's label counts, and its
# handling of bad input.
#   test_example.sh EXAMPLE GOLDEN_NIFTI FIXTURES_DIR SCRATCH_DIR
set -euo pipefail
example=$1 helper=$2 fixtures=$3 scratch=$4
golden="$fixtures/unet64_axis2_int16.golden.safetensors"
model="$fixtures/unet64_c3_s32_f32.safetensors"
mkdir -p "$scratch"
rm -f "$scratch"/*.nii "$scratch"/*.nii.gz "$scratch"/*.hdr "$scratch"/*.img
"$helper" table "$golden" > "$scratch/expected_table.txt"

# Each case: the scan's datatype (int16 goes to aimos as it is; int64 and the scaled float32
# are converted), and the scan and label-map file names (single file, gzip, header pair).
cases=("int16 scan_int16.nii labels_int16.nii"
       "int64 scan_int64.hdr labels_int64.nii.gz"
       "float32-negated scan_negated.nii.gz labels_negated.nii")
for case in "${cases[@]}"; do
    read -r kind scan labels <<< "$case"
    "$helper" write "$golden" "$scratch/$scan" "$kind"
    # The fixture labels were made in the published behaviour: the voxel axes as the model's.
    "$example" "$model" "$scratch/$scan" "$scratch/$labels" none > "$scratch/out.txt" 2> "$scratch/err.txt" \
        || { cat "$scratch/out.txt" "$scratch/err.txt"; echo "FAIL: example on $kind" >&2; exit 1; }
    "$helper" check "$golden" "$scratch/$labels"
    grep -q "100%" "$scratch/err.txt" || { echo "FAIL: no 100% progress for $kind" >&2; exit 1; }
    # Table rows: class name voxels mm3 mL. Every fixture class must match in voxels, mm3, mL.
    awk 'NR == FNR { voxels[$1] = $2; mm3[$1] = $3; next }
         $1 ~ /^[0-9]+$/ && ($1 in voxels) {
             seen++
             if ($3 != voxels[$1] || ($4 - mm3[$1])^2 > 1e-8 || ($5 - mm3[$1] / 1000)^2 > 1e-12) {
                 print "FAIL: row " $0 " expected voxels " voxels[$1] " mm3 " mm3[$1]; bad = 1 }
         }
         END { if (seen != length(voxels)) { print "FAIL: " seen+0 " of " length(voxels) " rows"; bad = 1 }
               exit bad }' "$scratch/expected_table.txt" "$scratch/out.txt" \
        || { cat "$scratch/out.txt"; exit 1; }
    echo "ok: $kind scan ($scan -> $labels): labels and volume table match the fixture"
done
cat "$scratch/out.txt"

# Bad input: a clear message and exit status 1; bad usage: status 2.
expect_failure() {
    local want=$1 needle=$2; shift 2
    local status=0
    "$@" > "$scratch/out.txt" 2> "$scratch/err.txt" || status=$?
    if [ "$status" != "$want" ] || ! grep -q "$needle" "$scratch/err.txt"; then
        echo "FAIL: '$*' gave status $status (want $want), stderr:" >&2; cat "$scratch/err.txt" >&2; exit 1
    fi
    echo "ok: status $want and '$needle' for: ${*##*/}"
}
expect_failure 1 "AIMOS_ERROR_IO" "$example" "$scratch/no_such_model.safetensors" "$scratch/scan_int16.nii" "$scratch/x.nii"
expect_failure 1 "cannot read the NIfTI scan" "$example" "$model" "$scratch/no_such_scan.nii" "$scratch/x.nii"
expect_failure 1 "does not read back" "$example" "$model" "$scratch/scan_int16.nii" "$scratch/no_such_dir/x.nii"
expect_failure 2 "usage" "$example" "$model"
expect_failure 2 "not auto, header, none" "$example" "$model" "$scratch/scan_int16.nii" "$scratch/x.nii" sideways
expect_failure 1 "'LLD'" "$example" "$model" "$scratch/scan_int16.nii" "$scratch/x.nii" LLD
# The header's affine (the fixture's qform: x, y, z along +x, +y, +z) read as RAS: RHD.
"$example" "$model" "$scratch/scan_int16.nii" "$scratch/header.nii" header > "$scratch/out.txt" 2> "$scratch/err.txt" \
    || { cat "$scratch/out.txt" "$scratch/err.txt"; echo "FAIL: example with header orientation" >&2; exit 1; }
grep -q "^layout: RHD, slice axis" "$scratch/out.txt" || { cat "$scratch/out.txt"; echo "FAIL: header layout not RHD" >&2; exit 1; }
echo "ok: header orientation read as RHD"
echo "C example test: PASSED (3 scans, 6 failure cases, header orientation)"
