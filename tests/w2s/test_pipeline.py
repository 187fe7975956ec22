"""The weak-to-strong pipeline end to end on real models, determinism, no test leakage, the store."""

import json
import multiprocessing as mp

import numpy as np
import pytest

from superalign.data.registry import load_task
from superalign.engine.record import make_record
from superalign.engine.store import RunStore
from superalign.runs.w2s import load_results, run_all
from superalign.w2s import grid as runner
from superalign.w2s.pipeline import ExperimentConfig, run_experiment
from superalign.w2s.summary import flatten, summarize

CONFIG = ExperimentConfig(task="bbc-news", weak="minilm-l3", strong="minilm-l6", method="naive", seed=0)


def test_end_to_end_on_the_real_ladder():
    result = run_experiment(CONFIG)
    m = result["metrics"]
    assert 0.8 < m["weak"]["accuracy"] < m["ceiling"]["accuracy"] <= 1.0  # the ladder is ordered
    assert m["student"]["accuracy"] > 0.8
    assert result["gap"] == pytest.approx(m["ceiling"]["accuracy"] - m["weak"]["accuracy"])
    assert set(result["timings"]) >= {"featurize", "weak", "student", "ceiling"}
    assert result["validation"] == "weak-labels"


def test_same_seed_same_numbers_other_seed_other_split():
    a, b = run_experiment(CONFIG), run_experiment(CONFIG)
    assert a["metrics"] == b["metrics"] and a["pgr"] == b["pgr"]
    c = run_experiment(CONFIG.model_copy(update={"seed": 1}))
    assert c["metrics"] != a["metrics"]


@pytest.mark.parametrize("method", ["naive", "aux-conf"])
def test_test_labels_never_reach_training_or_selection(method):
    """Scrambling the test labels must change the scores but not a single prediction."""
    config = CONFIG.model_copy(update={"method": method})
    task = load_task(config.task)
    from superalign.data.task import make_splits

    splits = make_splits(task, config.splits, seed=config.seed)
    test_idx = splits.test
    labels = task.labels.copy()
    labels[test_idx] = np.random.default_rng(0).permutation(task.labels[test_idx] + 1) % task.n_classes
    scrambled = task.subset(np.arange(len(task)), labels=labels)
    clean = run_experiment(config, task=task, splits=splits)
    dirty = run_experiment(config, task=scrambled, splits=splits)
    assert clean["test_predictions"] == dirty["test_predictions"]
    assert clean["metrics"]["student"]["accuracy"] != dirty["metrics"]["student"]["accuracy"]


def test_runner_skips_what_the_store_has(runs_dir):
    configs = runner.grid(["bbc-sport-vs-tech"], ["minilm-l3", "minilm-l6"], ["naive"], [0, 1])
    store = RunStore()
    first = [o.record for o in run_all(configs, store=store)]
    again = run_all(configs, store=store)
    second = [o.record for o in again]
    assert [o.cached for o in again] == [True, True]
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)  # NaN-safe equality
    df = load_results()
    assert len(df) == 2 and set(df["seed"]) == {0, 1}
    record = store.get(configs[0].config_hash())
    assert record["schema_version"] == 2 and record["status"] == "ok"
    assert record["packages"]["torch"] and "git_revision" in record


def test_a_failed_run_in_the_store_is_reported_not_crashed_on(runs_dir):
    """A failure recorded earlier (by a sweep, say) is an outcome of its own: neither a result nor a crash."""
    config = runner.grid(["bbc-sport-vs-tech"], ["minilm-l3", "minilm-l6"], ["naive"], [0])[0]
    store = RunStore()
    store.put(make_record("w2s", config.model_dump(mode="json"), config.config_hash(),
                          {"error": "RuntimeError: out of memory"}, status="failed"))
    [outcome] = run_all([config], store=store)
    assert outcome.cached and not outcome.ok and outcome.error == "RuntimeError: out of memory"
    assert load_results().empty  # failed records never reach the results table
    [retried] = run_all([config], store=store, retry_failed=True)
    assert retried.ok and not retried.cached and store.get(config.config_hash())["status"] == "ok"


def test_a_run_that_raises_is_recorded_as_failed_and_the_others_go_on(runs_dir):
    configs = [ExperimentConfig(task="bbc-sport-vs-tech", weak="minilm-l3", strong="minilm-l6", method="bootstrap"),
               ExperimentConfig(task="bbc-sport-vs-tech", weak="minilm-l3", strong="minilm-l6", method="naive")]
    outcomes = run_all(configs, store=RunStore())
    assert [o.ok for o in outcomes] == [False, True]
    assert "intermediate" in outcomes[0].error


def test_configs_differing_in_a_method_option_are_two_rows(runs_dir):
    configs = (runner.grid(["bbc-sport-vs-tech"], ["minilm-l3", "minilm-l6"], ["aux-conf"], [0, 1])
               + runner.grid(["bbc-sport-vs-tech"], ["minilm-l3", "minilm-l6"], ["aux-conf"], [0, 1],
                             method_options={"aux_coef": 0.0}))
    run_all(configs, store=RunStore())
    summary = summarize(load_results())
    assert len(summary) == 2 and sorted(summary["variant"]) == ["", "aux_coef=0.0"]
    assert (summary["seeds"] == 2).all() and set(summary["budget"]) == {"weak-labels"}


def test_results_carry_the_budget_and_per_example_correctness():
    result = run_experiment(CONFIG.model_copy(update={"method": "strong-on-supervisor-labels"}))
    assert result["budget"] == "supervisor-gt-strong" and result["oracle"] is False
    n_test = result["n"]["test"]
    assert {len(bits) for bits in result["test_correct"].values()} == {n_test}
    assert result["test_correct"]["student"].count("1") == round(result["metrics"]["student"]["accuracy"] * n_test)
    row = flatten([{"config_hash": "x", "config": CONFIG.model_dump(mode="json"), "result": result, "status": "ok"}])
    assert row["budget"].tolist() == ["supervisor-gt-strong"]


def _write_many(path, offset):
    store = RunStore(path)
    for i in range(20):
        config = {"seed": offset + i}
        store.put(make_record("w2s-test", config, f"hash-{offset + i}", {"value": i}))


def test_store_survives_concurrent_writers(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunStore(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(path, k * 100)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert RunStore(path).count() == 60


def test_yaml_config_expands_to_a_grid(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("tasks: [bbc-sport-vs-tech]\nladder: [minilm-l3, minilm-l6, mpnet]\n"
                    "methods: [naive, bootstrap]\nseeds: [0, 1]\nhead: mlp\n")
    configs = runner.configs_from_yaml(path)
    # 3 pairs x naive x 2 seeds + bootstrap only where a rung lies between (l3 -> mpnet) x 2 seeds
    assert len(configs) == 8 and all(c.head == "mlp" for c in configs)
    assert [c.intermediate for c in configs if c.method == "bootstrap"] == [["minilm-l6"]] * 2
    path.write_text("tasks: [bbc-news\n")
    from superalign.errors import SuperalignError

    with pytest.raises(SuperalignError, match=r"exp.yaml:\d+:\d+: invalid YAML"):
        runner.configs_from_yaml(path)


def test_the_supervisor_field_keeps_every_earlier_run_key_and_names_fail_fast():
    """Keys computed by the code before the `supervisor` field existed (so the store's earlier runs are found)."""
    assert ExperimentConfig().config_hash() == "051cb2b0a5e979d0"
    assert ExperimentConfig(task="digits", weak="pca:4", strong="raw", method="aux-conf",
                            seed=3).config_hash() == "1120ac260281e0c2"
    judged = ExperimentConfig(supervisor="judge", supervisor_options={"protocol": "debate"})
    assert judged.config_hash() != ExperimentConfig().config_hash()
    from superalign.w2s.summary import group_key

    old = {k: v for k, v in CONFIG.model_dump(mode="json").items() if not k.startswith("supervisor")}
    new = CONFIG.model_copy(update={"seed": 1}).model_dump(mode="json")
    assert group_key(old) == group_key(new) != group_key(judged.model_dump(mode="json"))  # seeds of one group
    from superalign.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="did you mean 'judge'"):
        runner.validate_names([CONFIG.model_copy(update={"supervisor": "judgee"})])
    record = run_experiment(CONFIG.model_copy(update={"max_examples": 200}))
    assert record["supervisor"] == {"name": "classifier", "reads": "weak_train ground truth"}
