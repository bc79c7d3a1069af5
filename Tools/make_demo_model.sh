#!/usr/bin/env bash
# Rebuilds the bundled sample scan and demo model from the real label maps in ../shared, exactly
# as MODELS.md records, then evaluates the model (Tools/evaluate_demo_model.sh).
#
#   bash Tools/make_demo_model.sh [WORK_DIR]
# CPU: about 25 minutes on 2 cores (2 x AMD EPYC) (a CUDA GPU is used when PyTorch finds one).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/aimos-demo-build}
maps="$root/../shared/data/label-maps"
cd "$root"
mkdir -p "$work" data/sample models

# The sample scan for the README's main command (digimouse anatomy, 0.5 mm, int16 HU).
python3 Tools/synthesize.py --maps "$maps/digimouse_atlas.nii.gz" \
    --sample data/sample/sample_ct.nii.gz --sample-labels data/sample/sample_ct_labels.nii.gz --seed 1
# Training scans (two animals) and validation scans (a third animal, held out of training).
python3 Tools/synthesize.py --maps "$maps/digimouse_atlas.nii.gz" "$maps/rosenhain_organs_a.nii.gz" \
    --out "$work/train" --count 24 --seed 100 --modality ct --spacing-range 0.25 0.5 --max-dim 256
python3 Tools/synthesize.py --maps "$maps/rosenhain_ct140_organs.nii.gz" \
    --out "$work/val" --count 4 --seed 500 --modality ct --spacing-range 0.25 0.5 --max-dim 256
python3 Tools/train.py --data "$work/train" --data "$work/val" --val-subjects rosenhain_ct280 \
    --architecture Unet256 --input-size 96 --epochs 20 --batch-size 8 --seed 1 \
    --max-slices-per-case 24 --classes-present-only --threads 2 --dtype F16 \
    --out models/aimos-demo.safetensors --log "$work/train_log.csv"
bash Tools/evaluate_demo_model.sh models/aimos-demo.safetensors "$work/eval"
