"""User-facing errors: one line that names the problem and the fix.

A `SuperalignError` is caught by the CLI and printed without a traceback; anything else is a bug.
"""


class SuperalignError(Exception):
    """A problem with the user's input or environment, with a message that says how to fix it."""


class UnknownNameError(SuperalignError, KeyError):
    """A name that is not in a registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0] if self.args else ""


class MissingDependencyError(SuperalignError, ImportError):
    """An optional package or data file is not installed."""
