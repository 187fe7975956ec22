"""Local files as tasks, and the errors for malformed ones."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from superalign.data.registry import load_task
from superalign.errors import SuperalignError


def test_jsonl_with_string_labels(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps({"review": f"text {i}", "sentiment": "pos" if i % 2 else "neg"})
                              for i in range(10)))
    task = load_task(f"file:{path}?text=review&label=sentiment")
    assert task.label_names == ["neg", "pos"] and list(task.labels[:2]) == [0, 1]


def test_csv_and_parquet(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("text,label\n" + "\n".join(f"row {i},{i % 3}" for i in range(9)))
    assert load_task(f"file:{csv_path}").n_classes == 3
    pq_path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": [f"t{i}" for i in range(6)], "label": [0, 1] * 3}), pq_path)
    assert len(load_task(f"file:{pq_path}")) == 6


def test_malformed_jsonl_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": 0}\n{"text": "b", "label": }\n')
    with pytest.raises(SuperalignError, match=r"bad.jsonl:2:\d+: invalid JSON"):
        load_task(f"file:{path}")


def test_missing_column_and_missing_file(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"body": "a", "label": 0}\n')
    with pytest.raises(SuperalignError, match="no column 'text'"):
        load_task(f"file:{path}")
    with pytest.raises(SuperalignError, match="no such file"):
        load_task(f"file:{tmp_path / 'none.csv'}")


def test_single_class_file_is_refused(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("text,label\na,1\nb,1\n")
    with pytest.raises(SuperalignError, match="single class"):
        load_task(f"file:{path}")
