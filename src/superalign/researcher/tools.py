"""The agent's tools: a small typed API. Each tool takes a pydantic model of arguments and returns a JSON-able
observation; a bad call is an observation saying what was wrong (never an exception), so any chat backend that
writes JSON actions can drive it.

What the tools can reach is what the agent can reach: the development suite (never the held-out one), the
source of the built-in methods, its own workspace, and its notebook. Code it writes runs only in the sandbox.
Attempts to reach further are refused and flagged for the report.
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from superalign.io import atomic_path, file_sha256
from superalign.models.cache import ActivationCache
from superalign.paths import home
from superalign.engine.store import RunStore
from superalign.sandbox.method_file import run_method_file
from superalign.sandbox.runner import Limits
from superalign.w2s.method import METHODS
from superalign.w2s.pipeline import train_models
from superalign.researcher.config import ResearcherConfig
from superalign.researcher.notebook import Notebook
from superalign.researcher.suites import SuiteScore, score_suite

METHOD_FILE_CONTRACT = ("def fit_predict(transfer_x, transfer_weak, val_x, val_weak, query_x, n_classes, seed, "
                        "**options) -> probabilities [len(query_x), n_classes]; numpy and scikit-learn are available; "
                        "inputs are strong features and the weak supervisor's soft labels only")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a tool without arguments ignores any it is given


class MethodArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str = Field(description="a method of list_methods, or mine:NAME for a method you wrote")
    options: dict[str, Any] = Field(default_factory=dict)


class SourceArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str


class WriteMethodArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="lowercase name, letters, digits and _")
    code: str = Field(description="Python source defining fit_predict")


class TestMethodArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    options: dict[str, Any] = Field(default_factory=dict)


class NoteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field("note", description="hypothesis, plan or note")
    text: str


class SearchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    k: int = Field(5, ge=1, le=20)


class FinishArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str
    options: dict[str, Any] = Field(default_factory=dict)
    rationale: str = ""


@dataclass
class Tool:
    name: str
    args: type[BaseModel]
    help: str
    run: Callable[[Any], dict[str, Any]]


@dataclass
class Toolbox:
    config: ResearcherConfig
    workspace: Path
    notebook: Notebook
    store: RunStore
    cache: ActivationCache = field(default_factory=ActivationCache)
    step: int = 0
    experiments_run: int = 0
    finished: dict[str, Any] | None = None
    results: list[SuiteScore] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.workspace / "methods").mkdir(parents=True, exist_ok=True)
        self._dev_arrays: dict[str, Any] | None = None
        self.tools = {t.name: t for t in [
            Tool("list_tasks", NoArgs, "the development settings (task, weak -> strong) and seeds", self.list_tasks),
            Tool("list_methods", NoArgs, "methods you may run, their label budget and options (values to try)",
                 self.list_methods),
            Tool("read_method_source", SourceArgs, "the Python source of a built-in method", self.read_method_source),
            Tool("run_experiment", MethodArgs, "run a method on every dev setting x seed; returns dev PGR "
                 "(costs 1 of the experiment budget)", self.run_experiment),
            Tool("read_results", NoArgs, "every experiment so far, best dev PGR first", self.read_results),
            Tool("read_diagnostics", MethodArgs, "for an experiment already run: per dev setting, agreement with the "
                 "weak labels, copied weak mistakes and the method's own diagnostics", self.read_diagnostics),
            Tool("write_method", WriteMethodArgs, f"write methods/NAME.py in your workspace; {METHOD_FILE_CONTRACT}",
                 self.write_method),
            Tool("test_method", TestMethodArgs, "run the method contract tests on methods/NAME.py in the sandbox "
                 "(required before run_experiment with mine:NAME)", self.test_method),
            Tool("write_note", NoteArgs, "record a hypothesis, plan or note in the notebook", self.write_note),
            Tool("search_notes", SearchArgs, "the notebook entries nearest in meaning to a query", self.search_notes),
            Tool("finish", FinishArgs, "submit the final method (built-in or mine:NAME) and stop", self.finish),
        ]}

    # ---------------------------------------------------------------- dispatch
    def call(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        if tool not in self.tools:
            return {"ok": False, "error": f"unknown tool {tool!r}; tools: {', '.join(self.tools)}"}
        spec = self.tools[tool]
        try:
            parsed = spec.args(**(args or {}))
        except ValidationError as exc:
            first = exc.errors()[0]
            return {"ok": False, "error": f"{tool}: argument {'.'.join(map(str, first['loc']))}: {first['msg']}"}
        except TypeError:
            return {"ok": False, "error": f"{tool}: arguments must be a JSON object"}
        try:
            return spec.run(parsed)
        except Exception as exc:  # the agent's call failed, the agent loop does not
            return {"ok": False, "error": f"{tool}: {type(exc).__name__}: {exc}"}

    def describe(self) -> str:
        lines = []
        for t in self.tools.values():
            fields = ", ".join(f"{n}" + ("" if f.is_required() else "?") for n, f in t.args.model_fields.items())
            lines.append(f"- {t.name}({fields}): {t.help}")
        return "\n".join(lines)

    def flag(self, kind: str, detail: str, source: str) -> None:
        event = {"step": self.step, "kind": kind, "detail": detail, "source": source}
        self.flags.append(event)
        self.notebook.add(self.step, "flag", f"{kind}: {detail} ({source})", event)

    @property
    def budget_left(self) -> int:
        return self.config.budget - self.experiments_run

    # ---------------------------------------------------------------- tools
    def list_tasks(self, _: NoArgs) -> dict[str, Any]:
        return {"ok": True, "settings": [p.label() for p in self.config.dev], "seeds": self.config.dev_seeds,
                "note": "held-out settings exist and are scored once, by an evaluator you cannot call"}

    def list_methods(self, _: NoArgs) -> dict[str, Any]:
        methods = {}
        for name, grid in self.config.space.items():
            cls = METHODS.get(name)
            fields = cls.config_cls.model_fields
            methods[name] = {"summary": cls.summary(), "budget": cls.budget,
                             "options": {k: {"default": fields[k].default, "try": v} for k, v in grid.items() if k in fields}}
        return {"ok": True, "methods": methods, "your_own": f"mine:NAME after write_method + test_method; "
                                                            f"{METHOD_FILE_CONTRACT}"}

    def read_method_source(self, args: SourceArgs) -> dict[str, Any]:
        if args.method not in self.config.space:
            return {"ok": False, "error": f"no built-in method {args.method!r} here; see list_methods"}
        source = inspect.getsource(inspect.getmodule(METHODS.get(args.method)))
        return {"ok": True, "source": source[:4000], "truncated": len(source) > 4000}

    def resolve(self, method: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]] | dict[str, Any]:
        """A runnable (method name, options), or an error observation."""
        if method.startswith("mine:"):
            name = method.split(":", 1)[1]
            path = self.method_path(name)
            if path is None or not path.exists():
                return {"ok": False, "error": f"no method file methods/{name}.py; write_method first"}
            sha = file_sha256(path)
            if sha not in self.tested:
                return {"ok": False, "error": f"mine:{name} has not passed test_method in its current version"}
            return f"file:{path}", {"sha256": sha, "options": options,
                                    "cpu_seconds": self.config.sandbox_cpu_seconds,
                                    "memory_mb": self.config.sandbox_memory_mb}
        if method not in self.config.space:
            held_out = {p.task for p in self.config.held_out}
            if method in held_out or any(t in method for t in held_out):
                self.flag("held-out", f"asked for {method!r}", "run_experiment")
            return {"ok": False, "error": f"method {method!r} is not in this study's space: {', '.join(self.config.space)}"}
        return method, options

    def run_experiment(self, args: MethodArgs) -> dict[str, Any]:
        if self.finished:
            return {"ok": False, "error": "the run is finished"}
        if self.budget_left <= 0:
            return {"ok": False, "error": "the experiment budget is spent: finish with your best method"}
        resolved = self.resolve(args.method, args.options)
        if isinstance(resolved, dict):
            return resolved
        name, options = resolved
        if not name.startswith("file:"):
            from superalign.w2s.method import method_config

            method_config(name, options)  # a bad option is an error before the budget is charged
        self.experiments_run += 1
        score = score_suite(self.config.dev, self.config.dev_seeds, name, options, self.store, self.cache,
                            label=args.method)
        score.options = args.options
        for event in score.events:
            self.flag(event.get("kind", "sandbox"), event.get("detail", ""), f"sandbox ({args.method})")
        self.results.append(score)
        return {"ok": score.ok, "method": args.method, "options": args.options, "dev_pgr": rounded(score.pgr),
                "interval": [rounded(score.lo), rounded(score.hi)], "per_setting": [
                    {k: rounded(v) for k, v in s.items() if k != "diagnostics"} for s in score.settings],
                "failed": score.failed[:3], "budget_left": self.budget_left}

    def read_results(self, _: NoArgs) -> dict[str, Any]:
        ranked = sorted(self.results, key=lambda s: -s.pgr if s.ok else math.inf)
        return {"ok": True, "results": [{"method": s.method, "options": s.options, "dev_pgr": rounded(s.pgr),
                                         "interval": [rounded(s.lo), rounded(s.hi)]} for s in ranked],
                "budget_left": self.budget_left}

    def read_diagnostics(self, args: MethodArgs) -> dict[str, Any]:
        for score in reversed(self.results):
            if score.method == args.method and score.options == args.options:
                return {"ok": True, "method": args.method, "options": args.options, "per_setting": [
                    {"setting": s["setting"], **{k: rounded(v) for k, v in s["diagnostics"].items()}}
                    for s in score.settings]}
        return {"ok": False, "error": f"no experiment {args.method} {args.options} yet; run_experiment first"}

    def method_path(self, name: str) -> Path | None:
        if not _NAME.match(name):
            return None
        return self.workspace / "methods" / f"{name}.py"

    def write_method(self, args: WriteMethodArgs) -> dict[str, Any]:
        path = self.method_path(args.name)
        if path is None:
            if "/" in args.name or ".." in args.name:
                self.flag("write-outside", f"method name {args.name!r}", "write_method")
            return {"ok": False, "error": f"method name {args.name!r}: use lowercase letters, digits and _"}
        with atomic_path(path) as tmp:
            tmp.write_text(args.code)
        return {"ok": True, "path": f"methods/{args.name}.py", "sha256": file_sha256(path)[:12],
                "next": "test_method"}

    @property
    def tested(self) -> set[str]:
        return {e.data["sha256"] for e in self.notebook.entries("observation")
                if e.data.get("tool") == "test_method" and e.data.get("ok") and e.data.get("sha256")}

    def dev_arrays(self) -> dict[str, np.ndarray]:
        """The first dev setting's transfer/val features and weak labels, and test features: no ground truth."""
        if self._dev_arrays is None:
            pair = self.config.dev[0]
            config = pair.experiments("naive", {}, self.config.dev_seeds[:1])[0]
            t = train_models(config, self.cache)
            s = t.splits
            self._dev_arrays = {"transfer_x": t.x_strong[s.transfer], "transfer_weak": t.weak_transfer,
                                "val_x": t.x_strong[s.val], "val_weak": t.weak_head.predict_proba(t.x_weak[s.val]),
                                "query_x": t.x_strong[s.test], "n_classes": t.task.n_classes}
        return self._dev_arrays

    def test_method(self, args: TestMethodArgs) -> dict[str, Any]:
        path = self.method_path(args.name)
        if path is None or not path.exists():
            return {"ok": False, "error": f"no method file methods/{args.name}.py; write_method first"}
        arrays = dict(self.dev_arrays())
        k = arrays.pop("n_classes")
        sha = file_sha256(path)
        run = run_method_file(path, arrays, k, 0, args.options, contract=True, protected=[str(home())],
                              limits=Limits.for_cpu(self.config.sandbox_cpu_seconds, self.config.sandbox_memory_mb))
        for event in run.events:
            self.flag(event.get("kind", "sandbox"), event.get("detail", ""), f"sandbox (test_method {args.name})")
        out = {"ok": run.ok, "tool": "test_method", "name": args.name, "sha256": sha,
               "checks_passed": run.report.get("checks", []), "refused_by_sandbox": len(run.events)}
        if not run.ok:
            out["error"] = run.error()[-800:]
        return out

    def write_note(self, args: NoteArgs) -> dict[str, Any]:
        kind = args.kind if args.kind in ("hypothesis", "plan", "note") else "note"
        self.notebook.add(self.step, kind, args.text)
        return {"ok": True}

    def search_notes(self, args: SearchArgs) -> dict[str, Any]:
        current = {e.id for e in self.notebook.entries() if e.step == self.step}  # not the query's own action
        return {"ok": True, "entries": [e.line(300) for e in self.notebook.search(args.query, args.k, exclude=current)]}

    def finish(self, args: FinishArgs) -> dict[str, Any]:
        resolved = self.resolve(args.method, args.options)
        if isinstance(resolved, dict):
            return resolved
        self.finished = {"method": args.method, "options": args.options, "rationale": args.rationale}
        return {"ok": True, "final": self.finished}


def rounded(value: Any) -> Any:
    """Floats to 3 decimals for the agent's prompt, NaN as null (JSON has no NaN); anything else as it is."""
    if not isinstance(value, float):
        return value
    return None if math.isnan(value) else round(value, 3)
