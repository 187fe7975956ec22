"""mkdocs hook: the HTML report (`superalign report`) becomes part of the site at build time, from the run store
of the machine that builds it, so the docs link to a report whose figures are generated, never pasted. Where the
store has no runs, the site gets a page that says how to fill it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mkdocs.structure.files import File

EMPTY = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>superalign report</title></head>
<body><h1>superalign report</h1><p>The run store of the machine that built this site had no runs
({reason}). Run <code>make results</code> (or any <code>superalign run SPEC.yaml</code>), then build the site again:
the report is made from the store at build time.</p></body></html>
"""


def on_files(files, config):
    from superalign.errors import SuperalignError
    from superalign.report.html import build_report

    out = Path(tempfile.mkdtemp(prefix="superalign-site-report-"))
    try:
        build_report(out)
    except SuperalignError as exc:
        files.append(File.generated(config, "superalign-report/index.html", content=EMPTY.format(reason=str(exc).split(": ", 1)[-1])))
        return files
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        files.append(File.generated(config, f"superalign-report/{path.relative_to(out).as_posix()}", abs_src_path=str(path)))
    return files
