"""A kind of experiment: what the engine runs, without knowing any family.

    KIND = Kind(name="w2s", config=ExperimentConfig, run=run_w2s, summarize=w2s_table)

A kind is a pydantic config class (one run, its `seed` included), a `run(config) -> result` (a pydantic model or a
JSON-able dict), and a `summarize(records) -> Table`. Optional parts: `keyed` (the fields of a config that key its
record, for kinds whose stored keys predate a field), `check` (fail-fast validation of names before any work),
`legacy_keys` (the keys a run had in stores of earlier versions: such a record is re-keyed, not recomputed),
`sugar` (a kind's shorthand, rewritten into the one spec format before expansion), `views` (other tables of the
same records, by name),
`prepare` (shared heavy work done once in the parent before dispatch, e.g. featurizing), and `cpus`/`gpus` (what
one run needs, for the process pool and Ray).

Kinds register in `KINDS` through the `superalign.kinds` entry-point group: superalign's own families list theirs in
its pyproject, an out-of-tree package in its own; the engine imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel

from superalign.registry import Registry


@dataclass
class Table:
    """A summary table: what every kind's `summarize` returns, printed with rich or as Markdown."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_markdown(cls, title: str, text: str, notes: list[str] | None = None) -> "Table":
        """A table a family already prints as Markdown (a header row, a rule, rows), as a `Table`."""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip().startswith("|")]
        cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
        return cls(title, cells[0], cells[2:], notes or [])

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in self.rows]
        return "\n".join([f"**{self.title}**", "", *lines, *([""] + self.notes if self.notes else [])])

    def html(self) -> str:
        """The table as an HTML fragment (every cell escaped), for the report."""
        from html import escape

        head = "".join(f"<th>{escape(str(c))}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in self.rows)
        notes = "".join(f'<p class="note">{escape(n)}</p>' for n in self.notes)
        return f"<h3>{escape(self.title)}</h3><table><tr>{head}</tr>{body}</table>{notes}"

    def show(self, console) -> None:
        """A rich table on a terminal; Markdown elsewhere (a pipe, a log file, a test), where it stays readable."""
        if console.is_terminal:
            console.print(self.rich())
            for note in self.notes:
                console.print(note)
        else:
            console.print(self.markdown(), markup=False, soft_wrap=True)

    def rich(self):
        from rich.table import Table as RichTable

        table = RichTable(*self.columns, title=self.title)
        for row in self.rows:
            table.add_row(*[str(c) for c in row])
        return table


@dataclass
class Kind:
    name: str
    config: type[BaseModel]
    run: Callable[[Any], Any]
    summarize: Callable[[list[dict]], Table]
    keyed: Callable[[dict], dict] = lambda config: config
    check: Callable[[list[Any]], None] = lambda configs: None
    # keys the same run had in stores written before its kind joined the engine: found there, it is re-keyed
    legacy_keys: Callable[[dict], list[str]] | None = None
    prepare: Callable[[list[Any], Callable[[str, int], Callable[[], None]]], None] | None = None
    # a kind's own shorthand in a spec (w2s: `ladder:` for every weak < strong pair), rewritten into the one
    # format (fields, `runs:` rows) before expansion: (spec, where) -> spec
    sugar: Callable[[dict, str], dict] | None = None
    # other tables of the same records, by name (a docs block asks for one with `view=NAME`)
    views: dict[str, Callable[[list[dict]], Table]] = field(default_factory=dict)
    cpus: float = 1.0
    gpus: float = 0.0
    # what one run needs, where runs of a kind differ (a method that trains a model wants a GPU): config -> {"cpus":
    # .., "gpus": ..}; the Ray executor reserves it per run, over the kind's `cpus`/`gpus`
    resources: Callable[[dict], dict[str, float]] | None = None
    help: str = ""

    def __post_init__(self) -> None:
        self.__doc__ = self.help or f"experiment kind {self.name}"


KINDS: Registry[Kind] = Registry("kind", entry_points="superalign.kinds")
