"""The rich consoles the commands print to (tables to stdout, messages to stderr).

Piped output gets a fixed wide width, so tables stay readable in logs and CI.
"""

import sys

from rich.console import Console

out = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 150)
