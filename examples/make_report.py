"""Runs the demo sweep and writes the HTML report plus the README screenshot (docs/report.png).

    python examples/make_report.py [--jobs 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from superalign.report.browser import render
from superalign.report.html import build_report

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("superalign-report"))
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "superalign.cli.main", "sweep", str(ROOT / "examples/sweeps/demo.yaml"),
                    "--jobs", str(args.jobs)], check=True)
    index = build_report(args.out)
    render(index, screenshot=ROOT / "docs" / "report.png", size="1280,1500")
    print(f"report: {index}; screenshot: docs/report.png")


if __name__ == "__main__":
    main()
