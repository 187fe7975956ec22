"""The researcher as a kind on the engine: a spec of researchers x seeds runs through `superalign run`, each run
in the folder `superalign researcher run` uses, and `results` tables them with a hierarchical interval."""

import os
import subprocess
import sys
from pathlib import Path

from superalign.engine import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "researcher"

STUDY = """kind: researcher
study:
  dev: [{task: digits, weak: 'pca:4', strong: raw, max_examples: 600}]
  dev_seeds: [0]
  held_out: [{task: breast-cancer, weak: 'pca:1', strong: raw}]
  held_out_seeds: [100, 101]
  space: {naive: {}, aux-conf: {aux_coef: [0.75, 0.5]}}
  budget: 2
researcher: [scripted, grid-search]
"""


def test_the_example_spec_names_a_study_file_and_keys_by_its_content():
    kind, configs, _ = load_spec(EXAMPLES / "compare.yaml")
    assert kind.name == "researcher" and len(configs) == 15
    assert {c.researcher for c in configs} == {"scripted", "random-search", "grid-search", "defaults", "naive"}
    assert configs[0].study.held_out_seeds == [100, 101, 102, 103, 104]


def test_a_researcher_spec_runs_and_is_tabled_with_an_interval(runs_dir, tmp_path):
    spec = tmp_path / "study.yaml"
    spec.write_text(STUDY)
    env = {**os.environ, "SUPERALIGN_RUNS": str(runs_dir)}
    cli = [sys.executable, "-m", "superalign.cli.main"]
    done = subprocess.run([*cli, "run", str(spec)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "2 runs of kind researcher (0 from the store, 2 done now" in done.stderr
    table = subprocess.run([*cli, "results", "--kind", "researcher", "--markdown"], capture_output=True, text=True,
                           env=env, timeout=120).stdout
    rows = [line for line in table.splitlines() if line.startswith("| ") and "researcher" not in line]
    assert len(rows) == 2 and {r.split(" | ")[1] for r in rows} == {"scripted", "grid-search"}
    assert all("[" in r and "n/a" not in r.split(" | ")[8] for r in rows)  # an interval from the held-out records
    assert len(list(runs_dir.glob("researcher/*/scripted-s0/evaluation.json"))) == 1
    again = subprocess.run([*cli, "run", str(spec)], capture_output=True, text=True, env=env, timeout=600)
    assert "(2 from the store, 0 done now" in again.stderr
