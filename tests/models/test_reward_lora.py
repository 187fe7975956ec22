"""LoRA reward models on a real language model (SmolLM2-135M, dequantized from its packaged GGUF): a few
Bradley-Terry steps move the adapters and the head, never the base weights, and learn a preference a handful of
pairs teach; through the pipeline as the `lora-rm` method on a preference task, with its ceiling trained the
same way."""

import json

import numpy as np
import pytest

pytest.importorskip("peft")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2_path():
    from superalign.models import packaged

    return str(packaged.dequantized_gguf_dir("smollm2-135m", packaged.smollm2_gguf(), packaged.SMOLLM2_GGUF_SHA256))


def _toy_pairs(n):
    """The preferred response says "correct", the other "wrong", in either position."""
    pairs, targets = [], []
    for i in range(n):
        good, bad = f"The answer {i} is correct.", f"The answer {i} is wrong."
        pairs.append((f"Check answer {i}.", good, bad) if i % 2 == 0 else (f"Check answer {i}.", bad, good))
        targets.append(i % 2)  # P(B preferred)
    return pairs, np.array(targets, dtype=np.float32)


def test_a_few_steps_train_the_adapters_and_head_only_and_learn_the_preference(smollm2_path):
    from superalign.models.reward_lora import LoraRewardConfig, LoraRewardModel

    rm = LoraRewardModel(smollm2_path, LoraRewardConfig(batch_size=8, max_steps=4, max_length=32, lr=1e-3))
    trainable, total = rm.trainable_parameters()
    assert 0 < trainable < 0.05 * total  # adapters and the score head, not the model
    before = {n: p.detach().clone() for n, p in rm.model.named_parameters()}
    pairs, targets = _toy_pairs(32)
    stats = rm.train(pairs, targets)
    assert stats.steps == 4 and stats.tokens > 0 and np.isfinite(stats.final_loss)
    after = dict(rm.model.named_parameters())
    moved = {n for n, p in after.items() if not np.allclose(p.detach().numpy(), before[n].numpy())}
    assert moved and all(("lora_" in n or "score" in n) for n in moved)
    assert any("lora_" in n for n in moved) and any("score" in n for n in moved)
    held_out, truth = _toy_pairs(40)
    probs = rm.preference_probs(held_out[32:])
    assert (probs.argmax(1) == truth[32:]).mean() >= 0.75  # learned on 32 pairs, checked on 8 others


def test_lora_rm_runs_through_the_pipeline_with_a_ceiling_of_its_own(smollm2_path, tmp_path):
    from superalign.w2s.pipeline import ExperimentConfig, run_experiment

    pairs, _ = _toy_pairs(40)
    rows = [{"prompt": p, "chosen": a if i % 2 == 0 else b, "rejected": b if i % 2 == 0 else a}
            for i, (p, a, b) in enumerate(pairs)]
    path = tmp_path / "toy.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = ExperimentConfig(task=f"prefs:file:{path}", weak="bt:tfidf", strong="bt:smollm2-135m", method="lora-rm",
                              method_options={"max_steps": 2, "batch_size": 4, "max_length": 32})
    result = run_experiment(config)
    assert result["ceiling"] == "same recipe on ground truth" and result["budget"] == "weak-labels"
    diagnostics = result["method_diagnostics"]
    assert diagnostics["steps"] == 2 and diagnostics["tokens_per_second"] > 0
    assert 0 <= result["metrics"]["student"]["accuracy"] <= 1
