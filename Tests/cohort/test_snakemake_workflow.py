"""The example cohort workflow (Examples/snakemake/Snakefile) run for real: three small scans made
from the bundled sample, a cohort list with mouse / timepoint / annotator columns and relative
paths, `snakemake -j 1` interrupted (SIGINT) once the first segment job has finished, then run
again. The rerun must do only the two scans left (the finished one's outputs untouched), and
the cohort table and QC page must cover all three scans.

Needs the built command (.build/release, or $AIMOS_CLI) and snakemake (pip install
'Tools[workflow]', i.e. snakemake==9.14.8); skipped without them.
"""
import csv
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time

import nibabel as nib
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("AIMOS_LIBRARY_DIR", os.path.join(ROOT, ".build", "release"))
# The command is installed as bin/aimos; SwiftPM builds it as aimos-cli (Package.swift).
CLI = os.environ.get("AIMOS_CLI") or next((p for p in (os.path.join(BUILD, "aimos"), os.path.join(BUILD, "aimos-cli"))
                                           if os.path.isfile(p)), os.path.join(BUILD, "aimos-cli"))
SNAKEFILE = os.path.join(ROOT, "Examples", "snakemake", "Snakefile")
SAMPLE = os.path.join(ROOT, "data", "sample", "sample_ct.nii.gz")
MODEL = os.path.join(ROOT, "models", "aimos-demo.safetensors")
# (file under scans/, mouse, timepoint, annotator) and the name the workflow gives each scan:
# mouse_timepoint, then _annotator when given, else the file's stem.
COHORT = [("m1_day0.nii.gz", "m1", "d0", ""), ("m1_day7.nii", "m1", "d7", "ab"), ("scan_c.nii.gz", "", "", "")]
NAMES = ["m1_d0", "m1_d7_ab", "scan_c"]


@pytest.fixture(autouse=True)
def tools():
    if importlib.util.find_spec("snakemake") is None:
        pytest.skip("snakemake is not installed (pip install 'Tools[workflow]', i.e. snakemake==9.14.8)")
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")


def make_scans(folder):
    """Three variants of the sample, small enough for seconds per scan: as is, mirrored left to
    right and cropped with brighter intensities (also as .nii, uncompressed)."""
    image = nib.load(SAMPLE)
    data = np.asarray(image.dataobj).astype(np.int16)
    variants = [data, data[::-1].copy(), np.clip(data[:, 10:-10, :].astype(np.int32) + 40, -1024, 3000).astype(np.int16)]
    os.makedirs(folder)
    for (file, *_), voxels in zip(COHORT, variants):
        nib.save(nib.Nifti1Image(voxels, image.affine), os.path.join(folder, file))


def snakemake(workdir, config, *options):
    return [sys.executable, "-m", "snakemake", "-s", SNAKEFILE, "--directory", str(workdir), "--configfile", str(config),
            "-j", "1", *options]


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.05)


def segment_running(group):
    """Whether an `aimos segment` process is alive in process group `group`."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:  # gone meanwhile
            continue
        if fields[0] != "Z" and int(fields[2]) == group and os.path.basename(argv[0]) == os.path.basename(CLI) \
                and "segment" in argv:
            return True
    return False


def interrupt_after_first_scan(command, log_path, results):
    """Runs `command` until its first segment job has finished, then interrupts it as Ctrl-C
    does, SIGINT to the process group (Snakemake and the running aimos): returns its exit code
    and log. Finished means Snakemake has counted the step done, not only that the sidecar
    (written last by aimos) exists, since a job stopped before its exit is undone. (SIGINT to
    Snakemake alone lets the running job finish but leaves it marked incomplete, for a rerun
    with --rerun-incomplete to redo.) The signal goes out only once the next scan's aimos is
    running: Snakemake's log handler swallows a KeyboardInterrupt raised while it writes a line
    (logging.py, snakemake 9.14), so a Ctrl-C that lands between jobs, as the next job is
    announced, is ignored and the run goes on to success."""
    with open(log_path, "w") as log:
        run = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def first_done():
            assert run.poll() is None, f"snakemake ended before it was interrupted:\n{open(log_path).read()}"
            sidecars = [n for n in NAMES if os.path.exists(results / f"{n}_provenance.json")]
            return sidecars and re.search(r"^1 of \d+ steps \(\d+%\) done", open(log_path).read(), re.M)
        wait_for(first_done, 240, "the first segment job")
        wait_for(lambda: segment_running(run.pid), 60, "the second segment job to start")
        time.sleep(0.2)  # past Snakemake's last log line for the job it just started
        os.killpg(run.pid, signal.SIGINT)
        code = run.wait(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    return code, open(log_path).read()


def job_counts(log):
    """Rule -> jobs from the 'Job stats' table Snakemake prints before it runs anything."""
    table = log.split("Job stats:", 1)[1].split("total", 1)[0]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def test_an_interrupted_cohort_run_resumes_with_only_the_scans_left(tmp_path, monkeypatch):
    make_scans(tmp_path / "cohort" / "scans")
    cohort = tmp_path / "cohort" / "cohort.csv"
    with open(cohort, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "mouse", "timepoint", "annotator"])
        w.writerows([(f"scans/{file}", mouse, timepoint, annotator) for file, mouse, timepoint, annotator in COHORT])
    results = tmp_path / "work" / "results"
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({  # JSON is YAML
        "cohort": str(cohort), "output_dir": "results", "aimos": CLI, "model": MODEL, "threads": 1,
        "qc_page": f"{sys.executable} -m aimostools.cohort.qc_page", "extra_options": "--crop body"}))
    os.makedirs(tmp_path / "work")
    # The QC page tool from this checkout, installed or not.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (os.path.join(ROOT, "Tools"), os.environ.get("PYTHONPATH")) if p))

    code, first = interrupt_after_first_scan(snakemake(tmp_path / "work", config), tmp_path / "first.log", results)
    assert code != 0, f"an interrupted run does not report success:\n{first}"
    assert job_counts(first)["segment"] == 3, first
    done = [n for n in NAMES if (results / f"{n}_provenance.json").exists()]
    assert len(done) == 1, f"one scan finished before the interrupt, not {done}:\n{first}"
    assert not (results / "cohort.csv").exists() and not (results / "qc.html").exists()
    kept = results / f"{done[0]}_provenance.json"
    stamp, content = kept.stat().st_mtime_ns, kept.read_bytes()

    started = time.monotonic()
    rerun = subprocess.run(snakemake(tmp_path / "work", config, "--printshellcmds"), capture_output=True, text=True, timeout=600)
    log = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, log
    assert job_counts(log) == {"all": 1, "cohort_table": 1, "qc_page": 1, "segment": 2}, log
    assert sorted(re.findall(r"segment --input \S+ --output-dir \S+ --name (\S+)", log)) == sorted(set(NAMES) - {done[0]}), log
    assert kept.stat().st_mtime_ns == stamp and kept.read_bytes() == content
    for name in NAMES:
        sidecar = json.loads((results / f"{name}_provenance.json").read_text())
        assert sidecar["scan"]["name"] == name
        file, mouse, timepoint, annotator = COHORT[NAMES.index(name)]
        assert [sidecar["scan"][k] or "" for k in ("mouse", "timepoint", "annotator")] == [mouse, timepoint, annotator]
        assert os.path.basename(sidecar["input"]["path"]) == file, "relative paths read from the list's folder"
        for kind in ("labels", "volumes", "preview", "report"):
            assert (results / sidecar["outputs"][kind]["file"]).exists(), (name, kind)
    print(f"rerun of two scans: {time.monotonic() - started:.1f} s")

    with open(results / "cohort.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["scan"] for r in rows} == set(NAMES)
    assert {(r["scan"], r["timepoint"], r["annotator"]) for r in rows} == {(n, c[2], c[3]) for n, c in zip(NAMES, COHORT)}
    assert {r["mouse"] for r in rows if r["scan"] != "scan_c"} == {"m1"}
    assert all(float(r["volume_ml"]) >= 0 for r in rows) and any(float(r["volume_ml"]) > 0 for r in rows)
    page = (results / "qc.html").read_text()
    assert re.findall(r"<h2>(.*?)</h2>", page) == NAMES
    assert page.count('src="data:image/jpeg;base64,') == 3, "every scan's preview is embedded"

    # Everything is up to date now: a third run has nothing to do.
    again = subprocess.run(snakemake(tmp_path / "work", config, "-n"), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, again.stdout + again.stderr
