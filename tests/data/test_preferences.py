"""Pairwise preference tasks from local files in the HH-RLHF and HelpSteer schemas, through the real `datasets`
loader on a local folder in the hub's layout, with balanced, reproducible A/B orientation and one-line errors."""

import json

import numpy as np
import pytest

from superalign.data.preferences import load_preferences
from superalign.data.registry import load_task
from superalign.data.task import make_splits
from superalign.errors import SuperalignError


def _hh_rows(n):
    rows = []
    for i in range(n):
        dialogue = f"\n\nHuman: What is {i} plus {i}?"
        rows.append({"chosen": f"{dialogue}\n\nAssistant: It is {2 * i}.",
                     "rejected": f"{dialogue}\n\nAssistant: It is {2 * i + 1}, I think."})
    return rows


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_hh_rlhf_rows_become_balanced_pairs_with_the_shared_dialogue_as_prompt(tmp_path):
    path = _write_jsonl(tmp_path / "hh.jsonl", _hh_rows(200))
    task = load_preferences(f"file:{path}?schema=hh")
    assert len(task) == 200 and set(task.labels) == {0, 1} and 70 < task.labels.sum() < 130  # balanced
    first = task.pairs[0]
    assert first.prompt == "Human: What is 0 plus 0?"
    chosen = first.response_a if first.preferred == 0 else first.response_b
    assert chosen == "It is 0." and "Response A:" in task.inputs[0]
    assert np.array_equal(load_preferences(f"file:{path}?schema=hh").labels, task.labels)  # reproducible
    splits = make_splits(task, seed=0)
    assert sum(len(ix) for _, ix in splits.items()) == 200
    assert len(load_task(f"prefs:file:{path}?schema=hh")) == 200  # through the task registry


def test_helpsteer_rows_pair_the_most_and_least_helpful_response_per_prompt(tmp_path):
    rows = []
    for i in range(30):
        rows += [{"prompt": f"Explain {i}.", "response": f"A careful answer about {i}.", "helpfulness": 4},
                 {"prompt": f"Explain {i}.", "response": f"Whatever {i}.", "helpfulness": 1}]
    rows += [{"prompt": "Tie", "response": "x", "helpfulness": 2}, {"prompt": "Tie", "response": "y", "helpfulness": 2}]
    task = load_preferences(f"file:{_write_jsonl(tmp_path / 'hs.jsonl', rows)}?schema=helpsteer")
    assert len(task) == 30 and "1 rows without a preference" in task.description
    for pair in task.pairs:
        best = pair.response_a if pair.preferred == 0 else pair.response_b
        assert best.startswith("A careful answer")


def test_the_hub_loader_reads_a_local_folder_in_the_hubs_layout(tmp_path):
    folder = tmp_path / "hh-rlhf"
    folder.mkdir()
    _write_jsonl(folder / "test.jsonl", _hh_rows(40))  # `datasets` maps test.jsonl to the test split
    task = load_preferences(f"hub:{folder}?schema=hh&split=test&max=25")
    assert len(task) == 25 and task.pairs[3].prompt == "Human: What is 3 plus 3?"


@pytest.mark.parametrize("rows, schema, words", [
    ([{"chosen": "no assistant turn", "rejected": "x"}], "hh", "Assistant"),
    ([{"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: c\n\nAssistant: d"}], "hh", "do not share"),
    ([{"prompt": "p", "chosen": "", "rejected": "r"}], "pairs", "'chosen' is missing or empty"),
    ([{"prompt": "p", "response": "r", "helpfulness": "high"}], "helpsteer", "'helpfulness' must be a number"),
])
def test_malformed_rows_are_one_line_naming_the_row(tmp_path, rows, schema, words):
    path = _write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(SuperalignError) as error:
        load_preferences(f"file:{path}?schema={schema}")
    assert words in str(error.value) and "row 1" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(SuperalignError, match="schema 'ultra'"):
        load_preferences(f"file:{path}?schema=ultra")
