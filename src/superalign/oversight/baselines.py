"""Passage-free baselines of an item set: how far the question and the two answers alone go, without the source.

An item set tests oversight under information asymmetry only where a judge without the source cannot tell the
answers apart. `text_only_probe` measures that: a logistic regression on TF-IDF features of question + answer
(word and character n-grams), trained across items with cross-fitting by source (each item scored by a model that never
saw an item on its source), predicts which answer is correct. Its accuracy, with an interval over items, is the item set's floor for any
judge, and the items it gets right with confidence are flagged: a protocol's gain there is not evidence that it
helped the judge read the source. Labels read: the items' own correct answers, for cross-fitting only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from superalign.engine.kind import Kind, Table
from superalign.metrics import mean_and_ci
from superalign.oversight.items import OversightItem

SOLVED_CONFIDENCE = 0.8  # a held-out probability of the correct answer above this marks an item as solved


@dataclass
class ProbeResult:
    items: int
    accuracy: float
    lo: float
    hi: float
    solved: list[str] = field(default_factory=list)  # ids of items the probe gets right with confidence

    def as_dict(self) -> dict:
        return {"items": self.items, "accuracy": self.accuracy, "lo": self.lo, "hi": self.hi,
                "solved": len(self.solved), "solved_ids": self.solved}


def _pair_features(items: list[OversightItem], vectorizer):
    """[n, d] features of (question + answer 0) minus (question + answer 1): the model sees only which answer
    goes with the question better, never the order."""
    first = vectorizer.transform([f"{i.question} || {i.answers[0]}" for i in items])
    second = vectorizer.transform([f"{i.question} || {i.answers[1]}" for i in items])
    return first - second


def text_only_probe(items: list[OversightItem], folds: int = 5, seed: int = 0) -> ProbeResult:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if len(items) < 2 * folds:
        raise ValueError(f"the text-only probe needs at least {2 * folds} items (got {len(items)})")
    y = np.array([i.correct for i in items])
    # folds by source: items on one story share answers (an item's distractor is another's correct answer), so a
    # probe trained on one and scored on the other would be scored on what it memorised, inverted
    sources = sorted({i.source for i in items})
    fold_of_source = dict(zip(np.random.default_rng(seed).permutation(len(sources)).tolist(), sources))
    fold_of_source = {source: rank % folds for rank, source in fold_of_source.items()}
    fold = np.array([fold_of_source[i.source] for i in items])
    if len(set(fold.tolist())) < 2:
        raise ValueError("the text-only probe needs items from at least two sources")
    probability = np.zeros(len(items))  # held-out P(answer 0 is correct)
    for k in sorted(set(fold.tolist())):
        test, train = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
        texts = [f"{items[j].question} || {a}" for j in train for a in items[j].answers]
        words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit(texts)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True).fit(texts)

        def features(rows):
            chosen = [items[j] for j in rows]
            fit = _fit(chosen, 0, words, chars) - _fit(chosen, 1, words, chars)
            return hstack([_pair_features(chosen, words), _pair_features(chosen, chars), csr_matrix(fit)]).tocsr()

        x_train = features(train)
        # each training item twice, once with its answers swapped, so the probe cannot learn a position
        model = LogisticRegression(C=1.0, max_iter=2000).fit(
            _stack(x_train, -x_train), np.concatenate([y[train] == 0, y[train] == 1]).astype(int))
        probability[test] = model.predict_proba(features(test))[:, 1]
    p_correct = np.where(y == 0, probability, 1 - probability)
    right = (p_correct > 0.5).astype(float)
    mean, lo, hi = mean_and_ci(list(right))
    solved = [items[j].id for j in np.flatnonzero(p_correct > SOLVED_CONFIDENCE)]
    return ProbeResult(len(items), mean, lo, hi, solved)


_YEAR = re.compile(r"^(1[5-9]|20)\d\d$")
_NUMBER = re.compile(r"^[\d.,]+$")


def _fit(items: list[OversightItem], side: int, words, chars) -> np.ndarray:
    """[n, 10] how each item's answer `side` fits its question, read off the text alone: TF-IDF similarity to the
    question (words and characters), the share of its words the question uses, its length, whether it is a number
    and whether a year, and those again next to the words around a blank in the question (a year where a
    percentage goes)."""
    questions, answers = [i.question for i in items], [i.answers[side] for i in items]
    similarity = [np.asarray(m.transform(questions).multiply(m.transform(answers)).sum(1)).ravel() for m in (words, chars)]
    rows = []
    for question, answer, sim_w, sim_c in zip(questions, answers, *similarity):
        q_words, a_words = set(re.findall(r"\w+", question.lower())), re.findall(r"\w+", answer.lower())
        is_number, is_year = float(bool(_NUMBER.match(answer.strip()))), float(bool(_YEAR.match(answer.strip())))
        before, _, after = question.partition("___")
        around = after[:12].lower()
        percent = float("%" in around or "per cent" in around or "percent" in around)
        money = float(any(c in before[-3:] for c in "$£€")) if after else 0.0
        scale = float(any(w in around for w in ("million", "billion", "bn", "m ")))
        rows.append([sim_w, sim_c, sum(w in q_words for w in a_words) / max(1, len(a_words)), np.log1p(len(a_words)),
                     is_number, is_year, is_year * percent, is_year * money, is_year * scale,
                     (1 - is_year) * is_number * percent])
    return np.array(rows, dtype=float)


def _stack(a, b):
    from scipy.sparse import vstack

    return vstack([a, b]).tocsr()


# --- as a kind on the engine (`kind: oversight-probe`) ------------------------------------------------------------


class ProbeRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: str = "narrativeqa"
    n: int = Field(400, ge=10)
    seed: int = 0
    folds: int = Field(5, ge=2)


def _run(config: ProbeRun) -> dict:
    from superalign.oversight.items import load_items

    return text_only_probe(load_items(config.items, config.n, config.seed), config.folds, config.seed).as_dict()


def _table(records: list[dict]) -> Table:
    rows = [[r["config"]["items"], str(r["result"]["items"]), str(r["config"]["seed"]),
             f"{r['result']['accuracy']:.3f} [{r['result']['lo']:.3f}, {r['result']['hi']:.3f}]",
             str(r["result"]["solved"])] for r in records]
    return Table("passage-free baseline: a text-only probe on question + answers (cross-fitted by source)",
                 ["items", "n", "seed", "probe accuracy [95% CI over items]", f"items solved (p > {SOLVED_CONFIDENCE})"],
                 rows, ["chance is 0.5; an item set tests oversight under information asymmetry only where this "
                        "stays near chance, and a protocol's gain on solved items is not evidence it helped"])


KIND = Kind("oversight-probe", ProbeRun, _run, _table, keyed=lambda config: {"kind": "oversight-probe", **config},
            help="how far question + answers go without the source: a cross-fitted text-only probe per item set")
