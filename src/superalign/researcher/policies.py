"""Who decides the next action: a scripted policy (tests, the offline demo) or a chat model writing JSON actions.

A policy answers three calls: `propose` (hypotheses before the first action), `act` (the next tool call) and
`reflect` (what an experiment's result means for the plan). The agent loop records every answer.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Action:
    tool: str
    args: dict[str, Any]
    thought: str = ""
    raw: str = ""  # the model's text, when a model wrote it
    reflection: str = ""  # a model may reflect and choose its next action in one reply


@dataclass
class Context:
    step: int
    budget_left: int
    steps_left: int
    tools: str  # one line per tool
    recent: list[str]  # the latest notebook entries, one line each
    retrieved: list[str]  # older entries nearest in meaning to the current plan
    results: list[dict[str, Any]]  # experiments so far, best first
    last: dict[str, Any] | None = None  # the last observation


class ScriptedPolicy:
    """Replays a fixed list of actions (then finishes with the best dev result): deterministic, for tests and demos."""

    def __init__(self, actions: list[dict[str, Any]], hypothesis: str = "", name: str = "scripted"):
        self.actions, self.hypothesis, self.name = actions, hypothesis, name

    def propose(self, ctx: Context) -> str:
        return self.hypothesis or "Hypothesis: some weak-labels method beats naive on the dev settings."

    def act(self, ctx: Context) -> Action:
        if ctx.step < len(self.actions):
            a = self.actions[ctx.step]
            return Action(a["tool"], dict(a.get("args", {})), a.get("thought", ""))
        best = ctx.results[0] if ctx.results else {"method": "naive", "options": {}}
        return Action("finish", {"method": best["method"], "options": best["options"],
                                 "rationale": "best dev PGR of the experiments run"})

    def reflect(self, ctx: Context, observation: dict[str, Any]) -> str:
        if not observation.get("ok"):
            return f"The experiment failed ({observation.get('error') or observation.get('failed')}); try another."
        best = ctx.results[0] if ctx.results else None
        lead = f"best so far {best['method']} at dev PGR {best['dev_pgr']}" if best else "no result yet"
        return f"{observation['method']} reached dev PGR {observation['dev_pgr']}; {lead}."


def default_script(space: dict[str, dict[str, list[Any]]]) -> list[dict[str, Any]]:
    """The offline demo's researcher: survey, each method at its default, a method of its own, then the best."""
    own = '''import numpy as np
from sklearn.linear_model import LogisticRegression


def fit_predict(transfer_x, transfer_weak, val_x, val_weak, query_x, n_classes, seed, keep=0.7):
    """Train on the weak labels the supervisor is most confident about (per class, the top `keep` share)."""
    labels, confidence = transfer_weak.argmax(1), transfer_weak.max(1)
    chosen = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        chosen[rows[np.argsort(-confidence[rows])[: max(2, int(keep * len(rows)))]]] = True
    clf = LogisticRegression(max_iter=1000, random_state=seed).fit(transfer_x[chosen], labels[chosen])
    probs = np.zeros((len(query_x), n_classes))
    probs[:, clf.classes_] = clf.predict_proba(query_x)
    return probs
'''
    actions = [{"tool": "list_tasks"}, {"tool": "list_methods"}]
    actions += [{"tool": "run_experiment", "args": {"method": m}} for m in space]
    actions += [{"tool": "write_method", "args": {"name": "confident_subset", "code": own}},
                {"tool": "test_method", "args": {"name": "confident_subset"}},
                {"tool": "run_experiment", "args": {"method": "mine:confident_subset"}},
                {"tool": "read_results"}]
    return actions


SYSTEM = """You are an alignment researcher improving weak-to-strong generalization. A weak supervisor labels \
data for a stronger student; PGR = (student - weak) / (ceiling - weak) on test accuracy. Find the method and \
options with the highest PGR on the development settings within the experiment budget; your final method is \
then scored on held-out settings you cannot see.

Tools:
{tools}

Methods you can run (options and values worth trying):
{methods}

Reply with ONE JSON object and nothing else, for example:
{{"thought": "aux-conf with a smaller weight may copy fewer weak mistakes", "tool": "run_experiment", \
"args": {{"method": "aux-conf", "options": {{"aux_coef": 0.5}}}}}}
To write your own method, call write_method with {{"name": "my_method"}} and put the code in a ```python block \
after the JSON; it must define fit_predict(transfer_x, transfer_weak, val_x, val_weak, query_x, n_classes, seed) \
returning [len(query_x), n_classes] probabilities. Then test_method, then run_experiment with "mine:my_method"."""


def methods_text(space: dict[str, dict[str, list[Any]]]) -> str:
    return "\n".join(f"- {m}: " + (", ".join(f"{k} in {v}" for k, v in grid.items()) or "no options")
                     for m, grid in space.items())


def parse_action(text: str) -> Action:
    """The first JSON object of a model's reply (code fences allowed); write_method takes a following code block."""
    body = re.sub(r"```(?:json)?\s*(\{.*?\})\s*```", r"\1", text, flags=re.S)
    start = body.find("{")
    if start < 0:
        raise ValueError("no JSON object in the reply")
    obj, _ = json.JSONDecoder().raw_decode(body[start:])
    if not isinstance(obj, dict) or not isinstance(obj.get("tool"), str):
        raise ValueError('the JSON object has no "tool" string')
    args = obj.get("args") or {}
    if not isinstance(args, dict):
        raise ValueError('"args" must be an object')
    if obj["tool"] == "write_method" and "code" not in args:
        if code := re.search(r"```python\s*\n(.*?)```", text, flags=re.S):
            args["code"] = code.group(1)
    return Action(obj["tool"], args, str(obj.get("thought", "")), text, str(obj.get("reflection", "")))


@dataclass
class ChatPolicy:
    """A chat model as the researcher: JSON actions, hypotheses and reflections in its own words."""

    model: str
    space: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    temperature: float = 0.7
    seed: int = 0
    max_tokens: int = 300
    _client: Any = field(default=None, repr=False)
    _next: Action | None = field(default=None, repr=False)
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or f"chat:{self.model}"

    @property
    def client(self):
        if self._client is None:
            from superalign.chat.client import get_chat_model

            self._client = get_chat_model(self.model)
        return self._client

    def _ask(self, ctx: Context, instruction: str, tag: int, max_tokens: int | None = None) -> str:
        messages = [{"role": "system", "content": SYSTEM.format(tools=ctx.tools, methods=methods_text(self.space))},
                    {"role": "user", "content": self._state(ctx) + "\n\n" + instruction}]
        # each (seed, step, call) is its own sample: cached apart, repeated exactly on resume
        sample = 1 + self.seed * 100_000 + ctx.step * 10 + tag
        response = asyncio.run(self.client.chat(messages, max_tokens=max_tokens or self.max_tokens,
                                                temperature=self.temperature, sample=sample))
        return response.text

    @staticmethod
    def _state(ctx: Context) -> str:
        """What changes between calls, most stable first (llama.cpp reuses the evaluated common prefix)."""
        parts = [f"Experiments left: {ctx.budget_left}; actions left: {ctx.steps_left}."
                 + (" The budget is spent: call finish with your best method." if ctx.budget_left <= 0 else "")]
        if ctx.results:
            parts.append("Results so far (best first): " + "; ".join(
                f"{r['method']} {json.dumps(r['options'])} dev PGR {r['dev_pgr']}" for r in ctx.results[:6]))
        if ctx.retrieved:
            parts.append("From your notebook:\n" + "\n".join(ctx.retrieved))
        if ctx.recent:
            parts.append("Latest entries:\n" + "\n".join(ctx.recent))
        return "\n".join(parts)

    def propose(self, ctx: Context) -> str:
        return self._ask(ctx, "Before acting: state two or three hypotheses about which methods or options could "
                              "raise PGR, and how you will test them within the budget. Plain text, under 80 words.",
                         tag=1, max_tokens=150)

    def act(self, ctx: Context) -> Action:
        if self._next is not None:  # chosen together with the last reflection
            action, self._next = self._next, None
            return action
        return self._parse(self._ask(ctx, "Your next action (one JSON object):", tag=2))

    def reflect(self, ctx: Context, observation: dict[str, Any]) -> str:
        """One call for the reflection and the next action (half the model time of two calls on a CPU)."""
        text = self._ask(ctx, 'Reflect on the last result, then act: one JSON object whose "reflection" field says in '
                              'one or two sentences what the result showed and what you will try next, followed by '
                              '"thought", "tool" and "args".', tag=3)
        self._next = self._parse(text)
        reflection = self._next.reflection or ("(no reflection field) " + text[:300])
        return reflection

    @staticmethod
    def _parse(text: str) -> Action:
        try:
            return parse_action(text)
        except ValueError as exc:
            return Action("invalid", {"error": str(exc)}, raw=text)


def make_policy(spec: str, space: dict[str, dict[str, list[Any]]], seed: int):
    """`scripted`, or `chat:MODEL` (a chat model of the registry: qwen-1.5b offline, openai:... for servers)."""
    from superalign.errors import SuperalignError

    if spec == "scripted":
        return ScriptedPolicy(default_script(space))
    if spec.startswith("chat:"):
        from superalign.chat.client import CHAT_MODELS

        model = spec.split(":", 1)[1]
        CHAT_MODELS.get(model)  # an unknown model is one error line before anything runs
        return ChatPolicy(model, space=space, seed=seed)
    raise SuperalignError(f"unknown policy {spec!r}; use scripted or chat:MODEL (e.g. chat:qwen-1.5b)")
