"""aimos-qc-page on synthetic results folders (sidecars, organ tables, plausibility reports and
JPEG previews written here, in the formats `aimos segment --output-dir` writes): what each card
shows, the flagged list at the top, the embedded previews, and that an error writes nothing."""
import base64
import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest

Image = pytest.importorskip("PIL.Image")
from aimostools.cohort import qc_page  # noqa: E402
from aimostools.cohort.scan_results import load_scan_results  # noqa: E402

ORGANS = [("Brain", 0.5), ("Heart", 0.2), ("Liver", 1.5)]


def write_scan(folder, name, mouse=None, timepoint=None, annotator=None, flags=(), preview=True, report=True,
               animals=1, colour=(200, 30, 30)):
    """The files aimos writes for one scan; `flags`: (animal or None, organ, problem) of the
    organs the report finds implausible. Returns the sidecar's path."""
    outputs = {"labels": {"file": f"{name}_labels.nii.gz", "bytes": 0, "sha256": ""},
               "volumes": {"file": f"{name}_volumes.csv"}}
    with open(folder / f"{name}_volumes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow((["animal"] if animals > 1 else []) + ["class_index", "class", "voxels", "volume_mm3", "volume_ml"])
        for a in range(1, animals + 1):
            lead = [a] if animals > 1 else []
            w.writerow(lead + [0, "background", 1000, 125.0, 0.125])
            for c, (organ, ml) in enumerate(ORGANS, start=1):
                w.writerow(lead + [c, organ, int(ml * 8000), ml * 1000, ml + a / 100])
    if preview:
        Image.new("RGB", (40, 24), colour).save(folder / f"{name}_preview.jpg", "JPEG")
        outputs["preview"] = {"file": f"{name}_preview.jpg"}
    if report:
        organs = []
        for a in range(1, animals + 1):
            for organ, ml in ORGANS:
                problems = [p for fa, fo, p in flags if fo == organ and (fa or 1) == a]
                row = {"animal": a} if animals > 1 else {}
                row.update(organ=organ, plausible=not problems, voxels=1, volume_ml=ml, pieces=1, main_share=1.0,
                           headward_mm=None, problems=problems)
                organs.append(row)
        (folder / f"{name}_report.json").write_text(json.dumps({"organs": organs, "not_checked": []}))
        outputs["report"] = {"file": f"{name}_report.json"}
    sidecar = {"aimos_version": "test", "created": "2025-01-01T00:00:00Z", "seconds": 1.0,
               "scan": {"name": name, "mouse": mouse, "timepoint": timepoint, "annotator": annotator},
               "input": {"path": f"/scans/{name}.nii.gz", "sha256": "", "bytes": 0},
               "model": {"name": "ct", "sha256": ""}, "options": {}, "layout": [], "outputs": outputs}
    path = folder / f"{name}_provenance.json"
    path.write_text(json.dumps(sidecar))
    return path


def card(page, name):
    """The HTML of the card whose heading is `name`."""
    for section in re.findall(r"<section .*?</section>", page, re.S):
        if f"<h2>{name}</h2>" in section:
            return section
    raise AssertionError(f"no card for {name}")


def summary(page):
    return page.split('<div class="cards">')[0]


@pytest.fixture
def cohort(tmp_path):
    """Three scans: m1_d0 flagged (brain too large), m2_d0 clean, m3_d7 without preview or report."""
    write_scan(tmp_path, "m1_d0", mouse="m1", timepoint="d0", flags=[(None, "Brain", "volume 0.861 mL outside the range")])
    write_scan(tmp_path, "m2_d0", mouse="m2", timepoint="d0", annotator="anna", colour=(30, 200, 30))
    write_scan(tmp_path, "m3_d7", mouse="m3", timepoint="d7", preview=False, report=False)
    return tmp_path


def test_cards_show_each_scan_its_volumes_flags_and_what_is_missing(cohort, capsys):
    output = cohort / "qc.html"
    assert qc_page.main(["--output", str(output)] + [str(cohort / f"{n}_provenance.json") for n in ("m1_d0", "m2_d0", "m3_d7")]) == 0
    assert "3 scans, 1 flagged" in capsys.readouterr().out
    page = output.read_text()
    flagged, clean, bare = card(page, "m1_d0"), card(page, "m2_d0"), card(page, "m3_d7")
    assert 'class="card flagged"' in flagged and 'class="card flagged"' not in clean + bare
    assert "Brain: volume 0.861 mL outside the range" in flagged
    assert re.search(r'<tr class="flagged"><td>Brain</td><td class="ml">0\.5100</td>', flagged)
    assert '<tr><td>Heart</td><td class="ml">0.2100</td>' in flagged
    assert "<td>background</td>" not in page, "background is not an organ"
    assert "mouse m2 · timepoint d0 · annotator anna" in clean and "every organ plausible" in clean
    assert "no preview" in bare and "no plausibility report" in bare and "<img" not in bare
    assert "no preview" not in flagged + clean
    # The top lists the flagged scan (and not the clean one) and the one that was not checked.
    top = summary(page)
    assert "1 flagged" in top and '<a href="#scan-0">m1_d0</a>: 1 organ</li>' in top
    assert "m2_d0" not in top
    assert re.search(r"Not checked.*m3_d7", top)


def test_previews_are_embedded_so_the_page_stands_alone(cohort):
    output = cohort / "qc.html"
    assert qc_page.main(["--output-dir", str(cohort), "--output", str(output)]) == 0
    page = output.read_text()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 2 and all(s.startswith("data:image/jpeg;base64,") for s in sources)
    assert "http" not in page and "<link" not in page
    # Each card embeds its own scan's picture: decoded, the green one is m2_d0's.
    encoded = re.search(r'src="data:image/jpeg;base64,([^"]*)"', card(page, "m2_d0")).group(1)
    picture = Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")
    red, green, _ = picture.getpixel((20, 12))
    assert green > 150 and red < 80
    assert base64.b64decode(encoded) == (cohort / "m2_d0_preview.jpg").read_bytes()


def test_output_dir_takes_every_sidecar_in_name_order_and_writes_qc_html_there(cohort, capsys):
    (cohort / "notes.json").write_text("{}")
    (cohort / "cohort.csv").write_text("scan\n")
    assert qc_page.main(["--output-dir", str(cohort)]) == 0
    page = (cohort / "qc.html").read_text()
    names = re.findall(r"<h2>(.*?)</h2>", page)
    assert names == ["m1_d0", "m2_d0", "m3_d7"]
    assert str(cohort / "qc.html") in capsys.readouterr().out


def test_several_animals_are_shown_and_flagged_per_animal(tmp_path):
    write_scan(tmp_path, "pair", animals=2, flags=[(2, "Heart", "not found")])
    assert qc_page.main(["--output-dir", str(tmp_path)]) == 0
    scan = card((tmp_path / "qc.html").read_text(), "pair")
    assert "<th>animal</th>" in scan and "animal 2 Heart: not found" in scan
    assert '<tr class="flagged"><td>2</td><td>Heart</td>' in scan
    assert '<tr><td>1</td><td>Heart</td>' in scan, "animal 1's heart is not flagged"


def test_names_and_problems_are_escaped(tmp_path):
    write_scan(tmp_path, "a<b>&c", mouse="<script>x</script>", flags=[(None, "Liver", "<i>odd</i>")])
    assert qc_page.main(["--output-dir", str(tmp_path)]) == 0
    page = (tmp_path / "qc.html").read_text()
    assert "<script>" not in page and "<i>odd" not in page and "<b>" not in page
    assert "a&lt;b&gt;&amp;c" in page and "&lt;i&gt;odd&lt;/i&gt;" in page


def test_results_read_from_a_moved_folder(cohort, tmp_path_factory):
    moved = tmp_path_factory.mktemp("moved") / "results"
    os.rename(cohort, moved)
    scan = load_scan_results(str(moved / "m1_d0_provenance.json"))
    assert scan.preview == str(moved / "m1_d0_preview.jpg") and scan.missing == []
    assert [(v.organ, round(v.volume_ml, 4)) for v in scan.volumes] == [("Brain", 0.51), ("Heart", 0.21), ("Liver", 1.51)]
    assert [f.organ for f in scan.flags] == ["Brain"]


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name == "qc.html")


@pytest.mark.parametrize("damage", ["missing", "not json", "no scan name", "outputs not an object",
                                    "report not json", "report without organs", "volumes without volume_ml",
                                    "volumes not a number"])
def test_a_missing_or_invalid_input_exits_2_and_writes_nothing(cohort, capsys, damage):
    sidecar = cohort / "m2_d0_provenance.json"
    document = json.loads(sidecar.read_text())
    broken = sidecar
    if damage == "missing":
        sidecar.unlink()
    elif damage == "not json":
        sidecar.write_text('{"scan": {"name": "m2_d0"')
    elif damage == "no scan name":
        document["scan"].pop("name")
        sidecar.write_text(json.dumps(document))
    elif damage == "outputs not an object":
        document["outputs"] = ["m2_d0_volumes.csv"]
        sidecar.write_text(json.dumps(document))
    elif damage.startswith("report"):
        broken = cohort / "m2_d0_report.json"
        broken.write_text("{not json" if damage == "report not json" else '{"flags": []}')
    else:
        broken = cohort / "m2_d0_volumes.csv"
        broken.write_text("class_index,class,voxels\n1,Brain,3\n" if damage == "volumes without volume_ml"
                          else "class_index,class,volume_ml\n1,Brain,lots\n")
    args = ["--output", str(cohort / "qc.html")] + [str(cohort / f"{n}_provenance.json") for n in ("m1_d0", "m2_d0")]
    assert qc_page.main(args) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"aimos-qc-page: {broken}"), error
    assert leftovers(cohort) == []


def test_a_failed_write_keeps_the_old_page_and_leaves_no_temporary_file(cohort, monkeypatch):
    output = cohort / "qc.html"
    output.write_text("old page")

    def full_disk(source, target):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(qc_page.os, "replace", full_disk)
    assert qc_page.main(["--output-dir", str(cohort)]) == 2
    assert output.read_text() == "old page"
    assert leftovers(cohort) == ["qc.html"]


def test_an_empty_folder_is_an_input_error(tmp_path, capsys):
    assert qc_page.main(["--output-dir", str(tmp_path)]) == 2
    assert "no *_provenance.json" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_command_line_exit_codes(cohort):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "aimostools.cohort.qc_page", *args], capture_output=True, text=True)
    assert run().returncode == 1, "nothing to read is a usage error"
    assert run("--output-dir", str(cohort), str(cohort / "m1_d0_provenance.json")).returncode == 1
    assert run(str(cohort / "m1_d0_provenance.json")).returncode == 1, "--output is needed with listed sidecars"
    missing = run("--output", str(cohort / "qc.html"), str(cohort / "nope_provenance.json"))
    assert missing.returncode == 2 and "nope_provenance.json: no such provenance sidecar" in missing.stderr
    done = run("--output", str(cohort / "qc.html"), str(cohort / "m1_d0_provenance.json"))
    assert done.returncode == 0, done.stderr
    assert oct(os.stat(cohort / "qc.html").st_mode & 0o777) != oct(0o600), "the page is not left private"
