# The synthesis options of the bundled models' training scans, sourced by the CPU recipe
# (Tools/make_bundled_models.sh) and the GPU recipe (Tools/train_bundled_models_gpu.sh), so that
# the two render the same kind of scan; each adds its own counts, seeds and extra options.
# Micro-CT as scanners deliver it: no random-intensity scans (of the shares measured, 0, 20, 40
# and 80 %, 0 % found the unseen animal best; MODELS.md); extra animals in a scan are of the same
# anatomy, so that subject-wise splits stay clean.
ct_synthesis="--modality ct --spacing-range 0.25 0.5 --max-dim 256 --random-intensity 0 --scene 0.7
    --extra-animals 0.25 --size-range 0.8 1.15 --organ-body 0.3 --second-annotation"
# Light-sheet: autofluorescence- and nucleus-stain-like looks, 30 % random intensities.
ls_synthesis="--modality lightsheet --spacing-range 0.25 0.5 --max-dim 256 --random-intensity 0.3
    --extra-animals 0.1 --size-range 0.8 1.15 --second-annotation"
