"""`lm-judge`: a language model asked which response of a pair is better, zero-shot. Reads no labels at all.

A weak-to-strong method that lives with the judges (it needs chat models, which the W2S pipeline does not import)
and joins the methods through the `superalign.methods` entry-point group.

The unsupervised-elicitation baseline for preference tasks: what prompting a model alone buys, with neither weak
labels nor ground truth (budget `none`). Each pair is judged in both orders (A/B and B/A) and the two verdicts
averaged, so the judge's preference for a position cancels. P(A preferred) comes from the log-probabilities of
the tokens "A" and "B" as the first token of the reply (one forward pass per order, no sampling). Scores are
cached on disk by the model's identity and the prompt, so seeds and re-runs judge each pair once.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from superalign.errors import SuperalignError
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit

DEFAULT_QUESTION = "Which response is correct and better? Reply with the letter only: A or B."


class LmJudgeConfig(MethodConfig):
    model: str = Field("qwen-0.5b", description="chat model with log-probs (local: qwen-0.5b, qwen-1.5b, hf:PATH)")
    question: str = Field(DEFAULT_QUESTION, description="asked after the pair")


def judge_messages(prompt: str, first: str, second: str, question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Problem: {prompt}\n\nResponse A: {first}\n\nResponse B: {second}\n\n"
                                        f"{question}"}]


def preference_probs(pairs: list[tuple[str, str, str]], model: str, question: str = DEFAULT_QUESTION) -> np.ndarray:
    """[n, 2]: P(A preferred), P(B preferred) for each (prompt, A, B), both orders averaged in log-odds."""
    from superalign.chat.client import get_chat_model
    from superalign.io import stable_hash

    client = get_chat_model(model)
    backend, cache = client.backend, client.cache
    identity = backend.identity()

    def log_odds(prompt: str, first: str, second: str) -> float:
        """log P("A") - log P("B") for the pair shown in this order."""
        messages = judge_messages(prompt, first, second, question)
        key = stable_hash({"judge": identity, "messages": messages, "tokens": ["A", "B"]}, length=32)
        if cache is not None and (hit := cache.get_value(key)) is not None:
            return float(hit)
        scores = backend.next_token_logprobs(messages, "", ["A", "B"])
        value = scores["A"] - scores["B"]
        if cache is not None:
            cache.put_value(key, value)
        return value

    out = np.empty((len(pairs), 2), dtype=np.float64)
    for i, (prompt, a, b) in enumerate(pairs):
        # shown as (A, B): log-odds for A; shown as (B, A): log-odds for the first position is for B
        margin = 0.5 * (log_odds(prompt, a, b) - log_odds(prompt, b, a))
        p_a = 1.0 / (1.0 + np.exp(-margin))
        out[i] = (p_a, 1.0 - p_a)
    return out


@METHODS.register("lm-judge")
class LmJudge(Method):
    """A zero-shot LM judge on each pair, both orders averaged (preference tasks; reads no labels)."""

    config_cls = LmJudgeConfig
    budget = "none"
    needs_pairs = True

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "LmJudge":
        self._pairs(transfer)  # fails early, before any model is loaded, on a task that is not of pairs
        return self

    def _pairs(self, split: StudentSplit) -> list[tuple[str, str, str]]:
        from superalign.models.pairs import pairs_of

        return pairs_of(split.inputs, "lm-judge")

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        if self.context.n_classes != 2:
            raise SuperalignError("method 'lm-judge' needs a two-class preference task (A or B preferred)")
        return preference_probs(self._pairs(split), self.config.model, self.config.question)
