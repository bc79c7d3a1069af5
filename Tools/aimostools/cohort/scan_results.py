"""One scan's results as `aimos segment --output-dir` writes them: the provenance sidecar
(NAME_provenance.json) and the files it names, read for the cohort tools.

The sidecar is required and must be valid; an output it names that is absent on disk is
reported as missing (a scan segmented without a preview, a report deleted), but one that is
present and unreadable is an error, so a damaged file is never shown as a clean scan.
"""
import csv
import json
import os
from dataclasses import dataclass, field
from typing import List, Optional


class ResultsError(Exception):
    """A sidecar, or a file it names, that cannot be read; the message starts with its path."""


@dataclass
class OrganVolume:
    organ: str
    volume_ml: float
    animal: Optional[int] = None  # 1-based; None for a scan with one animal


@dataclass
class OrganFlag:
    """An organ the plausibility report found implausible, and why."""
    organ: str
    problems: List[str]
    animal: Optional[int] = None

    def describe(self) -> str:
        who = f"animal {self.animal} " if self.animal is not None else ""
        return f"{who}{self.organ}: {'; '.join(self.problems)}"


@dataclass
class ScanResults:
    sidecar: str
    name: str
    mouse: Optional[str] = None
    timepoint: Optional[str] = None
    annotator: Optional[str] = None
    volumes: Optional[List[OrganVolume]] = None  # None: no volumes file
    preview: Optional[str] = None  # path of the preview picture; None: none on disk
    flags: Optional[List[OrganFlag]] = None  # None: no plausibility report
    not_checked: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)  # outputs named or expected but absent, e.g. "preview"

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def load_scan_results(sidecar: str) -> ScanResults:
    document = _read_json(sidecar, "provenance sidecar")
    scan = document.get("scan") if isinstance(document, dict) else None
    outputs = document.get("outputs", {}) if isinstance(document, dict) else None
    if not isinstance(scan, dict) or not isinstance(scan.get("name"), str) or not scan["name"]:
        raise ResultsError(f"{sidecar}: not an aimos provenance sidecar (no scan.name)")
    if not isinstance(outputs, dict):
        raise ResultsError(f"{sidecar}: not an aimos provenance sidecar (outputs is not an object)")
    results = ScanResults(sidecar=sidecar, name=scan["name"], mouse=_text(scan.get("mouse")),
                          timepoint=_text(scan.get("timepoint")), annotator=_text(scan.get("annotator")))
    folder = os.path.dirname(os.path.abspath(sidecar))
    paths = {}
    for kind in ("volumes", "preview", "report"):
        entry = outputs.get(kind)
        if entry is not None and not (isinstance(entry, dict) and isinstance(entry.get("file"), str)):
            raise ResultsError(f"{sidecar}: outputs.{kind} has no file name")
        # `file` is relative to the sidecar's folder, so a moved results folder still reads.
        path = os.path.join(folder, entry["file"]) if entry else None
        if path and os.path.isfile(path):
            paths[kind] = path
        else:
            results.missing.append(kind)
    if "volumes" in paths:
        results.volumes = read_volumes(paths["volumes"])
    results.preview = paths.get("preview")
    if "report" in paths:
        results.flags, results.not_checked = read_report(paths["report"])
    return results


def read_volumes(path: str) -> List[OrganVolume]:
    """The organs of an `aimos segment --volumes` CSV, background left out."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ResultsError(f"{path}: cannot read the organ table ({error})") from error
    for column in ("class_index", "class", "volume_ml"):
        if column not in header:
            raise ResultsError(f"{path}: not an aimos organ table (no {column} column)")
    volumes = []
    for line, row in enumerate(rows, start=2):
        try:
            if int(row["class_index"]) == 0:
                continue
            animal = int(row["animal"]) if row.get("animal") else None
            volumes.append(OrganVolume(organ=row["class"], volume_ml=float(row["volume_ml"]), animal=animal))
        except (TypeError, ValueError) as error:
            raise ResultsError(f"{path}: line {line}: not a number ({error})") from error
    return volumes


def read_report(path: str):
    """(flagged organs, checks not made) of an `aimos segment --report` JSON file."""
    document = _read_json(path, "plausibility report")
    organs = document.get("organs") if isinstance(document, dict) else None
    not_checked = document.get("not_checked", []) if isinstance(document, dict) else None
    if not isinstance(organs, list) or not isinstance(not_checked, list):
        raise ResultsError(f"{path}: not an aimos plausibility report (no organs list)")
    flags = []
    for organ in organs:
        if not (isinstance(organ, dict) and isinstance(organ.get("organ"), str)
                and isinstance(organ.get("plausible"), bool) and isinstance(organ.get("problems"), list)):
            raise ResultsError(f"{path}: not an aimos plausibility report (an organ without organ/plausible/problems)")
        if not organ["plausible"]:
            flags.append(OrganFlag(organ=organ["organ"], problems=[str(p) for p in organ["problems"]],
                                   animal=organ.get("animal")))
    return flags, [str(n) for n in not_checked]


def _read_json(path: str, what: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError as error:
        raise ResultsError(f"{path}: no such {what}") from error
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ResultsError(f"{path}: cannot read the {what} ({error})") from error


def _text(value) -> Optional[str]:
    return None if value is None or value == "" else str(value)
