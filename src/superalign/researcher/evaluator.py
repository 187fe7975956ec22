"""The held-out evaluator: the only code that reads the held-out settings. The agent has no tool that reaches it,
its sandbox cannot read the run store or the data files, and it runs on fresh seeds (none of them a dev seed)."""

from __future__ import annotations

from typing import Any

from superalign.models.cache import ActivationCache
from superalign.engine.store import RunStore
from superalign.researcher.config import ResearcherConfig
from superalign.researcher.suites import SuiteScore, score_suite


def evaluate_final(config: ResearcherConfig, method: str, options: dict[str, Any], store: RunStore | None = None,
                   cache: ActivationCache | None = None, label: str | None = None) -> SuiteScore:
    return score_suite(config.held_out, config.held_out_seeds, method, options, store, cache, label=label)
