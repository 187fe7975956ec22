"""One registry mechanism for tasks, encoders, methods and protocols.

Usage:
    TASKS = Registry("task")

    @TASKS.register("bbc-news")
    def bbc_news() -> Task: ...

    TASKS.get("bbc-nwes")  # UnknownNameError: unknown task 'bbc-nwes'; did you mean 'bbc-news'? ...

A registry may also have *prefix factories* (`hf:`, `st:`, `file:`) for names built at run time.

Entries are found, not listed: on the first lookup a registry imports every module of its `builtins`
package (each registers its entries on import) and loads its `entry_points` group, so code outside
superalign registers with `[project.entry-points."superalign.methods"] mine = "my_pkg.my_module"` in its
own pyproject (loading the entry point imports the module, which registers itself).
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import warnings
from importlib.metadata import entry_points as _entry_points
from typing import Callable, Generic, Iterator, TypeVar

from superalign.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, builtins: str | None = None, entry_points: str | None = None):
        self.kind = kind
        self.builtins = builtins  # a package whose modules register entries when imported
        self.entry_point_group = entry_points  # an importlib.metadata entry-point group for plugins
        self._loaded = builtins is None and entry_points is None
        self._entries: dict[str, T] = {}
        self._help: dict[str, str] = {}
        self._prefixes: dict[str, Callable[[str], T]] = {}

    def load(self) -> None:
        """Imports the built-in modules and the plugins, once (lazily, so start-up stays fast)."""
        if self._loaded:
            return
        self._loaded = True
        if self.builtins:
            package = importlib.import_module(self.builtins)
            for module in pkgutil.iter_modules(package.__path__, self.builtins + "."):
                importlib.import_module(module.name)
        if self.entry_point_group:
            for entry in _entry_points(group=self.entry_point_group):
                try:
                    loaded = entry.load()
                except Exception as exc:  # a broken plugin must not take the built-ins down with it
                    warnings.warn(f"{self.kind} plugin {entry.name!r} ({entry.value}) failed to load: {exc}")
                    continue
                if not isinstance(loaded, type(importlib)) and entry.name not in self._entries:
                    self.add(entry.name, loaded)  # the entry point names an object, not a module

    def register(self, name: str, help: str = "") -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            self.add(name, obj, help=help)
            return obj

        return decorator

    def add(self, name: str, obj: T, help: str = "") -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = obj
        self._help[name] = help or (getattr(obj, "__doc__", None) or "").strip().split("\n")[0]

    def register_prefix(self, prefix: str, factory: Callable[[str], T]) -> None:
        """Names of the form `prefix:rest` are resolved by `factory(rest)`."""
        self._prefixes[prefix] = factory

    def get(self, name: str) -> T:
        self.load()
        if name in self._entries:
            return self._entries[name]
        prefix, sep, rest = name.partition(":")
        if sep and prefix in self._prefixes:
            return self._prefixes[prefix](rest)
        raise UnknownNameError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        prefixes = f" (or a name starting with {', '.join(p + ':' for p in self._prefixes)})" if self._prefixes else ""
        return (
            f"unknown {self.kind} {name!r}; {hint}"
            f"known: {', '.join(sorted(self._entries))}{prefixes}"
        )

    def help(self, name: str) -> str:
        self.load()
        return self._help.get(name, "")

    def names(self) -> list[str]:
        self.load()
        return list(self._entries)

    def __contains__(self, name: str) -> bool:
        self.load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        self.load()
        return iter(self._entries)

    def __len__(self) -> int:
        self.load()
        return len(self._entries)
