"""Oversight x W2SG through the W2S pipeline: a judge under a protocol as the weak supervisor."""

import numpy as np
import pytest

from superalign.chat.client import CHAT_MODELS, MockChat
from superalign.data.registry import load_task
from superalign.data.task import SplitSizes, make_splits
from superalign.errors import SuperalignError
from superalign.w2s.pipeline import ExperimentConfig, run_experiment, train_models

BUSINESS = ("market", "shares", "profit", "bank", "economy", "firm", "sales", "company", "growth", "oil")


def _keyword_judge(messages):
    """Reads the text in its prompt (direct with the source): "business" when a business word appears."""
    text = messages[-1]["content"].lower()
    return 'business"' if any(word in text for word in BUSINESS) else 'tech"'  # cloze: the answer text, closed


@pytest.fixture
def keyword_judge():
    CHAT_MODELS.add("test-keyword-judge", lambda: MockChat(_keyword_judge, name="keyword"))
    yield "test-keyword-judge"
    CHAT_MODELS._entries.pop("test-keyword-judge")


def _config(judge: str, **update) -> ExperimentConfig:
    options = {"protocol": "direct", "judge": judge, "settings": {"judge_sees_source": True}, "max_chars": 240}
    return ExperimentConfig(task="bbc-business-vs-tech", weak="minilm-l3", strong="minilm-l6", method="naive",
                            supervisor="judge", supervisor_options=options,
                            splits=SplitSizes(weak_train=40, transfer=120, val=30, test=80), **update)


def test_judge_labels_reach_the_student_and_no_label_reaches_the_judge(keyword_judge, runs_dir):
    """The judge's calibrated verdicts are the weak labels; scrambling every label outside weak_train changes
    no weak label (the judge and its calibration read weak_train only)."""
    config = _config(keyword_judge)
    task = load_task(config.task)
    splits = make_splits(task, config.splits, seed=config.seed)
    result = run_experiment(config)
    supervisor = result["supervisor"]
    assert supervisor["name"] == "judge" and "read no labels" in supervisor["reads"]
    # every split's texts (a text repeated within a split is judged once), each a pair of orders
    assert supervisor["judged_pairs"] == sum(len({" ".join(t.split())[:240] for t in task.inputs_at(idx)})
                                             for idx in (splits.weak_train, splits.transfer, splits.val, splits.test))
    assert supervisor["calibration"]["slope"] > 0  # an informative judge, fitted on weak_train
    assert result["weak_label_accuracy"] > 0.7  # the keyword judge is a real (weak) topic classifier
    assert result["metrics"]["weak"]["accuracy"] > 0.7

    labels = task.labels.copy()
    outside = np.concatenate([splits.transfer, splits.val, splits.test])
    labels[outside] = 1 - labels[outside]
    clean = train_models(config, task=task, splits=splits)
    dirty = train_models(config, task=task.subset(np.arange(len(task)), labels=labels), splits=splits)
    np.testing.assert_array_equal(clean.weak_transfer, dirty.weak_transfer)


def test_judge_supervisor_refuses_what_it_cannot_do(keyword_judge):
    with pytest.raises(SuperalignError, match="binary task"):
        run_experiment(_config(keyword_judge).model_copy(update={"task": "bbc-news"}))
    bad = _config(keyword_judge)
    bad.supervisor_options["settings"] = {"judge_mode": "generate"}
    with pytest.raises(SuperalignError, match="reads log-probs"):
        run_experiment(bad)
    bad.supervisor_options = {"protocl": "debate"}
    with pytest.raises(SuperalignError, match="protocl"):
        run_experiment(bad)


@pytest.mark.slow
def test_real_judge_as_weak_supervisor(runs_dir):
    """Qwen-0.5B reading each text itself (direct, cloze log-probs) as the weak supervisor of a small run: its
    labels vary with the text, its calibration is fitted, and a repeated run is answered by the request cache."""
    config = _config("qwen-0.5b").model_copy(update={"splits": SplitSizes(weak_train=8, transfer=10, val=4, test=8)})
    first = run_experiment(config)
    supervisor = first["supervisor"]
    assert supervisor["judged_pairs"] == 30 and supervisor["models"]["judge"]["kind"] == "llama.cpp"
    assert np.isfinite(supervisor["calibration"]["slope"])
    # a judge blind to the text gives every text the same label, an AUROC of exactly 0.5; 8 test texts are too
    # few to ask for more (its accuracy here moved from 0.5 to 0.375 with the AVX-512 build's numerics; the
    # README's oversight x W2SG tables measure the signal on 160 test examples)
    assert first["metrics"]["weak"]["auroc"] != 0.5
    again = run_experiment(config)
    assert again["metrics"] == first["metrics"]
    assert again["timings"]["weak"] < first["timings"]["weak"] / 5  # every judge request from the cache


def test_label_sources_differ_only_by_their_supervisor(keyword_judge, runs_dir):
    """The comparison is W2S pipeline runs in the store, identical but for the supervisor: the same ceiling,
    each source's own weak accuracy; the keyword judge without the text sees no business word and says "tech"
    for every text (labels at the class share), reading the text it does not."""
    from superalign.oversight.w2s import TABLE_HEADER, compare_label_sources, label_source_configs, table_cells
    from superalign.engine.store import RunStore

    configs = label_source_configs("bbc-business-vs-tech", "minilm-l3", "minilm-l6", keyword_judge, keyword_judge,
                                   protocols=("direct",), judge_reads_text=True, max_chars=240,
                                   splits=SplitSizes(weak_train=40, transfer=120, val=30, test=80))
    rows = {r["source"]: r for r in compare_label_sources(configs)}
    assert list(rows) == ["weak classifier", "judge, direct", "judge, direct (reads the text)"]
    assert all(r["seeds"] == 1 for r in rows.values())
    assert len({r["ceiling"] for r in rows.values()}) == 1
    blind, reading = rows["judge, direct"], rows["judge, direct (reads the text)"]
    assert blind["label_accuracy"] < 0.65 and reading["label_accuracy"] > 0.7
    assert reading["weak"] > blind["weak"] + 0.1
    assert RunStore().count() == 3
    # the student on the reading judge's labels against the student on the blind judge's, paired on test
    assert blind["vs_reference"] is None
    diff, lo, hi = reading["vs_reference"]
    assert diff == pytest.approx(reading["student"] - blind["student"]) and lo <= diff <= hi
    assert all(len(table_cells(r)) == len(TABLE_HEADER) for r in rows.values())


def test_label_sources_pool_seeds_and_keep_each_seed(keyword_judge, runs_dir):
    """Several seeds: each source's row is the mean over seeds (PGR the ratio of means) with an interval over
    seeds and test examples; each seed's own numbers stay in `per_seed`; a seed already in the store is read back,
    not rerun; a repeated or missing seed is refused."""
    from superalign.oversight.w2s import compare_label_sources, label_source_configs, per_seed_lines
    from superalign.engine.store import RunStore

    kwargs = dict(protocols=("direct",), judge_reads_text=True, max_chars=240,
                  splits=SplitSizes(weak_train=40, transfer=120, val=30, test=80))
    args = ("bbc-business-vs-tech", "minilm-l3", "minilm-l6", keyword_judge, keyword_judge)
    one = {r["source"]: r for r in compare_label_sources(label_source_configs(*args, seeds=(0,), **kwargs))}
    configs = label_source_configs(*args, seeds=(0, 1), **kwargs)
    assert [c.seed for c in configs["judge, direct"]] == [0, 1]
    assert configs["judge, direct"][1].model_copy(update={"seed": 0}) == configs["judge, direct"][0]
    rows = {r["source"]: r for r in compare_label_sources(configs)}
    assert RunStore().count() == 6  # seed 0's three runs read back, seed 1's three run
    reading = rows["judge, direct (reads the text)"]
    assert reading["seeds"] == 2 and [s["seed"] for s in reading["per_seed"]] == [0, 1]
    assert reading["per_seed"][0]["student"] == one["judge, direct (reads the text)"]["student"]
    assert reading["student"] == pytest.approx(np.mean([s["student"] for s in reading["per_seed"]]))
    assert reading["weak_auroc"] == pytest.approx(np.mean([s["weak_auroc"] for s in reading["per_seed"]]))
    assert reading["weak_auroc"] > 0.7 and rows["judge, direct"]["weak_auroc"] == pytest.approx(0.5)  # one prior
    mean_gap = reading["ceiling"] - reading["weak"]
    assert reading["pgr"] == pytest.approx((reading["student"] - reading["weak"]) / mean_gap)  # ratio of means
    diff, lo, hi = reading["vs_reference"]
    assert diff == pytest.approx(np.mean([s["vs_reference"] for s in reading["per_seed"]])) and lo <= diff <= hi
    assert rows["judge, direct"]["per_seed"][1]["vs_reference"] is None
    lines = per_seed_lines(list(rows.values()))
    assert len(lines) == 3 and "seed 1: " in lines[2] and "(" in lines[2] and "(" not in lines[1]
    with pytest.raises(SuperalignError, match="distinct seeds"):
        label_source_configs(*args, seeds=(0, 0), **kwargs)
    with pytest.raises(SuperalignError, match="distinct seeds"):
        label_source_configs(*args, seeds=(), **kwargs)
