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
import re
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr

from superalign.alc.attackers import ATTACKERS, AttackContext, Attacker, make_attacker
from superalign.alc.queries import Queries
from superalign.errors import SuperalignError

# The rewriting model sees the text as data to edit: a system prompt that forbids answering it, the text in
# triple quotes, and one worked example (without them the 1.5B model answered the claims' questions instead).
SYSTEM = ("You are a text-editing tool. You never answer, judge or comment on the text you are given; you only "
          "return the edited text.")
_EXAMPLE = {
    "paraphrase": ('"""The train leaves at 9. Is that right?"""', '"""The train departs at 9. Is this correct?"""'),
    "negation": ('"""The train leaves at 9. Is that right?"""', '"""The train does not leave at 9. Is that right?"""'),
}
_TASKS = {
    "paraphrase": "Reword the text, keeping its meaning, its question and every number exactly as they are.",
    "negation": "Edit the text so that its statement says the opposite, by inserting 'not'. Keep its question and "
                "every number exactly as they are.",
}
PROMPTS = {kind: f"{task} Example: {_EXAMPLE[kind][0]} becomes {_EXAMPLE[kind][1]}." for kind, task in _TASKS.items()}
# a distractor is written without seeing the text (so it cannot carry a verdict on it) and put in front of it
PROMPTS["distractor"] = "Write one short sentence about {topic}. Use no numbers. Reply with the sentence only."
TOPICS = ("the weather", "cooking", "a train journey", "gardening", "a library", "the sea", "a bicycle", "music")
_VERDICT = re.compile(r"\b(yes|no|true|false|correct|incorrect|right|wrong)\b", re.IGNORECASE)
_ANSWER = re.compile(r"\s*(the )?answer( is)?:?\s*\**(yes|no|true|false)\**\.?\s*$", re.IGNORECASE)


def clean(reply: str) -> str:
    """The rewrite from a model's reply: its first non-empty paragraph, without a label, quotes, or an answer
    to the text's question at its end (a rewrite must not carry a verdict)."""
    text = next((p.strip() for p in reply.strip().split("\n\n") if p.strip()), "")
    for lead in ("Rewritten text:", "Rewrite:", "New text:", "Text:", "Sentence:"):
        if text.lower().startswith(lead.lower()):
            text = text[len(lead):].strip()
    return _ANSWER.sub("", " ".join(text.strip().strip('"“”').split()))


def apply(kind: str, source: str, reply: str) -> str:
    """The rewritten input: the cleaned reply, or for a distractor the reply's sentence before the source (none
    if the sentence has a number or a verdict word in it)."""
    text = clean(reply).strip('"')
    if kind == "distractor":
        return f"{text} {source}" if text and not re.search(r"\d", text) and not _VERDICT.search(text) else ""
    return text


def request(kind: str, source: str, index: int) -> list[dict[str, str]]:
    if kind == "distractor":
        return [{"role": "user", "content": PROMPTS[kind].format(topic=TOPICS[index % len(TOPICS)])}]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f'{PROMPTS[kind]}\n\nText: """{source}"""'}]


@ATTACKERS.register("generative", help="a language model rewrites inputs to flip the learner (paraphrase, "
                                       "distractor, negation), validity checked")
class GenerativeAttacker(Attacker):
    model: str = Field("qwen-1.5b", description="the rewriting chat model")
    kinds: list[str] = Field(default_factory=lambda: ["paraphrase", "distractor", "negation"])
    sources: str | dict[str, Any] = Field("uncertainty", description="pool attacker choosing the inputs to rewrite")
    max_tokens: int = Field(64, ge=8)
    _client: Any = PrivateAttr(None)
    _stats: dict[str, Any] = PrivateAttr(default_factory=dict)

    def _rewrites(self, texts: list[str], kinds: list[str]) -> list[str]:
        from superalign.alc.critics import chat_client

        self._client = self._client or chat_client(self.model)

        async def all_rewrites():
            replies = await asyncio.gather(*(self._client.chat(request(kind, text, i), max_tokens=self.max_tokens)
                                             for i, (text, kind) in enumerate(zip(texts, kinds))))
            return [apply(kind, text, r.text) for r, text, kind in zip(replies, texts, kinds)]

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
        source_probs = context.learner.predict_proba(context.pool.x_strong[queries.source])
        if computed is None and context.critic is not None:  # validity by the critic where labels are not computed
            source_labels = context.critic.critique(context.pool.queries(queries.source), source_probs).labels
            new_labels = context.critic.critique(queries, context.learner.predict_proba(queries.x_strong)).labels
            ok = new_labels == np.where(queries.flipped, 1 - source_labels, source_labels)
            self._stats["rejected_critic"] = int((~ok).sum())
            queries = queries.take(np.flatnonzero(ok))
            source_probs = source_probs[ok]
        source_answer = source_probs.argmax(1)
        answer = context.learner.predict_proba(queries.x_strong).argmax(1) if len(queries) else np.zeros(0, int)
        flips = answer != np.where(queries.flipped, 1 - source_answer, source_answer)
        self._stats.update(valid=len(queries), flipped_learner=int(flips.sum()))
        order = np.argsort(~flips, kind="stable")[:m]  # the rewrites that flip the learner first
        return queries.take(order)

    def describe_round(self) -> dict[str, Any]:
        return dict(self._stats)
