"""Log-prob judging: a judge's probability for each answer from its log-probs, with the position bias separated
from the content signal by judging both answer orders. Two readings: `logprob`, the next-token log-probs of
the answer letters; `cloze`, the log-likelihood of each answer's text as the start of the reply (a small
model's letters can be pure position bias while its reading of the answers is not: measured in the README).

For one order, z = log P(A) - log P(B), where P(A) sums the two spellings of the letter ("A" and " A") after
the reply prefix "Answer:". With z0 from the original order and z1 from the swapped one,
s = (z0 - z1) / 2 is the judge's log-odds for the item's first answer with the position effect removed, and
b = (z0 + z1) / 2 is how much it favours whatever is shown first. A temperature fitted on a held-out split
turns s into a calibrated probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from superalign.chat.client import ChatClient, Message
from superalign.errors import SuperalignError

LETTER_TOKENS = {"A": ("A", " A"), "B": ("B", " B")}
PREFIX = "Answer:"
ANSWER_PREFIX = 'The correct answer is "'  # cloze judging: the reply starts so, and each answer's text is scored


async def letter_log_odds(judge: ChatClient, messages: list[Message]) -> float:
    """z = log P(A) - log P(B) for the reply's next token after "Answer:"."""
    scores = await judge.next_token_logprobs(messages, PREFIX, [t for pair in LETTER_TOKENS.values() for t in pair])
    a = np.logaddexp(*(scores[t] for t in LETTER_TOKENS["A"]))
    b = np.logaddexp(*(scores[t] for t in LETTER_TOKENS["B"]))
    return float(a - b)


async def answer_log_odds(judge: ChatClient, messages: list[Message], answers: tuple[str, str]) -> float:
    """z = log P(first answer's text) - log P(second's) as the continuation of the reply prefix (each closed by
    its quote mark): cloze judging, for judges whose answer letters carry no signal. The shown order is the
    listing order, so z has the same position bias / signal decomposition as the letters' log-odds."""
    scores = await judge.answer_logprobs(messages, ANSWER_PREFIX, [f'{a}"' for a in answers])
    return float(scores[f'{answers[0]}"'] - scores[f'{answers[1]}"'])


def signal_and_bias(z_original: float, z_swapped: float) -> tuple[float, float]:
    """(s, b): s > 0 favours the item's first answer whatever the order; b > 0 favours position A."""
    return (z_original - z_swapped) / 2, (z_original + z_swapped) / 2


def fit_temperature(signal: np.ndarray, first_is_correct: np.ndarray) -> float:
    """The temperature T minimising the log loss of sigmoid(s / T) (a grid search: one parameter, robust)."""
    signal, y = np.asarray(signal, float), np.asarray(first_is_correct, float)
    if len(signal) < 2:
        raise SuperalignError("calibrating a judge needs at least two held-out items")
    grid = np.exp(np.linspace(np.log(0.05), np.log(50), 400))

    def loss(t: float) -> float:
        p = np.clip(1 / (1 + np.exp(-signal / t)), 1e-9, 1 - 1e-9)
        return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())

    return float(min(grid, key=loss))


@dataclass
class JudgeScores:
    """Per judged pair of orders: the content signal, the position bias, whether the item's first answer is
    correct, and the item it belongs to (consultancy judges each item twice, once per assigned side)."""

    signal: np.ndarray
    bias: np.ndarray
    first_is_correct: np.ndarray
    item_ids: np.ndarray | None = None

    def summary(self, calibration_share: float = 0.5, seed: int = 0) -> dict[str, float]:
        """Accuracy and AUROC of s, the mean bias, and on the items not used to fit the temperature: ECE and
        Brier of the calibrated probabilities (the split is seeded, by item)."""
        from sklearn.metrics import roc_auc_score

        from superalign.metrics import expected_calibration_error, mean_and_ci

        y = self.first_is_correct.astype(int)
        right = np.where(self.signal == 0, 0.5, (self.signal > 0) == (y == 1)).astype(float)  # a tie is half right
        ids = self.item_ids if self.item_ids is not None else np.arange(len(y))
        per_item = [right[ids == i].mean() for i in dict.fromkeys(ids.tolist())]  # the interval resamples items
        accuracy, lo, hi = mean_and_ci(per_item)
        out = {"items": len(per_item), "judged_pairs": len(y), "accuracy": accuracy, "accuracy_lo": lo, "accuracy_hi": hi,
               "auroc": float(roc_auc_score(y, self.signal)) if len(set(y)) == 2 else float("nan"),
               "bias": float(self.bias.mean()), "bias_abs": float(np.abs(self.bias).mean())}
        order = np.random.default_rng(seed).permutation(len(y))
        n_fit = int(len(y) * calibration_share)
        fit, held = order[:n_fit], order[n_fit:]
        if n_fit >= 2 and len(held) >= 2:
            t = fit_temperature(self.signal[fit], y[fit])
            p = 1 / (1 + np.exp(-self.signal[held] / t))
            probs = np.stack([1 - p, p], 1)
            out.update(temperature=t, ece=expected_calibration_error(probs, y[held]),
                       brier=float(((p - y[held]) ** 2).mean()), calibrated_items=len(held))
        return out
