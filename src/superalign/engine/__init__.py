"""The experiment engine: every experiment family is a registered kind, run from one spec format through one
get-or-run, one grid runner (local, process pool, Ray) and one summary interface.

    from superalign.engine import load_spec, run_grid
    kind, configs, name = load_spec("examples/w2s/digits.yaml")
    result = run_grid(kind, configs, executor="process", jobs=2)
    print(kind.summarize([r for r in result.records if r["status"] == "ok"]).markdown())

The engine imports no family (tests/test_architecture.py checks it): kinds come from the `superalign.kinds`
entry-point group.
"""

from superalign.engine.kind import KINDS, Kind, Table
from superalign.engine.runner import GridResult, run_grid, stored_records
from superalign.engine.spec import config_key, expand, load_spec, parse_seeds

__all__ = ["KINDS", "Kind", "Table", "GridResult", "run_grid", "stored_records", "config_key", "expand", "load_spec", "parse_seeds"]
