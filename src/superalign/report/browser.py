"""Open a report in headless Chromium: the rendered DOM, console messages and a screenshot.

Used by the tests (does the report render in a real browser?) and to make the README screenshot.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from superalign.errors import MissingDependencyError

# Flags for a machine without a display or network (and as root): no sandbox, no background traffic.
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--hide-scrollbars", "--virtual-time-budget=5000"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise MissingDependencyError("headless Chromium is not installed: apt-get install chromium")


def render(index: Path, screenshot: Path | None = None, size: str = "1280,1700") -> tuple[str, list[str]]:
    """(the DOM after scripts ran, console lines) for a report's index.html; optionally a PNG screenshot."""
    url = Path(index).resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        base = [chromium(), *_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]
        dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120)
        console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
        if screenshot is not None:
            subprocess.run([*base, f"--window-size={size}", f"--screenshot={Path(screenshot).resolve()}", url],
                           capture_output=True, text=True, timeout=120, check=True)
    return dom.stdout, console
