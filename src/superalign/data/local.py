"""Any local file as a task: `file:PATH?text=COLUMN&label=COLUMN` (jsonl, json, csv or parquet).

Labels may be integers or strings; strings are mapped to ids in sorted order.
A malformed file is reported with its path, line and column.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np

from superalign.data.registry import TASKS
from superalign.data.task import Task
from superalign.errors import SuperalignError


def parse_spec(spec: str) -> tuple[Path, str, str]:
    path_part, _, query = spec.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    unknown = set(options) - {"text", "label"}
    if unknown:
        raise SuperalignError(f"file task {spec!r}: unknown option(s) {sorted(unknown)}; use ?text=COLUMN&label=COLUMN")
    return Path(path_part).expanduser(), options.get("text", "text"), options.get("label", "label")


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        raise SuperalignError(f"{path}: no such file; check the path after 'file:'")
    try:
        return _read_rows(path)
    except UnicodeDecodeError as exc:
        raise SuperalignError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8, or as parquet") from None
    except IsADirectoryError:
        raise SuperalignError(f"{path}: a folder, not a data file") from None


def _read_rows(path: Path) -> list[dict]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path)
    if suffix == ".json":
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SuperalignError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(rows, list):
            raise SuperalignError(f"{path}: expected a JSON list of objects")
        return rows
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = []
            for row in reader:
                if None in row:  # more fields than the header
                    raise SuperalignError(f"{path}:{reader.line_num}: more fields than the header has columns")
                rows.append(row)
            return rows
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist()
        except Exception as exc:
            raise SuperalignError(f"{path}: not a readable parquet file ({exc})") from exc
    raise SuperalignError(f"{path}: unsupported file type {suffix!r}; use .jsonl, .json, .csv or .parquet")


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SuperalignError(f"{path}:{line_no}:{exc.colno}: invalid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise SuperalignError(f"{path}:{line_no}:1: each line must be a JSON object")
            rows.append(row)
    return rows


def load_file_task(spec: str) -> Task:
    path, text_col, label_col = parse_spec(spec)
    rows = read_rows(path)
    if not rows:
        raise SuperalignError(f"{path}: the file holds no rows")
    texts, raw_labels = [], []
    for i, row in enumerate(rows):
        missing = [c for c in (text_col, label_col) if c not in row]
        if missing:
            raise SuperalignError(
                f"{path}: row {i + 1} has no column {missing[0]!r} (columns: {sorted(row)}); "
                "name the columns with ?text=COLUMN&label=COLUMN"
            )
        if row[label_col] is None or (isinstance(row[label_col], str) and not row[label_col].strip()):
            raise SuperalignError(f"{path}: row {i + 1} has no label (column {label_col!r} is empty or null); "
                                  "label it or drop the row")
        if row[text_col] is None:
            raise SuperalignError(f"{path}: row {i + 1} has no text (column {text_col!r} is null); fill it or drop the row")
        texts.append(str(row[text_col]))
        raw_labels.append(row[label_col])
    label_names, labels = _encode_labels(raw_labels, path)
    return Task(f"file:{spec}", texts, labels, label_names, "text", f"local file {path}")


def _encode_labels(raw: list, path: Path) -> tuple[list[str], np.ndarray]:
    as_ints = []
    for value in raw:
        try:
            as_ints.append(int(value))
        except (TypeError, ValueError):
            break
    else:
        if min(as_ints) >= 0:
            names = [str(i) for i in range(max(as_ints) + 1)]
            return names, np.array(as_ints)
    names = sorted({str(v) for v in raw})
    index = {name: i for i, name in enumerate(names)}
    return names, np.array([index[str(v)] for v in raw])


TASKS.register_prefix("file", lambda spec: (lambda: load_file_task(spec)))
