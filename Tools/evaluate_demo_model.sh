#!/usr/bin/env bash
# Evaluates a model (default: the bundled demo model) the way MODELS.md reports it, on synthetic
# micro-CT scans with synthesis seeds never used in training, segmented by the aimos command and
# scored with the paper's metrics (Tools/evaluate.py):
#   1. held-out animal: scans rendered from rosenhain_ct280_organs_v1, a map whose animal was
#      left out of training, scored against v1 and against the real second annotation v2;
#   2. seen anatomy: new scans rendered from the two training maps (new seeds, so new geometry,
#      intensities and noise, but anatomy the model has seen: not a generalisation claim).
#
#   bash Tools/evaluate_demo_model.sh [MODEL] [WORK_DIR]
# Needs ../shared/data/label-maps, the built command (swift build -c release --static-swift-stdlib)
# and numpy/scipy/nibabel. Writes WORK_DIR/*.md and *.csv and prints the tables.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/models/aimos-demo.safetensors}
work=${2:-/tmp/aimos-demo-eval}
maps="$root/../shared/data/label-maps"
cli="$root/.build/release/aimos-cli"
test -d "$maps" || { echo "needs the label maps at $maps" >&2; exit 2; }
test -x "$cli" || { echo "build the command first: swift build -c release --static-swift-stdlib" >&2; exit 2; }
rm -rf "$work" && mkdir -p "$work"

# segment_and_score NAME: runs aimos on every case of $work/NAME and scores the predictions.
segment_and_score() {
    local name=$1
    mkdir -p "$work/$name-pred"
    python3 - "$work/$name/dataset.json" > "$work/$name-cases.txt" <<'PY'
import json, sys
for case in json.load(open(sys.argv[1]))["cases"]:
    print(case["id"], case["scan"])
PY
    while read -r id scan; do
        "$cli" segment --model "$model" --input "$work/$name/$scan" --output "$work/$name-pred/${id}_pred.nii.gz" --quiet --overwrite
    done < "$work/$name-cases.txt"
    python3 "$root/Tools/evaluate.py" --predictions "$work/$name-pred" --data "$work/$name" --model "$model" \
        --out "$work/$name.csv" --markdown "$work/$name.md" > /dev/null
}

common="--modality ct --spacing-range 0.25 0.5 --max-dim 256"
python3 "$root/Tools/synthesize.py" --maps "$maps/rosenhain_ct280_organs_v1.nii.gz" --out "$work/held-out" \
    --count 4 --seed 9000 $common --pair-annotations > /dev/null
segment_and_score held-out
python3 "$root/Tools/evaluate.py" --predictions "$work/held-out-pred" --data "$work/held-out" --model "$model" \
    --reference labels2 --out "$work/held-out-v2.csv" --markdown "$work/held-out-v2.md" > /dev/null
python3 "$root/Tools/synthesize.py" --maps "$maps/digimouse_atlas.nii.gz" "$maps/rosenhain_organs_a.nii.gz" \
    --out "$work/seen-anatomy" --count 2 --seed 7000 $common > /dev/null
segment_and_score seen-anatomy

for table in held-out held-out-v2 seen-anatomy; do
    echo "## $table"
    cat "$work/$table.md"
    echo
done
