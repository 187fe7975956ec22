"""One weak-to-strong setting for every family: the configs share its fields, and the pipeline, the
attacker-learner-critic loop and the probes all prepare it the same way (same splits, features, weak supervisor)."""

import numpy as np

from superalign.alc.loop import ALCConfig, prepare
from superalign.probes.backdoor import BackdoorConfig
from superalign.probes.deception import DeceptionConfig
from superalign.w2s.pipeline import ExperimentConfig, train_models
from superalign.w2s.setting import SettingConfig, prepare_setting

SETTING = {"task": "digits", "weak": "pca:4", "strong": "raw", "seed": 2, "max_examples": 600}


def test_every_family_config_is_a_setting_and_declares_no_setting_field_again():
    shared = set(SettingConfig.model_fields)
    for cls in (ExperimentConfig, ALCConfig, BackdoorConfig, DeceptionConfig):
        assert issubclass(cls, SettingConfig) and shared <= set(cls.model_fields)
        redeclared = shared & set(cls.__annotations__)  # only a different default may be declared again
        assert all(cls.model_fields[f].default != SettingConfig.model_fields[f].default for f in redeclared), cls


def test_the_pipeline_and_the_loop_see_the_same_setting_and_weak_supervisor():
    setting = prepare_setting(SettingConfig(**SETTING))
    trained = train_models(ExperimentConfig(**SETTING))
    loop = prepare(ALCConfig(**SETTING))
    assert np.array_equal(trained.splits.transfer, setting.splits.transfer)
    assert np.array_equal(trained.x_strong, setting.x_strong) and np.array_equal(loop.x_test_strong,
                                                                                setting.x_strong[setting.splits.test])
    weak = setting.fit_weak_head().predict_proba(setting.x_weak[setting.splits.transfer])
    assert np.allclose(weak, loop.pool.weak_probs)
    assert np.allclose(weak, trained.weak_transfer, atol=1e-6)
