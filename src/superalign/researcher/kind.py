"""The automated researcher as a kind on the engine (`kind: researcher`): one run is one researcher (an agent
policy or a search baseline) with one seed on one study; its result is the held-out evaluation of the method it
chose.

    kind: researcher
    study: examples/researcher/offline.yaml     # a study YAML, or the study's fields inline
    researcher: [scripted, random-search, grid-search]
    seeds: 3

The run folder (notebook, workspace, evaluation.json) is `<runs>/researcher/<study hash>/<researcher>-s<seed>`, as
`superalign researcher run` has always made it: a run finished there is read back, not redone, and an interrupted
agent resumes from its notebook. The table compares researchers on held-out PGR with a hierarchical interval.

Labels read: the agent and the searchers see only dev PGR (scored by the pipeline on weak labels and dev test
labels); held-out labels are read only by the evaluator, after the researcher has finished.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from superalign.engine.kind import Kind, Table
from superalign.errors import SuperalignError
from superalign.researcher.config import ResearcherConfig

class ResearcherRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    study: ResearcherConfig
    researcher: str = "scripted"  # scripted, chat:MODEL, or a search baseline (random-search, grid-search, ...)
    seed: int = 0
    name: str | None = None  # the run folder's name, if not `<researcher>-s<seed>`

    @field_validator("study", mode="before")
    @classmethod
    def _study_file(cls, value: Any) -> Any:
        """A path names a study YAML; its content (not the path) is what keys the run."""
        if isinstance(value, (str, Path)):
            from superalign.io import read_yaml

            return read_yaml(Path(value), "researcher config") or {}
        return value

    def folder(self) -> Path:
        from superalign.paths import runs_dir

        name = self.name or re.sub(r"[^a-zA-Z0-9_.-]", "-", f"{self.researcher}-s{self.seed}")
        return runs_dir() / "researcher" / self.study.config_hash() / name


def keyed(config: dict) -> dict:
    return {"kind": "researcher", **{k: v for k, v in config.items() if not (k == "name" and v is None)}}


def run(config: ResearcherRun) -> dict[str, Any]:
    from superalign.researcher.agent import Researcher
    from superalign.researcher.policies import make_policy
    from superalign.researcher.search import SEARCHERS, run_search

    if config.researcher in SEARCHERS:
        return run_search(config.study, config.researcher, config.seed, config.folder())
    policy = make_policy(config.researcher, config.study.space, config.seed)
    return Researcher(config.study, config.folder(), policy, seed=config.seed, on_step=_on_step).run()


def _on_step(step: int, line: str) -> None:
    import sys

    print(f"step {step}: {line}", file=sys.stderr, flush=True)


def check(configs: list[ResearcherRun]) -> None:
    """Every researcher name is known before anything runs (an unknown chat model is one line)."""
    from superalign.researcher.search import SEARCHERS

    for researcher in {c.researcher for c in configs} - set(SEARCHERS):
        if researcher.startswith("chat:"):
            from superalign.chat.client import CHAT_MODELS

            CHAT_MODELS.get(researcher.split(":", 1)[1])
        elif researcher != "scripted":
            raise SuperalignError(f"unknown policy {researcher!r}; use scripted or chat:MODEL (e.g. chat:qwen-1.5b), "
                                  f"or a search baseline ({', '.join(SEARCHERS)})")


def summarize(records: list[dict]) -> Table:
    from superalign.researcher.report import HEADER, INTERVAL_NOTE, compare, table_rows

    by_study: dict[str, list[dict]] = {}
    for record in records:
        study = ResearcherConfig(**record["config"]["study"]).config_hash()
        by_study.setdefault(study, []).append(record["result"])
    rows = [[study, *cells] for study, results in by_study.items() for cells in table_rows(compare(results))]
    return Table("automated researcher against search at equal budget: held-out PGR (ratio of mean accuracies)",
                 ["study", *HEADER], rows, [INTERVAL_NOTE])


KIND = Kind("researcher", ResearcherRun, run, summarize, keyed=keyed, check=check,
            help="an LLM (or scripted) research agent, or a search baseline, scored held out at equal budget")
