"""The rich consoles the commands print to (tables to stdout, messages to stderr)."""

from rich.console import Console

out = Console()
err = Console(stderr=True)
