"""superalign: a workbench for superalignment research.

Weak-to-strong generalization on real data and real pretrained models, with cached activations,
typed configs and reproducible run records.

The public API is importable from here; each name is loaded on first use, so `import superalign` (and the CLI's
start-up) stays fast:

    import superalign as sa
    kind, configs, name = sa.load_spec("examples/w2s/digits.yaml")
    result = sa.run_grid(kind, configs)
    print(kind.summarize(result.records).markdown())
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it
_API = {
    # the engine: kinds, specs, the grid runner, the store
    "KINDS": "superalign.engine", "Kind": "superalign.engine", "Table": "superalign.engine",
    "load_spec": "superalign.engine", "expand": "superalign.engine", "run_grid": "superalign.engine",
    "RunStore": "superalign.engine.store",
    # weak-to-strong
    "ExperimentConfig": "superalign.w2s.pipeline", "run_experiment": "superalign.w2s.pipeline",
    "grid": "superalign.w2s.grid", "run_all": "superalign.runs.w2s", "load_results": "superalign.runs.w2s",
    "METHODS": "superalign.w2s.method", "Method": "superalign.w2s.method", "make_head": "superalign.w2s.heads",
    # data and models
    "load_task": "superalign.data.registry", "featurize": "superalign.models.cache",
    # oversight, attacker-learner-critic, the researcher and its sandbox
    "PROTOCOLS": "superalign.oversight.protocols", "Protocol": "superalign.oversight.protocols",
    "ALCConfig": "superalign.alc.loop", "run_alc": "superalign.alc.loop",
    "Researcher": "superalign.researcher.agent", "ResearcherConfig": "superalign.researcher.config",
    "Policy": "superalign.sandbox.policy", "Limits": "superalign.sandbox.runner", "run_python": "superalign.sandbox.runner",
    "SuperalignError": "superalign.errors",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'superalign' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value  # loaded once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
