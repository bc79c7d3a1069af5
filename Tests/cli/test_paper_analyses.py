"""`aimos disagreement`, `aimos allocate` and `aimos variability` against independent numpy
computations: the real annotation pair of ../shared (disagreement; skipped, saying so, without
../shared), and small label maps and volume tables made here (allocation, variability).

Needs the built command (.build/release/aimos-cli, or $AIMOS_CLI).
"""
import csv
import io
import json
import os
import subprocess

import nibabel as nib
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAPS = os.path.join(ROOT, "..", "shared", "data", "label-maps")
CLI = os.environ.get("AIMOS_CLI", os.path.join(ROOT, ".build", "release", "aimos-cli"))
V1, V2 = (os.path.join(MAPS, f"rosenhain_ct280_organs_{v}.nii.gz") for v in ("v1", "v2"))


@pytest.fixture(autouse=True)
def built():
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")


def names(file_name):
    with open(os.path.join(MAPS, "labels.json")) as f:
        return {int(k): v for k, v in json.load(f)[file_name]["labels"].items()}


def option(table):
    return ",".join(f"{name}={label}" for label, name in sorted(table.items()))


def test_disagreement_of_the_real_annotation_pair(tmp_path):
    if not os.path.exists(V1):
        pytest.skip(f"real label maps not found at {MAPS} (they come with ../shared, present in CI)")
    n1, n2 = names("rosenhain_ct280_organs_v1.nii.gz"), names("rosenhain_ct280_organs_v2.nii.gz")
    v1, v2 = (np.asarray(nib.load(p).dataobj).astype(np.int64) for p in (V1, V2))
    # v2 in v1's numbering, by name
    by_name1 = {v: k for k, v in n1.items()}
    rename = np.zeros(256, np.int64)
    for label, name in n2.items():
        rename[label] = by_name1[name]
    v2_as_1 = rename[v2]
    differ = v1 != v2_as_1
    # A heatmap: 0.8 on the differing voxels moved one voxel along x, 0.3 elsewhere.
    heat = np.where(np.roll(differ, 1, axis=0), 0.8, 0.3).astype(np.float32)
    image = nib.load(V1)
    heat_path = tmp_path / "heat.nii.gz"
    nib.save(nib.Nifti1Image(heat, image.affine, image.header), str(heat_path))
    out = tmp_path / "d.nii.gz"
    run = subprocess.run([CLI, "disagreement", "--reference", V1, "--map", option(n1), "--reference2", V2,
                          "--reference2-map", option(n2), "--output", str(out), "--heatmap", str(heat_path)],
                         capture_output=True, text=True, check=True)
    written = np.asarray(nib.load(str(out)).dataobj)
    assert np.array_equal(written != 0, differ)
    assert f"differing voxels: {np.count_nonzero(differ)} of {differ.size}" in run.stdout
    predicted = heat >= 0.5
    tp = np.count_nonzero(predicted & differ)
    expected = (2 * tp + 1e-5) / (2 * tp + np.count_nonzero(predicted & ~differ) + np.count_nonzero(~predicted & differ) + 1e-5)
    reported = float(run.stdout.split("heatmap Dice (>= 0.5): ")[1].split()[0])
    assert reported == pytest.approx(expected, rel=1e-12)
    # Labelled by organ: the first annotator's organ where it has one, else the second's.
    heart = by_name1["Heart"]
    organ_of = np.where(v1 != 0, v1, v2_as_1)
    extension = json.loads(nib.load(str(out)).header.extensions[0].get_content())
    heart_code = [int(k) for k, v in extension["labels"].items() if v == "Heart"][0]
    assert np.array_equal(written == heart_code, differ & (organ_of == heart))


def test_allocation_in_voxels_and_millimetres(tmp_path):
    labels = np.zeros((10, 8, 6), np.uint8)
    labels[2:5, 2:5, 1:4] = 1
    labels[6:9, 1:4, 2:5] = 2
    affine = np.diag([0.5, 0.4, 0.3, 1.0])
    affine[:3, 3] = [10.0, -4.0, 2.0]
    path = tmp_path / "labels.nii.gz"
    image = nib.Nifti1Image(labels, affine)
    image.header.set_sform(affine, code=1)
    nib.save(image, str(path))
    voxels = tmp_path / "voxels.csv"
    voxels.write_text("id,x,y,z\na,3,3,2\nb,7.2,2,3\nc,0,0,0\nd,12,3,3\n")
    out = tmp_path / "table.csv"
    run = subprocess.run([CLI, "allocate", "--labels", str(path), "--points", str(voxels), "--map", "Liver=1,Heart=2",
                          "--output", str(out), "--radius", "1.0"], capture_output=True, text=True, check=True)
    rows = {r["point"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert [rows[k]["organ"] for k in "abc"] == ["Liver", "Heart", "background"]
    assert rows["d"]["inside_grid"] == "no" and rows["d"]["organ"] == ""
    counts = dict(line.split(",") for line in run.stdout.strip().splitlines()[1:])
    assert counts == {"Liver": "1", "Heart": "1", "background": "1", "outside_grid": "1"}
    # Within 1 mm of voxel (5, 2, 2): both organs (Liver at x = 4 is 0.5 mm away, Heart at x = 6 too).
    voxels.write_text("x,y,z\n5,2,2\n")
    subprocess.run([CLI, "allocate", "--labels", str(path), "--points", str(voxels), "--map", "Liver=1,Heart=2",
                    "--output", str(out), "--radius", "1.0", "--overwrite"], check=True, capture_output=True)
    assert list(csv.DictReader(io.StringIO(out.read_text())))[0]["organs_within_radius"] == "Liver;Heart"
    # The same points in world mm land on the same voxels.
    world = [affine[:3, :3] @ np.array(p, float) + affine[:3, 3] for p in [(3, 3, 2), (7.2, 2, 3)]]
    mm = tmp_path / "mm.csv"
    mm.write_text("x_mm,y_mm,z_mm\n" + "".join(f"{w[0]},{w[1]},{w[2]}\n" for w in world))
    subprocess.run([CLI, "allocate", "--labels", str(path), "--points", str(mm), "--map", "Liver=1,Heart=2",
                    "--output", str(out), "--overwrite"], check=True, capture_output=True)
    assert [r["organ"] for r in csv.DictReader(io.StringIO(out.read_text()))] == ["Liver", "Heart"]
    # A points file without coordinates is refused and leaves nothing behind.
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    refused = tmp_path / "refused.csv"
    run = subprocess.run([CLI, "allocate", "--labels", str(path), "--points", str(bad), "--output", str(refused)],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "x,y,z" in run.stderr and not refused.exists()


def test_variability_against_numpy(tmp_path):
    rng = np.random.default_rng(3)
    lines = ["mouse,timepoint,annotator,organ,volume_mm3"]
    volumes = {}
    for mouse in ["m1", "m2", "m3"]:
        for t in ["t1", "t2"]:
            for a in ["A", "B"]:
                for organ, base in [("Liver", 1500.0), ("Heart", 200.0)]:
                    if (mouse, t, a, organ) == ("m3", "t2", "B", "Heart"):
                        continue   # a missing cell
                    v = base * (1 + 0.1 * rng.standard_normal())
                    volumes[(mouse, t, a, organ)] = v
                    lines.append(f"{mouse},{t},{a},{organ},{v!r}")
    table = tmp_path / "volumes.csv"
    table.write_text("\n".join(lines) + "\n")
    out = subprocess.run([CLI, "variability", str(table)], capture_output=True, text=True, check=True).stdout
    rows = {r["organ"]: r for r in csv.DictReader(io.StringIO(out))}
    for organ in ["Liver", "Heart"]:
        keys = [k for k in volumes if k[3] == organ]
        mean = np.mean([volumes[k] for k in keys])
        per_mouse = [np.mean([volumes[k] for k in keys if k[0] == m]) for m in ["m1", "m2", "m3"]]
        scans = {(k[0], k[1]) for k in keys}
        inter_annotator = np.mean([np.std([volumes[k] for k in keys if (k[0], k[1]) == s], ddof=1)
                                   for s in scans if sum((k[0], k[1]) == s for k in keys) >= 2])
        pairs = {(k[0], k[2]) for k in keys}
        intra = np.mean([np.std([volumes[k] for k in keys if (k[0], k[2]) == p], ddof=1)
                         for p in pairs if sum((k[0], k[2]) == p for k in keys) >= 2])
        row = rows[organ]
        assert float(row["mean_mm3"]) == pytest.approx(mean, rel=1e-12)
        assert float(row["inter_subject_sd_mm3"]) == pytest.approx(np.std(per_mouse, ddof=1), rel=1e-9)
        assert float(row["inter_subject_percent"]) == pytest.approx(100 * np.std(per_mouse, ddof=1) / mean, rel=1e-9)
        assert float(row["inter_annotator_sd_mm3"]) == pytest.approx(inter_annotator, rel=1e-9)
        assert float(row["intra_annotator_sd_mm3"]) == pytest.approx(intra, rel=1e-9)
    assert "missing in 1 scan(s): m3/t2/B" in rows["Heart"]["notes"]
    assert rows["Liver"]["notes"] == ""


def test_variability_from_organ_tables_named_by_file(tmp_path):
    for mouse, volume in [("m1", 100.0), ("m2", 140.0)]:
        (tmp_path / f"{mouse}_t1_auto.csv").write_text(
            "class_index,class,voxels,volume_mm3,volume_ml\n0,background,5,1.0,0.001\n" + f"1,Liver,10,{volume},{volume / 1000}\n")
    out = subprocess.run([CLI, "variability", str(tmp_path / "m1_t1_auto.csv"), str(tmp_path / "m2_t1_auto.csv")],
                         capture_output=True, text=True, check=True).stdout
    row = list(csv.DictReader(io.StringIO(out)))[0]
    assert row["organ"] == "Liver" and float(row["inter_subject_sd_mm3"]) == pytest.approx(np.std([100, 140], ddof=1))
    assert row["inter_annotator_sd_mm3"] == "" and "no scan with two annotators" in row["notes"]
    bad = tmp_path / "volumes.csv"
    bad.write_text("class,volume_mm3\nLiver,3\n")
    run = subprocess.run([CLI, "variability", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2 and "MOUSE_TIMEPOINT_ANNOTATOR" in run.stderr
