"""aimos segment's cohort mode (--output-dir): several inputs, a folder, a cohort list; the
naming pattern; resume, --force and outdated outputs; one failing scan among good ones; the
cohort table (and aimos cohort-table); the provenance sidecars' checksums and options.

Needs the built command (.build/release/aimos-cli, or $AIMOS_CLI).
"""
import csv
import hashlib
import json
import os
import shutil
import subprocess

import nibabel as nib
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("AIMOS_CLI", os.path.join(ROOT, ".build", "release", "aimos-cli"))
MODEL = os.path.join(ROOT, "models", "aimos-demo.safetensors")
SAMPLE = os.path.join(ROOT, "data", "sample", "sample_ct.nii.gz")
PER_SCAN = ["labels.nii.gz", "volumes.csv", "preview.jpg", "report.json", "provenance.json"]


@pytest.fixture(autouse=True)
def built():
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")


def aimos(*args, check=True):
    run = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=600)
    if check:
        assert run.returncode == 0, run.stderr
    return run


def cohort(out, *args, check=True):
    return aimos("segment", "--model", MODEL, "--output-dir", out, "--threads", 2, *args, check=check)


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    """Three small scans: the sample, mirrored, and cropped with an intensity offset."""
    d = tmp_path_factory.mktemp("scans")
    image = nib.load(SAMPLE)
    data = np.asarray(image.dataobj)
    nib.save(image, d / "m1_d0.nii.gz")
    nib.save(nib.Nifti1Image(data[::-1].copy(), image.affine, image.header), d / "m2_d0.nii.gz")
    nib.save(nib.Nifti1Image((data[:, 10:190] + 5).astype(data.dtype), image.affine, image.header), d / "m3_d0.nii")
    return d


def sidecar(out, name):
    return json.load(open(os.path.join(out, f"{name}_provenance.json")))


def test_a_folder_of_scans_gives_every_output_and_a_cohort_table(tmp_path, scans):
    run = cohort(tmp_path, "--input", scans)
    names = ["m1_d0", "m2_d0", "m3_d0"]
    assert sorted(os.listdir(tmp_path)) == sorted(["cohort.csv"] + [f"{n}_{s}" for n in names for s in PER_SCAN])
    assert "3 scans: 3 segmented, 0 skipped (complete), 0 failed" in run.stdout
    with open(tmp_path / "cohort.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:10] == ["scan", "mouse", "timepoint", "annotator", "animal", "class_index", "organ",
                                  "voxels", "volume_mm3", "volume_ml"]
    assert {r["scan"] for r in rows} == set(names)
    # Each scan's rows are its own organ table.
    for name in names:
        with open(tmp_path / f"{name}_volumes.csv") as f:
            own = list(csv.DictReader(f))
        mine = [r for r in rows if r["scan"] == name]
        assert [(r["organ"], r["voxels"], r["volume_mm3"]) for r in mine] == [(r["class"], r["voxels"], r["volume_mm3"]) for r in own]
    # The mirrored scan's brain is as large as the original's; the table is what variability reads.
    brain = {r["scan"]: float(r["volume_mm3"]) for r in rows if r["organ"] == "Brain"}
    assert brain["m1_d0"] > 100 and brain["m2_d0"] == pytest.approx(brain["m1_d0"], rel=0.1)
    assert "Brain" in aimos("variability", tmp_path / "cohort.csv").stdout


def test_the_sidecar_records_checksums_options_and_layout(tmp_path, scans):
    cohort(tmp_path, "--input", scans / "m1_d0.nii.gz", "--mouse", "m1", "--timepoint", "d0", "--orientation", "LHD")
    record = sidecar(tmp_path, "m1_d0")
    assert record["scan"] == {"name": "m1_d0", "mouse": "m1", "timepoint": "d0", "annotator": None}
    assert record["input"]["sha256"] == sha256(scans / "m1_d0.nii.gz")
    assert record["input"]["bytes"] == os.path.getsize(scans / "m1_d0.nii.gz")
    assert record["model"]["sha256"] == sha256(MODEL) and record["model"]["name"] == "aimos-demo.safetensors"
    assert record["options"]["orientation"] == "LHD" and record["options"]["outputs"] == ["labels", "volumes", "preview", "report"]
    assert record["layout"][0]["orientation"] == "LHD"
    assert record["seconds"] > 0 and record["aimos_version"] == aimos("--version").stdout.strip()
    for kind, entry in record["outputs"].items():
        path = tmp_path / entry["file"]
        assert entry["sha256"] == sha256(path) and entry["bytes"] == os.path.getsize(path), kind
    assert set(record["outputs"]) == {"labels", "volumes", "preview", "report"}


def test_resume_skips_complete_scans_and_redoes_the_rest(tmp_path, scans):
    cohort(tmp_path, "--input", scans / "m1_d0.nii.gz", "--input", scans / "m2_d0.nii.gz")
    first = {n: os.stat(tmp_path / f"{n}_provenance.json").st_mtime_ns for n in ["m1_d0", "m2_d0"]}
    os.unlink(tmp_path / "m2_d0_preview.jpg")        # an output lost: m2 is not complete
    run = cohort(tmp_path, "--input", scans / "m1_d0.nii.gz", "--input", scans / "m2_d0.nii.gz")
    assert "[skip] m1_d0" in run.stdout and "1 segmented, 1 skipped" in run.stdout
    assert os.stat(tmp_path / "m1_d0_provenance.json").st_mtime_ns == first["m1_d0"]
    assert os.stat(tmp_path / "m2_d0_provenance.json").st_mtime_ns != first["m2_d0"]
    assert (tmp_path / "m2_d0_preview.jpg").exists()
    # --force redoes both; other options make the old outputs outdated, so they are redone too.
    assert "2 segmented, 0 skipped" in cohort(tmp_path, "--input", scans / "m1_d0.nii.gz", "--input", scans / "m2_d0.nii.gz", "--force").stdout
    run = cohort(tmp_path, "--input", scans / "m1_d0.nii.gz", "--input", scans / "m2_d0.nii.gz", "--crop", "none")
    assert "2 segmented, 0 skipped" in run.stdout
    assert sidecar(tmp_path, "m1_d0")["options"]["crop"] == "none"


def test_a_changed_input_is_segmented_again(tmp_path, scans):
    scan = tmp_path / "scan.nii.gz"
    shutil.copy(scans / "m1_d0.nii.gz", scan)
    out = tmp_path / "out"
    out.mkdir()
    cohort(out, "--input", scan)
    image = nib.load(scan)
    nib.save(nib.Nifti1Image(np.asarray(image.dataobj)[:, :150].copy(), image.affine, image.header), scan)
    assert "1 segmented, 0 skipped" in cohort(out, "--input", scan).stdout
    assert nib.load(out / "scan_labels.nii.gz").shape[1] == 150
    assert sidecar(out, "scan")["input"]["sha256"] == sha256(scan)


def test_a_failing_scan_is_reported_and_the_others_go_on(tmp_path, scans):
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(b"not a scan")
    out = tmp_path / "out"
    out.mkdir()
    run = cohort(out, "--input", scans / "m1_d0.nii.gz", "--input", bad, "--input", scans / "m2_d0.nii.gz", check=False)
    assert run.returncode == 2
    assert "bad (" in run.stderr and "failed" in run.stderr and "2 segmented, 0 skipped (complete), 1 failed" in run.stderr
    names = os.listdir(out)
    assert not [n for n in names if n.startswith("bad") or n.startswith(".aimos")]
    assert "m2_d0_provenance.json" in names
    with open(out / "cohort.csv") as f:
        assert {r["scan"] for r in csv.DictReader(f)} == {"m1_d0", "m2_d0"}


def test_a_cohort_list_names_scans_by_mouse_and_time_point(tmp_path, scans):
    listing = tmp_path / "cohort.csv"
    rel = os.path.relpath(scans, tmp_path)
    listing.write_text("path,mouse,timepoint,annotator\n"
                       f"{rel}/m1_d0.nii.gz,m1,d0,\n{rel}/m2_d0.nii.gz,m2,d0,\n{scans}/m3_d0.nii,m2,d7,ab\n")
    out = tmp_path / "out"
    out.mkdir()
    cohort(out, "--input-list", listing, "--name", "{mouse}_{timepoint}", "--cohort-table", tmp_path / "all.csv",
           "--cohort-outputs", "labels,volumes")
    assert sorted(os.listdir(out)) == sorted(f"{n}_{s}" for n in ["m1_d0", "m2_d0", "m2_d7"]
                                             for s in ["labels.nii.gz", "volumes.csv", "provenance.json"])
    with open(tmp_path / "all.csv") as f:
        rows = list(csv.DictReader(f))
    assert {(r["scan"], r["mouse"], r["timepoint"], r["annotator"]) for r in rows} == {
        ("m1_d0", "m1", "d0", ""), ("m2_d0", "m2", "d0", ""), ("m2_d7", "m2", "d7", "ab")}
    # aimos cohort-table rebuilds the same table from the sidecars.
    merged = aimos("cohort-table", "--output-dir", out).stdout
    assert merged == (tmp_path / "all.csv").read_text()


def test_names_that_collide_or_are_not_file_names_are_refused(tmp_path, scans):
    listing = tmp_path / "cohort.csv"
    listing.write_text(f"path,mouse\n{scans}/m1_d0.nii.gz,m1\n{scans}/m2_d0.nii.gz,m1\n")
    out = tmp_path / "out"
    out.mkdir()
    run = cohort(out, "--input-list", listing, "--name", "{mouse}", check=False)
    assert run.returncode == 2 and "would both be named 'm1'" in run.stderr
    run = cohort(out, "--input-list", listing, "--name", "{timepoint}", check=False)
    assert run.returncode == 2 and "has no timepoint" in run.stderr
    run = cohort(out, "--input-list", listing, "--name", "../{mouse}_{index}", check=False)
    assert run.returncode == 2 and "plain file name" in run.stderr
    assert os.listdir(out) == []


def test_flags_of_the_other_mode_are_refused(tmp_path, scans):
    for args, says in [(["--output", tmp_path / "x.nii.gz"], "--output names one scan's output"),
                       (["--volumes", tmp_path / "v.csv"], "--volumes"),
                       (["--cohort-outputs", "labels,nonsense"], "'nonsense' is not one of")]:
        run = cohort(tmp_path, "--input", scans, *args, check=False)
        assert run.returncode == 1 and says in run.stderr, run.stderr
    run = aimos("segment", "--input", scans / "m1_d0.nii.gz", "--input", scans / "m2_d0.nii.gz", "--output", tmp_path / "x.nii.gz", check=False)
    assert run.returncode == 1 and "need --output-dir" in run.stderr
    run = aimos("segment", "--input", scans / "m1_d0.nii.gz", "--output", tmp_path / "x.nii.gz", "--force", check=False)
    assert run.returncode == 1 and "--force needs --output-dir" in run.stderr
    assert os.listdir(tmp_path) == []


def test_a_single_scan_can_write_a_sidecar_too(tmp_path, scans):
    aimos("segment", "--model", MODEL, "--input", scans / "m1_d0.nii.gz", "--output", tmp_path / "l.nii.gz",
          "--volumes", tmp_path / "v.csv", "--provenance", tmp_path / "p.json", "--quiet")
    record = json.load(open(tmp_path / "p.json"))
    assert record["outputs"]["labels"]["sha256"] == sha256(tmp_path / "l.nii.gz")
    assert record["outputs"]["volumes"]["file"] == "v.csv"


def test_files_aimos_did_not_write_are_not_replaced(tmp_path, scans):
    """A reference label map beside its scan, named like an output, survives without --force."""
    shutil.copy(scans / "m1_d0.nii.gz", tmp_path / "a.nii.gz")
    (tmp_path / "a_labels.nii.gz").write_bytes(b"the annotator's labels")
    run = cohort(tmp_path, "--input", tmp_path / "a.nii.gz", check=False)
    assert run.returncode == 2 and "no provenance sidecar says aimos wrote it" in run.stderr
    assert (tmp_path / "a_labels.nii.gz").read_bytes() == b"the annotator's labels"
    assert sorted(os.listdir(tmp_path)) == ["a.nii.gz", "a_labels.nii.gz"]
    cohort(tmp_path, "--input", tmp_path / "a.nii.gz", "--force")
    assert sidecar(tmp_path, "a")["outputs"]["labels"]["sha256"] == sha256(tmp_path / "a_labels.nii.gz")
    # A cohort table that would overwrite the cohort list is refused.
    listing = tmp_path / "list.csv"
    listing.write_text(f"path\n{tmp_path / 'a.nii.gz'}\n")
    run = cohort(tmp_path, "--input-list", listing, "--cohort-table", listing, check=False)
    assert run.returncode == 2 and "an input" in run.stderr
    assert listing.read_text() == f"path\n{tmp_path / 'a.nii.gz'}\n"


def test_a_missing_output_folder_is_made(tmp_path, scans):
    out = tmp_path / "new"
    cohort(out, "--input", scans / "m1_d0.nii.gz", "--cohort-outputs", "labels")
    assert sorted(os.listdir(out)) == ["m1_d0_labels.nii.gz", "m1_d0_provenance.json"]
    run = cohort(tmp_path / "no" / "such", "--input", scans / "m1_d0.nii.gz", check=False)
    assert run.returncode == 2 and "does its parent exist" in run.stderr
