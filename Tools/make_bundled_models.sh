#!/usr/bin/env bash
# Rebuilds the bundled sample scan and models from the real label maps in ../shared, exactly as
# MODELS.md records, then evaluates them (Tools/evaluate_model.sh):
#   models/aimos-demo.safetensors        micro-CT, all three anatomies, with uncertainty channel
#   models/aimos-lightsheet.safetensors  light-sheet, brain/heart/lungs/liver/kidneys/spleen
#   WORK/model_loao.safetensors          the micro-CT recipe without the rosenhain_ct280 animal,
#                                        for the leave-one-anatomy-out numbers (not bundled)
#
#   bash Tools/make_bundled_models.sh [WORK_DIR]
# CPU: about 90 minutes on 2 cores (2 x AMD EPYC: the micro-CT model 25 minutes and the
# leave-one-anatomy-out model 16 on two threads, the light-sheet model 40 on one, as it was made);
# a CUDA GPU is used when PyTorch finds one (then the losses differ slightly).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/aimos-models-build}
maps="$root/../shared/data/label-maps"
command -v aimos-synthesize > /dev/null || { echo "install the tools first: python3 -m pip install -e '$root/Tools[all]'" >&2; exit 2; }
cd "$root"
mkdir -p "$work" data/sample models

# The sample scan for the README's main command (digimouse anatomy, 0.5 mm, int16 HU).
aimos-synthesize --maps "$maps/digimouse_atlas.nii.gz" \
    --sample data/sample/sample_ct.nii.gz --sample-labels data/sample/sample_ct_labels.nii.gz --seed 1

# Micro-CT training scans as scanners deliver them, one dataset per animal (the options and why:
# Tools/bundled_synthesis_options.sh).
source "$root/Tools/bundled_synthesis_options.sh"
ct="--count 36 --seed 100 $ct_synthesis"
for map in digimouse_atlas rosenhain_organs_a rosenhain_ct140_organs; do
    aimos-synthesize --maps "$maps/$map.nii.gz" --out "$work/ct_$map" $ct
done
# --voxel-size-mm: the finest spacing of --spacing-range (recorded as the models' voxel_size_mm,
# aimos's default grid when it streams a light-sheet stack down to a coarser one).
train="--architecture Unet256 --input-size 112 --batch-size 8 --seed 1 --max-slices-per-case 16
       --classes-present-only --dual-annotation --crop body --dtype F16 --val-subjects= --voxel-size-mm 0.25"
data="--data $work/ct_digimouse_atlas --data $work/ct_rosenhain_organs_a --data $work/ct_rosenhain_ct140_organs"
ls="--count 24 --seed 300 $ls_synthesis"
for map in digimouse_atlas rosenhain_organs_a rosenhain_ct140_organs; do
    aimos-synthesize --maps "$maps/$map.nii.gz" --out "$work/ls_$map" $ls
done

# One after the other: the bundled micro-CT model, the leave-one-anatomy-out model (10 epochs, as
# the shares were compared) and the light-sheet model (autofluorescence- and nucleus-stain-like
# scans of all three animals: with one held out, its scans were segmented too poorly to tell
# their layout; MODELS.md).
aimos-train $data $train --epochs 12 --threads 2 --out models/aimos-demo.safetensors --log "$work/log_ct.csv" \
    > "$work/train_ct.log"
aimos-train $data $train --epochs 10 --threads 2 --test-subjects rosenhain_ct280 --out "$work/model_loao.safetensors" \
    --log "$work/log_loao.csv" > "$work/train_loao.log"
aimos-train --data "$work/ls_digimouse_atlas" --data "$work/ls_rosenhain_organs_a" --data "$work/ls_rosenhain_ct140_organs" \
    --architecture Unet128 --input-size 96 --epochs 15 --batch-size 8 --seed 1 --max-slices-per-case 16 \
    --classes Brain,Heart,Lung,Liver,Kidney,Spleen --dual-annotation --crop body --threads 1 --dtype F16 --val-subjects= \
    --voxel-size-mm 0.25 --out models/aimos-lightsheet.safetensors --log "$work/log_lightsheet.csv" > "$work/train_lightsheet.log"

bash Tools/evaluate_model.sh "$work/model_loao.safetensors" "$work/eval_loao" ct
bash Tools/evaluate_model.sh models/aimos-demo.safetensors "$work/eval_ct" ct
bash Tools/evaluate_model.sh models/aimos-lightsheet.safetensors "$work/eval_lightsheet" lightsheet
