#!/usr/bin/env bash
# Evaluates a model (default: the bundled demo model) the way MODELS.md reports it: synthetic
# micro-CT scans rendered from a label map held out of training (rosenhain_ct280_organs_v1,
# with its real second annotation v2), with synthesis seeds never used in training, segmented
# by the aimos command, scored with the paper's metrics (Tools/evaluate.py).
#
#   bash Tools/evaluate_demo_model.sh [MODEL] [WORK_DIR]
# Needs ../shared/data/label-maps, the built command (swift build -c release --static-swift-stdlib)
# and numpy/scipy/nibabel. Prints the per-organ table and writes WORK_DIR/metrics.{csv,md}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/models/aimos-demo.safetensors}
work=${2:-/tmp/aimos-demo-eval}
maps="$root/../shared/data/label-maps"
cli="$root/.build/release/aimos-cli"
test -d "$maps" || { echo "needs the label maps at $maps" >&2; exit 2; }
test -x "$cli" || { echo "build the command first: swift build -c release --static-swift-stdlib" >&2; exit 2; }

rm -rf "$work" && mkdir -p "$work/pred"
python3 "$root/Tools/synthesize.py" --maps "$maps/rosenhain_ct280_organs_v1.nii.gz" --out "$work/test" \
    --count 4 --seed 9000 --modality ct --spacing-range 0.25 0.5 --max-dim 256 --pair-annotations
python3 - "$work/test/dataset.json" > "$work/cases.txt" <<'PY'
import json, sys
for case in json.load(open(sys.argv[1]))["cases"]:
    print(case["id"], case["scan"])
PY
while read -r id scan; do
    "$cli" segment --model "$model" --input "$work/test/$scan" --output "$work/pred/${id}_pred.nii.gz" --quiet --overwrite
done < "$work/cases.txt"
python3 "$root/Tools/evaluate.py" --predictions "$work/pred" --data "$work/test" --model "$model" \
    --out "$work/metrics.csv" --markdown "$work/metrics.md"
# The same predictions against the second, independent annotation of the same animal.
python3 "$root/Tools/evaluate.py" --predictions "$work/pred" --data "$work/test" --model "$model" \
    --reference labels2 --out "$work/metrics_labels2.csv" --markdown "$work/metrics_labels2.md"
cat "$work/metrics.md"
