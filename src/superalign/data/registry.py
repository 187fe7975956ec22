"""The task registry. A task factory is a function that returns a `Task`; `load_task` looks it up."""

from __future__ import annotations

from typing import Callable

from superalign.data.task import Task
from superalign.registry import Registry

TaskFactory = Callable[[], Task]
# Built-ins: every module of superalign.data registers its tasks on import; plugins: entry points.
TASKS: Registry[TaskFactory] = Registry("task", builtins="superalign.data", entry_points="superalign.tasks")


def load_task(name: str) -> Task:
    """Build the task called `name` (a registered name or `file:PATH?text=COL&label=COL`)."""
    return TASKS.get(name)()


def task_names() -> list[str]:
    return TASKS.names()
