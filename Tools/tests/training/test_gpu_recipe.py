"""Tools/train_bundled_models_gpu.sh, the bundled models' recipe for a leased GPU machine, run end
to end on this CPU at toy size (one scan per chunk, Unet64 at 32 x 32, a 75 s deadline), so that
the script a lease runs once is known to work before the lease. Skips, with the reason printed,
where ../shared/data/label-maps is absent."""
import json
import os
import subprocess

import pytest

from aimostools.checkpoint import safetensors_io

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SHARED_MAPS = os.path.join(os.path.dirname(REPO), "shared", "data", "label-maps")
SCRIPT = os.path.join(REPO, "Tools", "train_bundled_models_gpu.sh")


def test_the_gpu_recipe_synthesises_trains_three_models_and_splits_large_ones(tmp_path):
    if not os.path.isdir(SHARED_MAPS):
        message = f"real label maps not found at {SHARED_MAPS}"
        print(f"SKIP: {message}")
        pytest.skip(message)
    work, out = tmp_path / "work", tmp_path / "out"
    toy = {"CT_SCANS": "1", "LS_SCANS": "1", "CHUNKS": "2", "LS_CHUNKS": "1", "CT_ARCH": "Unet64",
           "CT_SIZE": "32", "LS_ARCH": "Unet64", "LS_SIZE": "32", "SPLIT_BYTES": "200000"}
    process = subprocess.run(["bash", SCRIPT, SHARED_MAPS, str(work), str(out), "75"],
                             env={**os.environ, **toy}, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    # two chunks per micro-CT animal with seeds 1000 apart, one light-sheet dataset per animal
    assert sorted(p.name for p in work.glob("ct_*")) == sorted(
        f"ct_{m}_{c}" for m in ("digimouse_atlas", "rosenhain_organs_a", "rosenhain_ct140_organs") for c in (0, 1))
    seeds = {case["id"] for d in work.glob("ct_digimouse_atlas_*")
             for case in json.load(open(d / "dataset.json"))["cases"]}
    assert seeds == {"digimouse_ct_s0100", "digimouse_ct_s1100"}
    # the toy models are larger than SPLIT_BYTES and come back in parts that make the file
    for model in ("aimos-demo", "model_loao", "aimos-lightsheet"):
        parts = sorted(out.glob(f"{model}.safetensors.part*"))
        assert len(parts) >= 2 and all(p.stat().st_size <= 200000 for p in parts)
        assert b"".join(p.read_bytes() for p in parts) == (work / f"{model}.safetensors").read_bytes()
        assert not (out / f"{model}.safetensors").exists()
    metadata = {}
    for model in ("aimos-demo", "model_loao", "aimos-lightsheet"):
        _, entries = safetensors_io.read(str(work / f"{model}.safetensors"))
        metadata[model] = (json.loads(entries["aimos"]), json.loads(entries["aimos_training"]))
    demo, demo_info = metadata["aimos-demo"]
    assert demo["architecture"] == "Unet64" and demo["input_size"] == 32 and demo["crop"] == "body"
    assert "rosenhain_ct280" in demo_info["subjects"]["train"]
    assert metadata["model_loao"][1]["subjects"]["test"] == ["rosenhain_ct280"]
    light, _ = metadata["aimos-lightsheet"]
    assert light["classes"] == ["background", "Brain", "Heart", "Lung", "Liver", "Kidney", "Spleen"]
    # every training stopped at the deadline, not at its 200-epoch cap
    assert all(0 < info["epochs"] < 200 for _, info in metadata.values())
    assert (out / "logs.tar.gz").stat().st_size > 0
