"""Backdoored supervision on BBC business-vs-rest: the floor at poison rate 0, a trigger the student cannot see,
the defenses' detection, records and the one-line errors."""

import numpy as np
import pytest

from superalign.errors import SuperalignError
from superalign.probes.backdoor import BackdoorConfig, insert_patch, insert_trigger, run_backdoor
from superalign.probes.experiment import configs_from_spec, run_configs, summarize

FAST = dict(task="bbc-business-vs-rest", weak="tfidf", strong="minilm-l3", target=1)


def test_with_no_poison_attack_success_is_the_clean_target_rate():
    naive = run_backdoor(BackdoorConfig(**FAST, poison_rate=0.0, defenses=["naive"]))["defenses"]["naive"]
    # the student never saw the trigger: inserting it moves at most a few predictions
    assert abs(naive["attack_success"] - naive["clean_target_rate"]) <= 0.03
    assert naive["clean_accuracy"] > 0.9


def test_a_trigger_the_encoder_cannot_see_cannot_be_learned():
    """Zero-width spaces are dropped by the tokenizer: triggered and clean texts have the same features, so at a
    poison rate that plants a real trigger well, the invisible one changes no prediction."""
    visible = run_backdoor(BackdoorConfig(**FAST, poison_rate=0.1, defenses=["naive"]))["defenses"]["naive"]
    hidden = run_backdoor(BackdoorConfig(**FAST, poison_rate=0.1, trigger="\u200b\u200b",
                                         defenses=["naive"]))["defenses"]["naive"]
    assert visible["attack_success"] > visible["clean_target_rate"] + 0.15
    assert hidden["attack_success"] == hidden["clean_target_rate"]


def test_the_knn_filter_finds_poisoned_rows_better_than_chance_and_lowers_attack_success():
    result = run_backdoor(BackdoorConfig(**FAST, poison_rate=0.1, defenses=["naive", "knn-filter", "spectral",
                                                                           "activation-clustering"]))
    naive, knn = result["defenses"]["naive"], result["defenses"]["knn-filter"]
    assert naive["detection"]["precision"] is None  # no detector, no detection numbers
    assert knn["detection"]["precision"] > 2 * 0.1 and knn["attack_success"] < naive["attack_success"]
    for detector in ("spectral", "activation-clustering"):
        assert 0 <= result["defenses"][detector]["detection"]["flagged"] <= 1


def test_insert_trigger_adds_one_word():
    rng = np.random.default_rng(0)
    assert insert_trigger("a b c", "cf", rng).split().count("cf") == 1


def test_records_and_summary_over_seeds(runs_dir):
    configs = configs_from_spec({**FAST, "poison_rate": [0.0, 0.05], "seeds": 2, "defenses": ["naive"]})
    assert len(configs) == 4
    rows = summarize([o.record for o in run_configs(configs)])
    assert [(r["poison_rate"], r["seeds"]) for r in rows] == [(0.0, 2), (0.05, 2)]
    point, lo, hi = rows[1]["attack_success"]
    assert lo <= point <= hi and rows[1]["attack_success"][0] > rows[0]["attack_success"][0]


def test_a_pixel_patch_backdoors_image_students_through_encoders_fitted_on_the_inputs():
    """Digits with one bright corner pixel: PCA and raw pixels are fitted once on clean and triggered images.
    Measured: attack success 0.07 at poison 0 (the pixel alone is unusual: clean target rate 0.03), 0.98 at 0.1."""
    config = dict(task="digits", weak="pca:4", strong="raw", target=1, defenses=["naive", "knn-filter"])
    clean = run_backdoor(BackdoorConfig(**config, poison_rate=0.0))["defenses"]["naive"]
    poisoned = run_backdoor(BackdoorConfig(**config, poison_rate=0.1))["defenses"]
    assert abs(clean["attack_success"] - clean["clean_target_rate"]) <= 0.06
    assert poisoned["naive"]["attack_success"] > clean["attack_success"] + 0.5
    assert poisoned["knn-filter"]["detection"]["recall"] is not None


def test_insert_patch_brightens_the_corner_only():
    images = np.zeros((2, 4, 4), dtype=np.uint8)
    patched = insert_patch(images, 2)
    assert patched[:, 2:, 2:].min() == 255 and patched[:, :2].max() == 0 and images.max() == 0


def test_bad_input_is_one_clear_error():
    with pytest.raises(SuperalignError, match="trigger into texts or images"):
        run_backdoor(BackdoorConfig(task="breast-cancer", weak="pca:2", strong="raw"))
    with pytest.raises(SuperalignError, match="target 7 is not a class"):
        run_backdoor(BackdoorConfig(**{**FAST, "target": 7}))
    with pytest.raises(SuperalignError, match="poison_rate"):
        configs_from_spec({**FAST, "poison_rate": 1.5})
