#!/usr/bin/env bash
# Evaluates a model the way MODELS.md reports it, on synthetic scans with synthesis seeds never
# used in training, segmented by the aimos command with its defaults (layout detected, the
# model's crop) and scored with the paper's metrics (aimos-evaluate):
#   held-out      scans of rosenhain_ct280_organs_v1 as a scanner delivers them (bed, tubes, other
#                 animals, random intensities at the training rates), scored against v1 and
#                 against the real second annotation v2; with an uncertainty channel, its heatmap
#                 against the real v1/v2 disagreement (aimos-evaluate-uncertainty);
#   held-out-plain the same animal, plain scans (prior intensities, no scene);
#   seen-anatomy  new scans of digimouse_atlas and rosenhain_organs_a (new seeds, anatomy seen in
#                 training: not a generalisation claim);
#   plausibility  aimos segment --report on every scan: organs flagged;
#   sample        the sample scan's organ table against its truth.
# Held out means held out only for a model trained without the rosenhain_ct280 animal (MODELS.md:
# the leave-one-anatomy-out model); the bundled model saw that animal (rosenhain_ct140_organs).
#
#   bash Tools/evaluate_model.sh [MODEL] [WORK_DIR] [ct|lightsheet]
# Needs ../shared/data/label-maps, the built command (swift build -c release --static-swift-stdlib)
# and numpy/scipy/nibabel. Writes WORK_DIR/*.md and *.csv and prints the tables.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/models/aimos-demo.safetensors}
work=${2:-/tmp/aimos-model-eval}
modality=${3:-ct}
maps="$root/../shared/data/label-maps"
command -v aimos-synthesize > /dev/null || { echo "install the tools first: python3 -m pip install -e '$root/Tools[all]'" >&2; exit 2; }
cli="$root/.build/release/aimos-cli"
test -d "$maps" || { echo "needs the label maps at $maps" >&2; exit 2; }
test -x "$cli" || { echo "build the command first: swift build -c release --static-swift-stdlib" >&2; exit 2; }
rm -rf "$work" && mkdir -p "$work"
uncertainty=$("$cli" info "$model" | grep -c "^uncertainty: *yes" || true)

# segment_and_score NAME: runs aimos on every case of $work/NAME, scores the predictions and
# collects the plausibility reports.
segment_and_score() {
    local name=$1
    mkdir -p "$work/$name-pred"
    python3 - "$work/$name/dataset.json" > "$work/$name-cases.txt" <<'PY'
import json, sys
for case in json.load(open(sys.argv[1]))["cases"]:
    print(case["id"], case["scan"])
PY
    while read -r id scan; do
        local extra=()
        if [ "$uncertainty" -gt 0 ]; then extra=(--uncertainty "$work/$name-pred/${id}_uncertainty.nii.gz"); fi
        "$cli" segment --model "$model" --input "$work/$name/$scan" --output "$work/$name-pred/${id}_pred.nii.gz" \
            --report "$work/$name-pred/${id}_report.txt" "${extra[@]}" --quiet --overwrite
        printf '%s: %s\n' "$id" "$(head -n 1 "$work/$name-pred/${id}_report.txt")" >> "$work/plausibility.txt"
    done < "$work/$name-cases.txt"
    aimos-evaluate --predictions "$work/$name-pred" --data "$work/$name" --model "$model" \
        --out "$work/$name.csv" --markdown "$work/$name.md" > /dev/null
}

common="--modality $modality --spacing-range 0.25 0.5 --max-dim 256"
scene="--random-intensity 0.4 --scene 0.7 --extra-animals 0.25 --size-range 0.8 1.15"
aimos-synthesize --maps "$maps/rosenhain_ct280_organs_v1.nii.gz" --out "$work/held-out" \
    --count 6 --seed 9000 $common $scene --pair-annotations > /dev/null
segment_and_score held-out
aimos-evaluate --predictions "$work/held-out-pred" --data "$work/held-out" --model "$model" \
    --reference labels2 --out "$work/held-out-v2.csv" --markdown "$work/held-out-v2.md" > /dev/null
tables="held-out held-out-v2"
if [ "$uncertainty" -gt 0 ]; then
    aimos-evaluate-uncertainty --heatmaps "$work/held-out-pred" --data "$work/held-out" \
        --markdown "$work/uncertainty.md" > /dev/null
    tables="$tables uncertainty"
fi
aimos-synthesize --maps "$maps/rosenhain_ct280_organs_v1.nii.gz" --out "$work/held-out-plain" \
    --count 4 --seed 9100 $common > /dev/null
segment_and_score held-out-plain
for map in digimouse_atlas rosenhain_organs_a; do
    aimos-synthesize --maps "$maps/$map.nii.gz" --out "$work/seen-$map" --count 2 --seed 7000 \
        $common $scene > /dev/null
    segment_and_score "seen-$map"
    tables="$tables seen-$map"
done
tables="$tables held-out-plain"

if [ "$modality" = ct ]; then
    "$cli" segment --model "$model" --input "$root/data/sample/sample_ct.nii.gz" --output "$work/sample_pred.nii.gz" \
        --volumes "$work/sample_volumes.csv" --quiet --overwrite
    python3 - "$root/data/sample/sample_ct_labels.nii.gz" "$work/sample_volumes.csv" > "$work/sample.md" <<'PY'
import csv, sys
import nibabel as nib
import numpy as np
truth = nib.load(sys.argv[1])
labels = np.asarray(truth.dataobj)
voxel_ml = float(np.prod(truth.header.get_zooms()[:3])) / 1000
print("| organ | truth (mL) | aimos (mL) | error (%) |\n|---|---:|---:|---:|")
for row in csv.DictReader(open(sys.argv[2])):
    index = int(row["class_index"])
    if index == 0:
        continue
    true_ml = float((labels == index).sum()) * voxel_ml
    found = float(row["volume_ml"])
    error = f"{100 * (found - true_ml) / true_ml:+.0f}" if true_ml > 0 else "(absent)"
    print(f"| {row['class']} | {true_ml:.3f} | {found:.3f} | {error} |")
PY
    tables="$tables sample"
fi

for table in $tables; do
    echo "## $table"
    cat "$work/$table.md"
    echo
done
echo "## plausibility (first line of each report)"
cat "$work/plausibility.txt"
