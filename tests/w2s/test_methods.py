"""Contract tests over every registered method, plus each method's defining behaviour."""

import numpy as np
import pytest

from superalign.data.registry import load_task
from superalign.errors import SuperalignError
from superalign.models.cache import featurize
from superalign.models.encoder import get_encoder
from superalign.w2s.heads import LogisticHead
from superalign.w2s.method import BUDGETS, METHODS, MethodContext, StudentSplit, budget_rank, make_method, method_names
from superalign.w2s.methods.auxconf import harden
from superalign.w2s.pipeline import labelled_split


@pytest.fixture(scope="module")
def setting():
    """Real features: BBC business vs tech, weak = TF-IDF trained on 60 labels, strong = MiniLM-L6."""
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

    supervisor = (strong_x[wt], weak_x[wt], task.labels[wt])  # the supervisor's ground truth, both feature sets
    return task, split(tr), split(va), split(te, False), te, supervisor


def _method(name, supervisor, **options):
    if name == "finetune":
        options = {"max_steps": 2, "batch_size": 8, **options}
    budget = METHODS.get(name).budget
    context = MethodContext(n_classes=2, seed=0, intermediate=["minilm-l3"], strong_encoder=get_encoder("minilm-l6"),
                            labelled=labelled_split(budget, *supervisor))
    return make_method(name, options, context)


def _on_classes(names):
    """The methods that run on any classification task (pair judges have tests of their own)."""
    return [n for n in names if not METHODS.get(n).needs_pairs]


@pytest.mark.parametrize("name", _on_classes(method_names()))
def test_method_contract(name, setting):
    task, transfer, val, test, _, supervisor = setting
    assert METHODS.get(name).budget in BUDGETS
    probs = _method(name, supervisor).fit(transfer, val).predict_proba(test)
    assert probs.shape == (len(test.features), 2)
    assert np.allclose(probs.sum(1), 1, atol=1e-4) and (probs >= 0).all()
    if name != "finetune":  # fine-tuning nondeterminism is bounded below by CPU kernels, checked separately
        again = _method(name, supervisor).fit(transfer, val).predict_proba(test)
        np.testing.assert_allclose(probs, again, atol=1e-5)


@pytest.mark.parametrize("name", _on_classes([n for n in method_names() if n != "finetune"]))
def test_budget_is_what_the_method_can_read(name, setting):
    """Scrambling the supervisor's ground truth on strong features (strong rows shuffled, and for methods that
    read no ground truth the labels too) changes nothing below the strong-feature budget; at or above it,
    the method does read it (its predictions move), which is why it is labelled with that budget."""
    _, transfer, val, test, _, (xs, xw, y) = setting
    budget = METHODS.get(name).budget
    rng = np.random.default_rng(1)
    scrambled_labels = y if budget_rank(budget) >= budget_rank("supervisor-gt-weak") else rng.permutation(y)
    scrambled = (rng.normal(size=xs.shape).astype(np.float32), xw, scrambled_labels)
    real = _method(name, (xs, xw, y)).fit(transfer, val).predict_proba(test)
    fake = _method(name, scrambled).fit(transfer, val).predict_proba(test)
    if budget_rank(budget) < budget_rank("supervisor-gt-strong"):
        np.testing.assert_array_equal(real, fake)
    elif name in ("selective-gt-probe", "strong-on-supervisor-labels"):  # (selective may trust itself everywhere here)
        assert not np.allclose(real, fake, atol=1e-4)


@pytest.mark.parametrize("name", method_names())
def test_method_rejects_unknown_options(name, setting):
    with pytest.raises(SuperalignError, match="option"):
        _method(name, setting[-1], not_an_option=1)


def test_naive_student_beats_chance_and_tracks_weak_labels(setting):
    task, transfer, val, test, te, supervisor = setting
    student = _method("naive", supervisor).fit(transfer, val)
    assert (student.predict_proba(test).argmax(1) == task.labels[te]).mean() > 0.8


def test_aux_conf_with_zero_weight_is_exactly_naive(setting):
    """Same head, same optimizer, same selection rule: with aux_coef=0 the auxiliary loss is all that could differ."""
    _, transfer, val, test, _, supervisor = setting
    naive = _method("naive", supervisor).fit(transfer, val).predict_proba(test)
    zero = _method("aux-conf", supervisor, aux_coef=0.0).fit(transfer, val).predict_proba(test)
    np.testing.assert_array_equal(naive, zero)
    full = _method("aux-conf", supervisor).fit(transfer, val)
    assert not np.allclose(full.predict_proba(test), naive)  # the auxiliary term does change the student
    assert full.alphas_ == [0.375, 0.75, 0.75, 0.75]  # ramps over the warm-up rounds, never jumps past the target


def test_aux_conf_hardening_matches_weak_positive_rate():
    p = np.linspace(0.05, 0.95, 10)
    student = np.stack([1 - p, p], 1)
    weak = np.array([[1.0, 0.0]] * 7 + [[0.0, 1.0]] * 3)
    hard = harden(student, weak)
    assert hard[:, 1].sum() == 3 and hard[-3:, 1].sum() == 3


def test_bootstrap_needs_an_intermediate_rung(setting):
    _, transfer, val, _, _, _ = setting
    method = make_method("bootstrap", {}, MethodContext(n_classes=2, seed=0))
    with pytest.raises(SuperalignError, match="intermediate"):
        method.fit(transfer, val)


def test_finetune_changes_the_encoder_weights(setting):
    _, transfer, val, test, _, supervisor = setting
    method = _method("finetune", supervisor, max_steps=3).fit(transfer, val)
    norm = float(sum(p.detach().norm() ** 2 for p in method.body_.parameters()) ** 0.5)
    assert method.steps_ == 3 and abs(norm - method.initial_body_norm_) > 1e-4
