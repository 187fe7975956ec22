"""Pairwise preference tasks: (prompt, response A, response B, which one is preferred), for reward models.

    load_preferences("file:pairs.jsonl?schema=hh")        # Anthropic HH-RLHF rows: chosen / rejected dialogues
    load_preferences("file:helpsteer.jsonl?schema=helpsteer")   # HelpSteer rows: prompt, response, helpfulness
    load_preferences("file:pairs.parquet")                 # prompt / chosen / rejected columns (the default schema)
    load_preferences("hub:Anthropic/hh-rlhf?schema=hh&split=test&max=2000")   # the Hugging Face hub (datasets)

Which response is shown as A is decided per pair by a hash of its content, so the label is balanced and the same
on every machine. A preference task is a `Task` whose input is the pair written out ("Prompt: ... Response A: ...
Response B: ..."), with labels 0 (A preferred) and 1 (B preferred): its splits are the same deterministic,
stratified splits as a classification task's, and `pairs` keeps the parts for reward models that score each
response on its own. A malformed row is one error line naming the file, the row and what is wrong.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np

from superalign.data.local import read_rows
from superalign.data.registry import TASKS
from superalign.data.task import Task
from superalign.errors import MissingDependencyError, SuperalignError

SCHEMAS = ("pairs", "hh", "helpsteer")
_ASSISTANT = "\n\nAssistant:"


@dataclass(frozen=True)
class PreferencePair:
    prompt: str
    response_a: str
    response_b: str
    preferred: int  # 0: response A is preferred, 1: response B

    @property
    def text(self) -> str:
        return f"Prompt: {self.prompt}\n\nResponse A: {self.response_a}\n\nResponse B: {self.response_b}"


def _oriented(prompt: str, chosen: str, rejected: str) -> PreferencePair:
    """The pair with the chosen response at A or B by a hash of its content (balanced, reproducible)."""
    coin = hashlib.sha256(f"{prompt}\x00{chosen}\x00{rejected}".encode()).digest()[0] & 1
    return PreferencePair(prompt, rejected, chosen, 1) if coin else PreferencePair(prompt, chosen, rejected, 0)


def _text(row: dict, column: str, where: str) -> str:
    value = row.get(column)
    if not isinstance(value, str) or not value.strip():
        raise SuperalignError(f"{where}: {column!r} is missing or empty; a preference row needs it")
    return value


def _hh(row: dict, where: str) -> tuple[str, str, str]:
    """HH-RLHF: two whole dialogues that share everything up to the last assistant turn."""
    chosen, rejected = _text(row, "chosen", where), _text(row, "rejected", where)
    cut_c, cut_r = chosen.rfind(_ASSISTANT), rejected.rfind(_ASSISTANT)
    if cut_c < 0 or cut_r < 0:
        raise SuperalignError(f"{where}: no '\\n\\nAssistant:' turn in chosen or rejected (HH-RLHF schema expected)")
    if chosen[:cut_c] != rejected[:cut_r]:
        raise SuperalignError(f"{where}: chosen and rejected do not share the dialogue before the last assistant turn")
    return chosen[:cut_c].strip(), chosen[cut_c + len(_ASSISTANT):].strip(), rejected[cut_r + len(_ASSISTANT):].strip()


def _pairs_from_rows(rows: list[dict], schema: str, source: str) -> tuple[list[PreferencePair], int]:
    """The pairs of `rows` and how many rows gave none (HelpSteer ties)."""
    pairs, skipped = [], 0
    if schema == "helpsteer":  # one response per row: pair the most and least helpful response to each prompt
        by_prompt: dict[str, list[tuple[float, str]]] = {}
        for i, row in enumerate(rows):
            where = f"{source}: row {i + 1}"
            score = row.get("helpfulness")
            if isinstance(score, bool) or not isinstance(score, (int, float)):
                raise SuperalignError(f"{where}: 'helpfulness' must be a number (HelpSteer schema)")
            by_prompt.setdefault(_text(row, "prompt", where), []).append((float(score), _text(row, "response", where)))
        for prompt, scored in by_prompt.items():
            scored.sort(key=lambda s: s[0])
            (low, worst), (high, best) = scored[0], scored[-1]
            if high == low:  # no preference to learn
                skipped += 1
                continue
            pairs.append(_oriented(prompt, best, worst))
        return pairs, skipped
    for i, row in enumerate(rows):
        where = f"{source}: row {i + 1}"
        if not isinstance(row, dict):
            raise SuperalignError(f"{where}: a row must be an object with the schema's fields")
        if schema == "hh":
            prompt, chosen, rejected = _hh(row, where)
        else:
            prompt, chosen, rejected = (_text(row, c, where) for c in ("prompt", "chosen", "rejected"))
        if chosen == rejected:
            skipped += 1  # identical responses: no preference to learn
            continue
        pairs.append(_oriented(prompt, chosen, rejected))
    return pairs, skipped


@dataclass(frozen=True)
class PreferenceTask(Task):
    """A `Task` of written-out pairs (labels: 0 = A preferred, 1 = B), with the pairs themselves, for reward models
    that score each response on its own."""

    pairs: tuple[PreferencePair, ...] = field(default=(), repr=False, compare=False)


def _task(name: str, pairs: list[PreferencePair], description: str) -> PreferenceTask:
    if len(pairs) < 10:
        raise SuperalignError(f"{name}: {len(pairs)} usable preference pairs; a task needs at least 10")
    return PreferenceTask(name, [p.text for p in pairs], np.array([p.preferred for p in pairs], dtype=np.int64),
                          ["A preferred", "B preferred"], "text", description, pairs=tuple(pairs))


def preference_task(name: str, rows: list[dict], description: str) -> PreferenceTask:
    """A task from rows in the default schema (prompt, chosen, rejected; other fields are kept out of it)."""
    pairs, _ = _pairs_from_rows(rows, "pairs", name)
    return _task(name, pairs, description)


def _options(spec: str, allowed: set[str]) -> tuple[str, dict[str, str]]:
    base, _, query = spec.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    if unknown := sorted(set(options) - allowed):
        raise SuperalignError(f"preference task {spec!r}: unknown option(s) {unknown}; use {', '.join(sorted(allowed))}")
    schema = options.get("schema", "pairs")
    if schema not in SCHEMAS:
        raise SuperalignError(f"preference task {spec!r}: schema {schema!r}; use one of {', '.join(SCHEMAS)}")
    return base, options


def load_preferences(spec: str) -> PreferenceTask:
    """`file:PATH[?schema=pairs|hh|helpsteer]` (jsonl, json, csv or parquet) or `hub:REPO[?schema&split&max]`."""
    kind, _, rest = spec.partition(":")
    if kind == "file":
        base, options = _options(rest, {"schema"})
        path = Path(base).expanduser()
        pairs, skipped = _pairs_from_rows(read_rows(path), options.get("schema", "pairs"), str(path))
        return _task(f"file:{path.name}", pairs, f"preference pairs from {path} ({skipped} rows without a preference)")
    if kind == "hub":
        base, options = _options(rest, {"schema", "split", "max"})
        split = options.get("split", "train")
        limit = options.get("max")
        rows = _hub_rows(base, f"{split}[:{int(limit)}]" if limit else split)
        pairs, skipped = _pairs_from_rows(rows, options.get("schema", "pairs"), base)
        return _task(f"hub:{base}", pairs, f"preference pairs from {base} ({split}; {skipped} rows without a preference)")
    raise SuperalignError(f"preference task {spec!r}: start with file: (a local file) or hub: (a Hugging Face dataset)")


def _hub_rows(source: str, split: str) -> list[dict]:
    """Rows through the real `datasets` code: a hub repository, or a local folder in the repository's layout."""
    import datasets  # heavy; only hub preference tasks need it

    try:
        return list(datasets.load_dataset(source, split=split))
    except Exception as exc:  # the hub raises many types: network, missing files, bad schema
        raise MissingDependencyError(
            f"preference task {source!r}: could not load it ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}); "
            "with no internet, download the dataset's files and give their folder instead of the repository name"
        ) from exc


# `superalign run --task prefs:file:pairs.jsonl?schema=hh` (or prefs:hub:...): a preference task like any other
TASKS.register_prefix("prefs", lambda spec: (lambda: load_preferences(spec)))
