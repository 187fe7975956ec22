"""The research loop: propose -> act (tool calls within the budget) -> reflect after each experiment -> finish;
then the held-out evaluation, by an evaluator the agent has no tool for.

A run lives in one folder:
    run.json          the config, the policy and the seed (a resumed run must match them)
    notebook.sqlite   every hypothesis, action, observation, reflection, flag (the agent's memory)
    workspace/        the only place the agent's code can write (methods/NAME.py)
    evaluation.json   the final method's held-out score, written once the loop is over
Interrupted runs resume from the notebook: the steps taken, the budget spent and the results are read back
(experiments come from the run store, so nothing is computed twice).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from superalign.errors import SuperalignError
from superalign.io import write_json
from superalign.models.cache import ActivationCache
from superalign.engine.record import git_revision
from superalign.engine.store import RunStore
from superalign.researcher.config import ResearcherConfig
from superalign.researcher.evaluator import evaluate_final
from superalign.researcher.notebook import Notebook, minilm_embedder
from superalign.researcher.policies import Context
from superalign.researcher.suites import score_suite
from superalign.researcher.tools import Toolbox, rounded


def _summary(observation: dict[str, Any]) -> str:
    text = json.dumps({k: v for k, v in observation.items() if k not in ("source", "tool", "sha256")}, default=str)
    return text[:1500]


class Researcher:
    def __init__(self, config: ResearcherConfig, run_dir: Path, policy, seed: int = 0,
                 store: RunStore | None = None, cache: ActivationCache | None = None,
                 embed: Callable | None = "minilm", on_step: Callable[[int, str], None] | None = None):
        self.config, self.run_dir, self.policy, self.seed = config, Path(run_dir), policy, seed
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._check_run_file()
        self.notebook = Notebook(self.run_dir / "notebook.sqlite", minilm_embedder() if embed == "minilm" else embed)
        self.store = store or RunStore()
        self.toolbox = Toolbox(config, self.run_dir / "workspace", self.notebook, self.store,
                               cache or ActivationCache())
        self.on_step = on_step or (lambda step, line: None)
        self._restore()

    def _check_run_file(self) -> None:
        spec = {"config": self.config.model_dump(mode="json"), "policy": self.policy.name, "seed": self.seed,
                "kind": "agent"}
        path = self.run_dir / "run.json"
        if path.exists():
            stored = json.loads(path.read_text())
            if {k: stored.get(k) for k in spec} != spec:
                raise SuperalignError(f"{self.run_dir} holds a run with another config, policy or seed; "
                                      "resume it with its own, or start a new run folder")
        else:
            write_json(path, spec)

    def _restore(self) -> None:
        """The loop's state from the notebook: steps taken, budget spent, results, the final choice."""
        tb = self.toolbox
        observations = self.notebook.entries("observation")
        tb.step = len(observations)  # an action killed before its observation was written is taken again
        for obs in observations:
            if obs.data.get("tool") == "run_experiment" and obs.data.get("charged"):
                tb.experiments_run += 1
                args = obs.data["args"]
                resolved = tb.resolve(args["method"], args.get("options", {}))
                if not isinstance(resolved, dict):
                    score = score_suite(self.config.dev, self.config.dev_seeds, *resolved, self.store, tb.cache,
                                        label=args["method"])
                    score.options = args.get("options", {})
                    tb.results.append(score)
            if obs.data.get("tool") == "finish" and obs.data.get("ok"):
                tb.finished = obs.data["final"]
        tb.flags = [e.data for e in self.notebook.entries("flag")]

    def context(self, last: dict[str, Any] | None = None) -> Context:
        tb = self.toolbox
        recent = self.notebook.recent(4)
        plan = " ".join(e.text for e in self.notebook.entries("hypothesis")[-1:] + self.notebook.entries("reflection")[-1:])
        retrieved = self.notebook.search(plan, 2, exclude={e.id for e in recent}) if plan else []
        ranked = sorted((s for s in tb.results if s.ok), key=lambda s: -s.pgr)
        return Context(tb.step, tb.budget_left, self.config.max_steps - tb.step, tb.describe(),
                       [e.line(200) for e in recent], [e.line(140) for e in retrieved],
                       [{"method": s.method, "options": s.options, "dev_pgr": rounded(s.pgr)} for s in ranked], last)

    def run(self) -> dict[str, Any]:
        tb, nb = self.toolbox, self.notebook
        if not nb.entries("hypothesis"):
            nb.add(tb.step, "hypothesis", self.policy.propose(self.context()))
        last = None
        while tb.finished is None and tb.step < self.config.max_steps:
            action = self.policy.act(self.context(last))
            nb.add(tb.step, "action", f"{action.tool} {json.dumps(action.args, default=str)[:600]}",
                   {"tool": action.tool, "args": action.args, "thought": action.thought, "raw": action.raw[:4000]})
            charged_before = tb.experiments_run
            if action.tool == "invalid":
                observation = {"ok": False, "error": f"unreadable action: {action.args.get('error')}; reply with "
                                                     "one JSON object with a tool and its args"}
            else:
                observation = tb.call(action.tool, action.args)
            data = {"tool": action.tool, "args": action.args, "charged": tb.experiments_run > charged_before,
                    **observation}
            nb.add(tb.step, "observation", _summary(observation), data)
            self.on_step(tb.step, f"{action.tool}: {_summary(observation)[:160]}")
            tb.step += 1
            last = observation
            if action.tool == "run_experiment" and data["charged"]:
                nb.add(tb.step - 1, "reflection", self.policy.reflect(self.context(last), observation))
        return self.finish()

    def final_choice(self) -> dict[str, Any]:
        tb = self.toolbox
        if tb.finished:
            return {**tb.finished, "chosen_by": "agent"}
        ranked = sorted((s for s in tb.results if s.ok), key=lambda s: -s.pgr)
        if ranked:  # out of steps without finishing: its best dev result is what it found
            return {"method": ranked[0].method, "options": ranked[0].options, "chosen_by": "best dev result (no finish)"}
        return {"method": "naive", "options": {}, "chosen_by": "fallback: no experiment succeeded"}

    def finish(self) -> dict[str, Any]:
        final = self.final_choice()
        if not self.notebook.entries("final"):
            self.notebook.add(self.toolbox.step, "final", json.dumps(final), final)
        path = self.run_dir / "evaluation.json"
        if path.exists():
            return json.loads(path.read_text())
        method, options = final["method"], final["options"]
        if method.startswith("mine:"):  # the agent's own file, as the tools run it (hash, sandbox limits)
            resolved = self.toolbox.resolve(method, options)
            if isinstance(resolved, dict):  # cannot happen for a choice the tools accepted; say so if it does
                raise SuperalignError(f"final method {method!r} cannot be evaluated: {resolved['error']}")
            method, options = resolved
        dev = next((s for s in reversed(self.toolbox.results) if s.method == final["method"]
                    and s.options == final["options"]), None)
        result = {"kind": "agent", "policy": self.policy.name, "seed": self.seed, "final": final,
                  "git_revision": git_revision(),
                  "dev": dev.as_dict() if dev else None, "experiments": self.toolbox.experiments_run,
                  "steps": self.toolbox.step, "flags": self.toolbox.flags,
                  "held_out": evaluate_final(self.config, method, options, self.store, self.toolbox.cache,
                                             label=final["method"]).as_dict()}
        write_json(path, result)
        return result

