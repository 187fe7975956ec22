"""The task registry. A task factory is a function that returns a `Task`; `load_task` looks it up."""

from __future__ import annotations

from typing import Callable

from superalign.data.task import Task
from superalign.registry import Registry

TaskFactory = Callable[[], Task]
TASKS: Registry[TaskFactory] = Registry("task")


def load_task(name: str) -> Task:
    """Build the task called `name` (a registered name or `file:PATH?text=COL&label=COL`)."""
    _ensure_builtins()
    return TASKS.get(name)()


def task_names() -> list[str]:
    _ensure_builtins()
    return TASKS.names()


def _ensure_builtins() -> None:
    # Importing the modules registers their tasks; done lazily so `import superalign` stays fast.
    from superalign.data import bbc, hub, images, local, tabular  # noqa: F401
