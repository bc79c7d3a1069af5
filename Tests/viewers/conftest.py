"""The `segmented` fixture: each case of viewer_cases segmented by the built `aimos` command
(.build/release/aimos-cli, or $AIMOS_CLI) with --itksnap-labels, --slicer-colors and --volumes.
Tests using it skip, saying why, when the command is not built."""
import csv
import os
import subprocess

import pytest

from viewer_cases import CASES, CLI, DEMO_MODEL, Segmented, write_renamed_model


@pytest.fixture(scope="session", params=sorted(CASES))
def segmented(request, tmp_path_factory):
    if not os.path.exists(CLI):
        pytest.skip(f"the aimos command is not built at {CLI} (swift build -c release --static-swift-stdlib)")
    write_scan, scan_name, classes = CASES[request.param]
    folder = tmp_path_factory.mktemp(request.param)
    scan = str(folder / scan_name)
    write_scan(scan)
    model = DEMO_MODEL
    if classes is not None:
        model = str(folder / "renamed.safetensors")
        write_renamed_model(model, [c[0] for c in classes])
    out = {name: str(folder / name) for name in ("labels.nii.gz", "labels.txt", "labels.ctbl", "volumes.csv")}
    subprocess.run([CLI, "segment", "--model", model, "--input", scan, "--output", out["labels.nii.gz"],
                    "--itksnap-labels", out["labels.txt"], "--slicer-colors", out["labels.ctbl"],
                    "--volumes", out["volumes.csv"]], check=True, capture_output=True)
    with open(out["volumes.csv"], newline="") as f:
        volumes = list(csv.DictReader(f))
    if classes is None:
        classes = [(row["class"], row["class"], row["class"]) for row in volumes]
    return Segmented(scan, out["labels.nii.gz"], out["labels.txt"], out["labels.ctbl"], classes, volumes)
