"""One registry mechanism for tasks, encoders, methods and protocols.

Usage:
    TASKS = Registry("task")

    @TASKS.register("bbc-news")
    def bbc_news() -> Task: ...

    TASKS.get("bbc-nwes")  # UnknownNameError: unknown task 'bbc-nwes'; did you mean 'bbc-news'? ...

A registry may also have *prefix factories* (`hf:`, `st:`, `file:`) for names built at run time.
"""

from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

from superalign.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._help: dict[str, str] = {}
        self._prefixes: dict[str, Callable[[str], T]] = {}

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
        return self._help.get(name, "")

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
