"""Label-free evaluation as kinds on the engine: a spec runs through `superalign run`, is tabled by `results`,
and records written by `superalign eval` before the engine are adopted, not recomputed."""

from pathlib import Path

from superalign.engine import KINDS, load_spec, run_grid
from superalign.engine.record import make_record
from superalign.engine.store import RunStore
from superalign.w2s.pipeline import ExperimentConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "evaluation" / "digits.yaml"


def test_the_example_spec_is_a_grid_of_the_consistency_kind():
    kind, configs, _ = load_spec(EXAMPLE)
    assert kind.name == "eval-consistency" and len(configs) == 6
    assert {(c.method, c.seed) for c in configs} == {(m, s) for m in ("naive", "aux-conf") for s in range(3)}


def test_evaluation_kinds_run_key_apart_from_w2s_and_adopt_old_records(runs_dir):
    config = ExperimentConfig(task="digits", weak="pca:4", strong="raw", method="naive", seed=1)
    store = RunStore()
    calibration = KINDS.get("eval-calibration")
    result = run_grid(calibration, [config], store=store)
    assert result.done == 1 and result.records[0]["status"] == "ok"
    models = result.records[0]["result"]["models"]
    assert set(models) == {"weak", "student", "ceiling"} and all(0 <= m["ece"] <= 1 for m in models.values())
    table = calibration.summarize(store.records(kind="eval-calibration"))
    assert len(table.rows) == 3 and table.rows[0][:4] == ["digits", "pca:4 -> raw", "naive", "1"]
    # the same config under another kind is another run
    keys = {r["config_hash"] for r in store.records()}
    assert len(keys) == 1

    # a record as `superalign eval` wrote it before the engine ("<kind>-<hash>") is re-keyed and not rerun
    old = ExperimentConfig(task="digits", weak="pca:4", strong="raw", method="naive", seed=2)
    store.put(make_record("eval-calibration", old.model_dump(mode="json"), f"eval-calibration-{old.config_hash()}",
                          {"models": {"weak": {"ece": 0.5, "accuracy": 0.5}}}))
    again = run_grid(calibration, [old], store=store)
    assert again.done == 0 and again.stored == 1 and again.records[0]["result"]["models"]["weak"]["ece"] == 0.5
