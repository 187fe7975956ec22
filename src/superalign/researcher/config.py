"""What a researcher run is: the development suite the agent sees, the held-out suite only the evaluator sees,
the configuration space shared with the search baselines, and the budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from superalign.errors import SuperalignError
from superalign.io import read_yaml, stable_hash
from superalign.w2s.pipeline import ExperimentConfig


class Pair(BaseModel):
    """One weak-to-strong setting of a suite."""

    model_config = ConfigDict(extra="forbid")
    task: str
    weak: str
    strong: str
    max_examples: int = Field(0, ge=0)

    def label(self) -> str:
        return f"{self.task} ({self.weak} -> {self.strong})"

    def experiments(self, method: str, options: dict[str, Any], seeds: list[int]) -> list[ExperimentConfig]:
        return [ExperimentConfig(task=self.task, weak=self.weak, strong=self.strong, method=method,
                                 method_options=options, seed=s, max_examples=self.max_examples) for s in seeds]


class ResearcherConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dev: list[Pair] = Field(description="development settings: the agent runs experiments on these")
    dev_seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    held_out: list[Pair] = Field(description="held-out settings: only the evaluator reads them")
    held_out_seeds: list[int] = Field(default_factory=lambda: [100, 101, 102, 103, 104])
    # the configuration space of the search baselines, and the built-in methods the agent may run:
    # method -> option -> values (the first value of each option is its default in the grid order)
    space: dict[str, dict[str, list[Any]]] = Field(default_factory=lambda: {"naive": {}})
    budget: int = Field(8, ge=1, description="development experiments (each: every dev setting x dev seed)")
    max_steps: int = Field(24, ge=1, description="agent actions at most (tool calls, invalid ones included)")
    sandbox_cpu_seconds: int = Field(120, ge=1)
    sandbox_memory_mb: int = Field(2048, ge=256)

    @model_validator(mode="after")
    def _disjoint(self) -> "ResearcherConfig":
        dev_tasks = {p.task for p in self.dev}
        if overlap := dev_tasks & {p.task for p in self.held_out}:
            raise ValueError(f"held-out tasks also in dev: {', '.join(sorted(overlap))} (held out means unseen)")
        if set(self.dev_seeds) & set(self.held_out_seeds):
            raise ValueError("held-out seeds must be fresh: none of them may be a dev seed")
        return self

    def config_hash(self) -> str:
        return stable_hash(self.model_dump(mode="json"), length=12)


def load_config(path: Path) -> ResearcherConfig:
    from pydantic import ValidationError

    raw = read_yaml(Path(path), "researcher config")
    try:
        return ResearcherConfig(**(raw or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SuperalignError(f"researcher config {path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
    except TypeError as exc:
        raise SuperalignError(f"researcher config {path}: expected a mapping of settings ({exc})") from exc
