#!/usr/bin/env python3
"""aimos-qc-page: one HTML page to check a cohort's segmentations by eye, a card per scan (name,
mouse / timepoint / annotator, the preview, the organ volumes in mL, the plausibility report's
flags), flagged scans highlighted and listed at the top.

    aimos-qc-page --output qc.html results/m1_d0_provenance.json results/m2_d0_provenance.json
    aimos-qc-page --output-dir results            # every results/*_provenance.json -> results/qc.html

The page is self-contained (previews embedded as data URIs): it can be mailed or moved alone.
It is written whole or not at all. Exit codes as aimos: 0 written, 1 usage, 2 input error (a
sidecar, or a file it names, missing or unreadable; nothing is written).
"""
import argparse
import base64
import glob
import html
import os
import sys
import tempfile
from typing import List

from aimostools.cohort.scan_results import ResultsError, ScanResults, load_scan_results

USAGE_ERROR = 1
INPUT_ERROR = 2

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; background: #f4f4f4; color: #222; }
h1 { margin-bottom: 0.2em; }
.summary { margin-bottom: 1.5em; }
.summary .flagged-list li a { color: #a00; }
.cards { display: flex; flex-wrap: wrap; gap: 1em; }
.card { background: #fff; border: 2px solid #ccc; border-radius: 6px; padding: 0.8em; width: 30em; }
.card.flagged { border-color: #c00; background: #fff4f4; }
.card h2 { margin: 0 0 0.2em; font-size: 1.2em; word-break: break-all; }
.card img { max-width: 100%; display: block; margin: 0.5em 0; }
.meta { color: #555; margin: 0 0 0.4em; }
.missing { color: #a60; font-style: italic; }
.ok { color: #070; }
.flags { color: #a00; }
table.volumes { border-collapse: collapse; font-size: 0.9em; }
table.volumes td, table.volumes th { padding: 0.1em 0.6em; text-align: left; }
table.volumes td.ml { text-align: right; font-variant-numeric: tabular-nums; }
table.volumes tr.flagged td { color: #a00; font-weight: bold; }
"""


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    # aimos's exit codes: 1 for usage, leaving 2 (argparse's own) to input errors.
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def main(argv=None) -> int:
    parser = Parser(prog="aimos-qc-page", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sidecars", nargs="*", metavar="PROVENANCE.json", help="scans' provenance sidecars")
    parser.add_argument("--output-dir", metavar="DIR", help="take every DIR/*_provenance.json (instead of listing them)")
    parser.add_argument("--output", metavar="FILE.html", help="the page to write (default with --output-dir: DIR/qc.html)")
    parser.add_argument("--title", default="aimos QC", help="the page's title (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        sidecars, output = choose_files(args)
        scans = [load_scan_results(path) for path in sidecars]
        page = render_page(scans, args.title)
        write_atomically(output, page)
    except UsageError as error:
        parser.error(str(error))
    except (ResultsError, OSError) as error:
        print(f"aimos-qc-page: {error}", file=sys.stderr)
        return INPUT_ERROR
    flagged = sum(scan.flagged for scan in scans)
    print(f"{output}: {len(scans)} scans, {flagged} flagged")
    return 0


def choose_files(args):
    """(sidecar paths, output path) from the command line."""
    if args.output_dir and args.sidecars:
        raise UsageError("give sidecars or --output-dir, not both")
    if args.output_dir:
        if not os.path.isdir(args.output_dir):
            raise ResultsError(f"{args.output_dir}: no such folder")
        sidecars = sorted(glob.glob(os.path.join(glob.escape(args.output_dir), "*_provenance.json")))
        if not sidecars:
            raise ResultsError(f"{args.output_dir}: no *_provenance.json sidecar in this folder")
        return sidecars, args.output or os.path.join(args.output_dir, "qc.html")
    if not args.sidecars:
        raise UsageError("give the scans' provenance sidecars, or --output-dir")
    if not args.output:
        raise UsageError("--output is required when sidecars are listed")
    return args.sidecars, args.output


def render_page(scans: List[ScanResults], title: str) -> str:
    e = html.escape
    flagged = [(i, s) for i, s in enumerate(scans) if s.flagged]
    unreported = [(i, s) for i, s in enumerate(scans) if s.flags is None]
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{e(title)}</h1>", '<div class="summary">',
             f"<p>{len(scans)} scans, <strong>{len(flagged)} flagged</strong> by the plausibility report, "
             f"{len(unreported)} without a report.</p>"]
    if flagged:
        parts.append('<p>Flagged:</p><ul class="flagged-list">')
        parts += [f'<li><a href="#scan-{i}">{e(s.name)}</a>: {len(s.flags)} organ{"s" if len(s.flags) > 1 else ""}</li>'
                  for i, s in flagged]
        parts.append("</ul>")
    if unreported:
        parts.append('<p class="missing">Not checked (no plausibility report): '
                     + ", ".join(f'<a href="#scan-{i}">{e(s.name)}</a>' for i, s in unreported) + "</p>")
    parts.append('</div><div class="cards">')
    parts += [render_card(i, scan) for i, scan in enumerate(scans)]
    parts.append("</div></body></html>\n")
    return "\n".join(parts)


def render_card(index: int, scan: ScanResults) -> str:
    e = html.escape
    parts = [f'<section class="card{" flagged" if scan.flagged else ""}" id="scan-{index}">',
             f"<h2>{e(scan.name)}</h2>"]
    meta = [f"{what} {e(value)}" for what, value in
            (("mouse", scan.mouse), ("timepoint", scan.timepoint), ("annotator", scan.annotator)) if value]
    parts.append(f'<p class="meta">{" · ".join(meta) if meta else "no mouse / timepoint / annotator"}</p>')
    if scan.preview:
        parts.append(f'<img src="{data_uri(scan.preview)}" alt="preview of {e(scan.name)}">')
    else:
        parts.append('<p class="missing">no preview</p>')
    if scan.flags is None:
        parts.append('<p class="missing">no plausibility report</p>')
    elif scan.flags:
        parts.append('<div class="flags"><strong>flagged:</strong><ul>')
        parts += [f"<li>{e(flag.describe())}</li>" for flag in scan.flags]
        parts.append("</ul></div>")
    else:
        parts.append('<p class="ok">every organ plausible</p>')
    parts += [f'<p class="missing">not checked: {e(note)}</p>' for note in scan.not_checked]
    if scan.volumes is None:
        parts.append('<p class="missing">no organ volumes</p>')
    else:
        parts.append(render_volumes(scan))
    parts.append(f'<p class="meta">{e(os.path.basename(scan.sidecar))}</p></section>')
    return "\n".join(parts)


def render_volumes(scan: ScanResults) -> str:
    e = html.escape
    several = any(v.animal is not None for v in scan.volumes)
    bad = {(f.animal, f.organ) for f in scan.flags or []}
    head = ("<th>animal</th>" if several else "") + "<th>organ</th><th>mL</th>"
    rows = []
    for v in scan.volumes:
        mark = ' class="flagged"' if (v.animal, v.organ) in bad else ""
        animal = f"<td>{v.animal if v.animal is not None else ''}</td>" if several else ""
        rows.append(f'<tr{mark}>{animal}<td>{e(v.organ)}</td><td class="ml">{v.volume_ml:.4f}</td></tr>')
    return f'<table class="volumes"><tr>{head}</tr>' + "".join(rows) + "</table>"


def data_uri(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    # The type from the picture's first bytes: aimos writes JPEG, a user's own may be PNG.
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def write_atomically(path: str, text: str) -> None:
    """Writes `path` through a temporary file beside it, renamed over it when whole, so a reader
    (or a workflow manager) never sees half a page and a failure leaves nothing behind."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ResultsError(f"{path}: the folder {folder} does not exist")
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        # mkstemp makes the file private; a page is meant to be shared like any other output.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


if __name__ == "__main__":
    sys.exit(main())
