"""Contract tests over every registered method, plus each method's defining behaviour."""

import numpy as np
import pytest
import torch

from superalign.data.registry import load_task
from superalign.errors import SuperalignError
from superalign.models.cache import featurize
from superalign.models.encoder import get_encoder
from superalign.w2s.heads import LogisticHead
from superalign.w2s.methods import (AuxConf, AuxConfConfig, LabelledSplit, MethodContext, StudentSplit, make_method,
                                    method_names)


@pytest.fixture(scope="module")
def setting():
    """Real features: BBC business vs tech, weak = MiniLM-L3 trained on 60 labels, strong = MiniLM-L6."""
    task = load_task("bbc-business-vs-tech").subsample(300)
    weak_x, strong_x, mid_x = (np.asarray(featurize(task, n)) for n in ("tfidf", "minilm-l6", "minilm-l3"))
    rng = np.random.default_rng(0)
    order = rng.permutation(len(task))
    wt, tr, va, te = order[:60], order[60:200], order[200:240], order[240:]
    weak = LogisticHead(seed=0).fit(weak_x[wt], task.labels[wt])

    def split(idx, with_labels=True):
        return StudentSplit(strong_x[idx], [task.inputs[i] for i in idx],
                            weak.predict_proba(weak_x[idx]) if with_labels else None, {"minilm-l3": mid_x[idx]},
                            true_labels=task.labels[idx] if with_labels else None, weak_features=weak_x[idx])

    global LABELLED
    LABELLED = LabelledSplit(strong_x[wt], weak_x[wt], task.labels[wt])
    return task, split(tr), split(va), split(te, False), te


LABELLED = None


def _method(name, **options):
    if name == "finetune":
        options = {"max_steps": 2, "batch_size": 8, **options}
    context = MethodContext(n_classes=2, seed=0, intermediate=["minilm-l3"], strong_encoder=get_encoder("minilm-l6"),
                            labelled=LABELLED)
    return make_method(name, options, context)


@pytest.mark.parametrize("name", method_names())
def test_method_contract(name, setting):
    task, transfer, val, test, _ = setting
    probs = _method(name).fit(transfer, val).predict_proba(test)
    assert probs.shape == (len(test.features), 2)
    assert np.allclose(probs.sum(1), 1, atol=1e-4) and (probs >= 0).all()
    if name != "finetune":  # fine-tuning nondeterminism is bounded below by CPU kernels, checked separately
        again = _method(name).fit(transfer, val).predict_proba(test)
        np.testing.assert_allclose(probs, again, atol=1e-5)


@pytest.mark.parametrize("name", method_names())
def test_method_rejects_unknown_options(name, setting):
    with pytest.raises(SuperalignError, match="option"):
        _method(name, not_an_option=1)


def test_naive_student_beats_chance_and_tracks_weak_labels(setting):
    task, transfer, val, test, te = setting
    student = _method("naive").fit(transfer, val)
    assert (student.predict_proba(test).argmax(1) == task.labels[te]).mean() > 0.8


def test_aux_conf_warmup_ramps_smoothly():
    """The weight on the student's own labels grows step by step, never jumping to its final value."""
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    weak = np.eye(2)[(x[:, 0] > 0).astype(int)].astype(np.float32)
    config = AuxConfConfig(aux_coef=0.8, warmup_frac=0.5, epochs=4, batch_size=16)
    method = AuxConf(config, MethodContext(n_classes=2, seed=0)).fit(StudentSplit(x, None, weak), StudentSplit(x, None, weak))
    alphas = np.array(method.alphas_)
    warmup = int(0.5 * len(alphas))
    assert alphas[0] == 0 and alphas[-1] == pytest.approx(0.8)
    assert np.allclose(np.diff(alphas[: warmup + 1]), 0.8 / warmup)  # equal small steps, no jump
    assert np.diff(alphas).max() <= 0.8 / warmup + 1e-9


def test_aux_conf_hardening_matches_weak_positive_rate():
    logits = torch.tensor([[0.0, v] for v in np.linspace(-2, 2, 10)])
    weak = torch.tensor([[1.0, 0.0]] * 7 + [[0.0, 1.0]] * 3)
    hard = AuxConf._harden(logits, weak)
    assert hard[:, 1].sum() == 3 and hard[-3:, 1].sum() == 3


def test_bootstrap_needs_an_intermediate_rung(setting):
    _, transfer, val, _, _ = setting
    method = make_method("bootstrap", {}, MethodContext(n_classes=2, seed=0))
    with pytest.raises(SuperalignError, match="intermediate"):
        method.fit(transfer, val)


def test_finetune_changes_the_encoder_weights(setting):
    _, transfer, val, test, _ = setting
    method = _method("finetune", max_steps=3).fit(transfer, val)
    norm = float(sum(p.detach().norm() ** 2 for p in method.body_.parameters()) ** 0.5)
    assert method.steps_ == 3 and abs(norm - method.initial_body_norm_) > 1e-4
