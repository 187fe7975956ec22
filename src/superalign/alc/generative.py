"""The generative attacker: a language model rewrites pool inputs so that the learner's answer changes while the
true label does not (paraphrase, distractor) or flips with the text (negation, binary tasks).

Validity, checked before a rewrite is used: where the task computes its labels (arithmetic claims), the
computed label of the rewrite must equal its source's (flipped for a negation), and a rewrite whose label
cannot be computed is rejected; elsewhere the critic's label of the rewrite must equal its label of the
source (flipped for a negation). Neither check hands a label to the loop: a rejected rewrite is dropped, an
accepted one is labelled by the critic (or an expert) like any query. A rewrite "flips the learner" when the
learner's answer on it breaks the relation to its answer on the source; those are queried first.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr

from superalign.alc.attackers import ATTACKERS, AttackContext, Attacker, make_attacker
from superalign.alc.queries import Queries
from superalign.errors import SuperalignError

PROMPTS = {
    "paraphrase": "Rewrite the text below in different words. Keep its meaning, and keep every number exactly as it "
                  "is. Reply with the rewritten text only.",
    "distractor": "Add one short sentence that is irrelevant to the text below, and change nothing else. Use no "
                  "numbers in the new sentence. Reply with the new text only.",
    "negation": "Rewrite the statement in the text below so that it asserts the opposite (for example by inserting "
                "'not'), and keep every number exactly as it is. Reply with the rewritten text only.",
}


def clean(reply: str) -> str:
    """The rewrite from a model's reply: its first non-empty paragraph, without a label or quotes around it."""
    text = next((p.strip() for p in reply.strip().split("\n\n") if p.strip()), "")
    for lead in ("Rewritten text:", "Rewrite:", "New text:", "Text:"):
        if text.lower().startswith(lead.lower()):
            text = text[len(lead):].strip()
    return " ".join(text.strip().strip('"“”').split())


@ATTACKERS.register("generative", help="a language model rewrites inputs to flip the learner (paraphrase, "
                                       "distractor, negation), validity checked")
class GenerativeAttacker(Attacker):
    model: str = Field("qwen-1.5b", description="the rewriting chat model")
    kinds: list[str] = Field(default_factory=lambda: ["paraphrase", "distractor", "negation"])
    sources: str | dict[str, Any] = Field("uncertainty", description="pool attacker choosing the inputs to rewrite")
    max_tokens: int = Field(96, ge=8)
    _client: Any = PrivateAttr(None)
    _stats: dict[str, Any] = PrivateAttr(default_factory=dict)

    def _rewrites(self, texts: list[str], kinds: list[str]) -> list[str]:
        from superalign.chat.client import get_chat_model

        self._client = self._client or get_chat_model(self.model)

        async def all_rewrites():
            replies = await asyncio.gather(*(self._client.chat(
                [{"role": "user", "content": f"{PROMPTS[kind]}\n\nText: {text}"}], max_tokens=self.max_tokens)
                for text, kind in zip(texts, kinds)))
            return [clean(r.text) for r in replies]

        return asyncio.run(all_rewrites())

    def propose(self, context: AttackContext, m: int) -> Queries:
        unknown = [k for k in self.kinds if k not in PROMPTS]
        if unknown:
            raise SuperalignError(f"attacker generative: unknown rewrite kinds {unknown}; choose from {', '.join(PROMPTS)}")
        if context.encode is None:
            raise SuperalignError("attacker generative rewrites text; this task's inputs are not text")
        k = context.pool.weak_probs.shape[1]
        kinds = [kind for kind in self.kinds if kind != "negation" or k == 2]
        n_sources = max(1, -(-m // len(kinds)))
        rows = make_attacker(self.sources).rank(context)[:n_sources]
        pairs = [(int(r), kind) for r in rows for kind in kinds]
        sources = [str(context.pool.inputs[r]) for r, _ in pairs]
        written = self._rewrites(sources, [kind for _, kind in pairs])
        flipped = np.asarray([kind == "negation" for _, kind in pairs])
        keep = np.asarray([bool(w) and w != s for w, s in zip(written, sources)])
        computed = context.computed_label
        self._stats = {"attempts": len(pairs), "rejected_empty": int((~keep).sum())}
        if computed is not None:
            before, after = [computed(s) for s in sources], [computed(w) for w in written]
            valid = [b is not None and a is not None and a == (1 - b if f else b)
                     for b, a, f in zip(before, after, flipped)]
            self._stats["rejected_computed"] = int((keep & ~np.asarray(valid)).sum())
            keep &= np.asarray(valid)
        index = np.flatnonzero(keep)
        if not len(index):
            self._stats.update(valid=0, flipped_learner=0)
            return Queries([], np.zeros((0, context.pool.x_weak.shape[1])), np.zeros((0, context.pool.x_strong.shape[1])), [])
        x_weak, x_strong = context.encode([written[i] for i in index])
        queries = Queries([written[i] for i in index], x_weak, x_strong, [pairs[i][0] for i in index],
                          [pairs[i][1] for i in index])
        if computed is None and context.critic is not None:  # validity by the critic where labels are not computed
            source_labels = context.critic.critique(context.pool.queries(queries.source),
                                                    context.learner.predict_proba(context.pool.x_strong[queries.source])).labels
            new_labels = context.critic.critique(queries, context.learner.predict_proba(queries.x_strong)).labels
            ok = new_labels == np.where(queries.flipped, 1 - source_labels, source_labels)
            self._stats["rejected_critic"] = int((~ok).sum())
            queries = queries.take(np.flatnonzero(ok))
        source_answer = context.learner.predict_proba(context.pool.x_strong[queries.source]).argmax(1)
        answer = context.learner.predict_proba(queries.x_strong).argmax(1) if len(queries) else np.zeros(0, int)
        flips = answer != np.where(queries.flipped, 1 - source_answer, source_answer)
        self._stats.update(valid=len(queries), flipped_learner=int(flips.sum()))
        order = np.argsort(~flips, kind="stable")[:m]  # the rewrites that flip the learner first
        return queries.take(order)

    def describe_round(self) -> dict[str, Any]:
        return dict(self._stats)
