#!/usr/bin/env bash
# The bundled models' recipe for one leased GPU machine (many CPU cores, one CUDA GPU, minutes
# of time): synthesis in parallel chunks, then the micro-CT model, its leave-one-anatomy-out twin
# and the light-sheet model trained side by side on the GPU until a deadline. MODELS.md records
# the run that made the bundled models; Tools/make_bundled_models.sh is the same recipe for a
# CPU (fixed epochs instead of a deadline).
#
#   bash Tools/train_bundled_models_gpu.sh MAPS_DIR WORK_DIR OUT_DIR [SECONDS]
# MAPS_DIR holds digimouse_atlas, rosenhain_organs_a and rosenhain_ct140_organs (.nii.gz) and
# rosenhain_ct280_organs_v1/_v2 for the second annotations; SECONDS (default 480) is the wall
# time from start to the last model written. Models larger than 15 MB (SPLIT_BYTES) are written to
# OUT_DIR in parts (NAME.safetensors.partNN; cat them in order), as a lease returns files of at
# most 16 MiB. Smaller runs for a smoke test on a CPU: set CT_SCANS, LS_SCANS (scans per chunk),
# CHUNKS, LS_CHUNKS (chunks per animal), CT_ARCH, CT_SIZE, LS_ARCH, LS_SIZE.
set -euo pipefail
maps=$1 work=$2 out=$3 seconds=${4:-480}
started=$(date +%s)
root=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONPATH="$root/Tools${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
ct_scans=${CT_SCANS:-16} ls_scans=${LS_SCANS:-12} chunks=${CHUNKS:-4} ls_chunks=${LS_CHUNKS:-2}
ct_arch=${CT_ARCH:-Unet512} ct_size=${CT_SIZE:-256} ls_arch=${LS_ARCH:-Unet256} ls_size=${LS_SIZE:-128}
split_bytes=${SPLIT_BYTES:-15000000}
mkdir -p "$work" "$out"
synthesize() { python3 -m aimostools.cli.synthesize "$@"; }
train() { python3 -m aimostools.cli.train "$@"; }

# The bundled models' scans (Tools/bundled_synthesis_options.sh), one dataset per animal and
# chunk (the chunks' seeds are 1000 apart, so no two scans share one); here the field of view may
# lose up to 40 % of each end of the body axis and the elastic deformation reaches 0.5-2 mm
# (MODELS.md, "Field of view and elastic amplitude").
source "$root/Tools/bundled_synthesis_options.sh"
wider="--body-axis-cut 0.4 --elastic-range 0.5 2.0"
ct="$ct_synthesis $wider"
ls="$ls_synthesis $wider"
ct_data=() ls_data=()
for map in digimouse_atlas rosenhain_organs_a rosenhain_ct140_organs; do
    for chunk in $(seq 0 $((chunks - 1))); do
        synthesize --maps "$maps/$map.nii.gz" --out "$work/ct_${map}_$chunk" --count "$ct_scans" \
            --seed $((100 + 1000 * chunk)) $ct > "$work/synth_ct_${map}_$chunk.log" 2>&1 &
        ct_data+=(--data "$work/ct_${map}_$chunk")
    done
    for chunk in $(seq 0 $((ls_chunks - 1))); do
        synthesize --maps "$maps/$map.nii.gz" --out "$work/ls_${map}_$chunk" --count "$ls_scans" \
            --seed $((300 + 1000 * chunk)) $ls > "$work/synth_ls_${map}_$chunk.log" 2>&1 &
        ls_data+=(--data "$work/ls_${map}_$chunk")
    done
done
wait
echo "synthesis done after $(( $(date +%s) - started )) s"

# Each training stops before an epoch that would end past the deadline (minus a minute for the
# export). The three share the GPU; the slices are read by several processes each.
minutes=$(python3 -c "print(max(0.5, ($seconds - ($(date +%s) - $started) - 60) / 60))")
common="--batch-size 16 --seed 1 --max-slices-per-case 16 --dual-annotation --crop body --dtype F16
        --val-subjects= --voxel-size-mm 0.25 --epochs 200 --time-limit-minutes $minutes --workers 4 --threads 2"
[ "$(python3 -c 'import torch; print(torch.cuda.is_available())')" = True ] && common="$common --bf16"
train "${ct_data[@]}" --architecture "$ct_arch" --input-size "$ct_size" --classes-present-only $common \
    --out "$work/aimos-demo.safetensors" --log "$work/log_ct.csv" > "$work/train_ct.log" 2>&1 &
train "${ct_data[@]}" --architecture "$ct_arch" --input-size "$ct_size" --classes-present-only $common \
    --test-subjects rosenhain_ct280 --out "$work/model_loao.safetensors" --log "$work/log_loao.csv" \
    > "$work/train_loao.log" 2>&1 &
train "${ls_data[@]}" --architecture "$ls_arch" --input-size "$ls_size" --classes Brain,Heart,Lung,Liver,Kidney,Spleen \
    $common --out "$work/aimos-lightsheet.safetensors" --log "$work/log_lightsheet.csv" \
    > "$work/train_lightsheet.log" 2>&1 &
status=0
for job in $(jobs -p); do wait "$job" || status=1; done
echo "training done after $(( $(date +%s) - started )) s (status $status)"
tail -n 3 "$work"/train_*.log

for model in aimos-demo model_loao aimos-lightsheet; do
    file="$work/$model.safetensors"
    [ -f "$file" ] || continue
    if [ "$(stat -c %s "$file")" -gt "$split_bytes" ]; then
        split -b "$split_bytes" -d -a 2 "$file" "$out/$model.safetensors.part"
    else
        cp "$file" "$out/"
    fi
done
tar -czf "$out/logs.tar.gz" -C "$work" $(cd "$work" && ls ./*.log ./*.csv)
exit $status
