import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from superalign.errors import SuperalignError
from superalign.w2s.heads import LogisticHead, MLPHead


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits])
def test_logistic_head_matches_sklearn(loader):
    x, y = loader(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    ours = LogisticHead(C=1.0).fit(xtr, ytr)
    scaler = StandardScaler().fit(xtr)
    ref = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(xtr), ytr)
    acc_ours = (ours.predict(xte) == yte).mean()
    acc_ref = (ref.predict(scaler.transform(xte)) == yte).mean()
    assert abs(acc_ours - acc_ref) <= 0.02
    probs = ours.predict_proba(xte)
    assert probs.shape == (len(xte), len(np.unique(y))) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_soft_labels_pull_predictions_toward_uncertainty():
    x, y = load_breast_cancer(return_X_y=True)
    hard = LogisticHead(C=1.0).fit(x, y)
    soft_targets = np.full((len(y), 2), 0.5)
    soft = LogisticHead(C=1.0).fit(x, soft_targets)
    assert np.abs(soft.predict_proba(x) - 0.5).max() < 0.05 < np.abs(hard.predict_proba(x) - 0.5).max()


@pytest.mark.parametrize("head", [LogisticHead, MLPHead])
def test_heads_are_deterministic_and_select_on_training_labels_only(head):
    x, y = load_breast_cancer(return_X_y=True)
    a = head(seed=1).fit(x, y).predict_proba(x)
    b = head(seed=1).fit(x, y).predict_proba(x)
    assert np.array_equal(a, b)
    assert (a.argmax(1) == y).mean() > 0.95


def test_head_input_errors():
    with pytest.raises(SuperalignError, match="3 feature rows but 2 labels"):
        LogisticHead().fit(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(SuperalignError, match="soft labels must have shape"):
        LogisticHead(n_classes=2).fit(np.zeros((3, 2)), np.zeros((3, 3)))
