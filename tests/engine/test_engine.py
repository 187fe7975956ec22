"""The engine: one spec format, one get-or-run, one grid runner with executors, for any kind, including one
registered from outside superalign through the `superalign.kinds` entry point."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from superalign.engine import KINDS, Kind, Table, config_key, expand, run_grid
from superalign.engine.store import RunStore
from superalign.errors import SuperalignError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TOY_PACKAGE = '''
import os
import time

from pydantic import BaseModel, ConfigDict

from superalign.engine import Kind, Table


class ToyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: int
    scale: float = 1.0
    tags: list[str] = []
    seed: int = 0
    sleep: float = 0.0


def run(config):
    time.sleep(config.sleep)
    log = os.environ.get("TOY_LOG")
    if log:  # every execution, to count them
        with open(log, "a") as f:
            f.write(f"{config.x} {config.scale} {config.seed}\\n")
    if config.x < 0:
        raise ValueError("x must be >= 0")
    return {"value": config.x * config.scale + config.seed, "pid": os.getpid()}


def summarize(records):
    rows = [[str(r["config"]["x"]), str(r["config"]["seed"]), f"{r['result']['value']:.1f}"] for r in records]
    return Table("toy values", ["x", "seed", "value"], sorted(rows))


def blas_threads(config):
    import numpy  # noqa: F401  (loaded, so its BLAS pool exists)
    from threadpoolctl import threadpool_info

    return {"blas": max((p["num_threads"] for p in threadpool_info()), default=1), "value": 0.0}


KIND = Kind("toy", ToyConfig, run, summarize, help="a toy kind from outside superalign")
THREADS = Kind("toy-threads", ToyConfig, blas_threads, summarize)
SQUARE = Kind("toy-square", ToyConfig, lambda c: {"value": c.x ** 2}, summarize)
'''


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """An out-of-tree package with two kinds, installed the way pip leaves one: its module and a dist-info folder
    whose entry_points.txt names them in the superalign.kinds group."""
    site = tmp_path_factory.mktemp("site")
    (site / "toy_kinds").mkdir()
    (site / "toy_kinds" / "__init__.py").write_text(TOY_PACKAGE)
    info = site / "toy_kinds-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-kinds\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[superalign.kinds]\ntoy = toy_kinds:KIND\ntoy-square = toy_kinds:SQUARE\n"
                                           "toy-threads = toy_kinds:THREADS\n")
    return site


def cli(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "superalign.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


class Config(BaseModel):
    x: int
    tags: list[str] = []
    seed: int = 0


IN_PROCESS = Kind("in-process-toy", Config, lambda c: {"value": c.x}, lambda records: Table("t", ["x"], []))


@pytest.fixture(autouse=True)
def registered():
    if "in-process-toy" not in KINDS:
        KINDS.add("in-process-toy", IN_PROCESS)


def test_a_spec_makes_a_grid_from_lists_seeds_runs_and_excludes():
    kind, configs = expand({"kind": "in-process-toy", "x": [1, 2, 3], "tags": ["a", "b"], "seeds": 2,
                            "exclude": [{"x": 3}]})
    points = sorted((c.x, tuple(c.tags), c.seed) for c in configs)
    # tags is a list field: a list is its value, not an axis
    assert points == [(1, ("a", "b"), 0), (1, ("a", "b"), 1), (2, ("a", "b"), 0), (2, ("a", "b"), 1)]
    _, irregular = expand({"kind": "in-process-toy", "tags": [["a"], ["b"]], "runs": [{"x": 9}, {"x": 5, "tags": []}]})
    assert sorted((c.x, tuple(c.tags)) for c in irregular) == [(5, ()), (9, ("a",)), (9, ("b",))]
    _, axis = expand({"kind": "in-process-toy", "x": 1, "tags": [["a"], ["b"]]})  # a list of lists is an axis
    assert sorted(tuple(c.tags) for c in axis) == [("a",), ("b",)]
    _, explicit = expand({"kind": "in-process-toy", "x": 1, "seeds": [0, 7]})
    assert [c.seed for c in explicit] == [0, 7]


@pytest.mark.parametrize("spec, words", [
    ({"x": 1}, "no kind"),
    ({"kind": "nope", "x": 1}, "unknown kind 'nope'"),
    ({"kind": "in-process-toy", "x": "three"}, "x = 'three'"),
    ({"kind": "in-process-toy", "x": 1, "y": 2}, "unknown field(s) ['y']"),
    ({"kind": "in-process-toy", "x": 1, "seeds": "three"}, "seeds: 'three'"),
    ({"kind": "in-process-toy", "x": 1, "seeds": 0}, "seeds: 0 runs nothing"),
    ({"kind": "in-process-toy", "x": [], "seeds": 1}, "empty list"),
    ({"kind": "in-process-toy", "x": 1, "runs": 7}, "runs: 7"),
    ({"kind": "in-process-toy", "x": 1, "exclude": [{"x": 1}]}, "no runs"),
])
def test_a_bad_spec_is_one_line_naming_the_field_and_value(spec, words):
    with pytest.raises(SuperalignError) as error:
        expand(spec, where="s.yaml")
    assert words in str(error.value) and "\n" not in str(error.value)


def test_seeds_mean_the_same_in_every_dialect(tmp_path):
    """`seeds: 3` once meant seed 3 alone in `superalign run --config` and seeds 0, 1, 2 in a sweep."""
    from superalign.runs.sweep import expand as sweep_expand
    from superalign.w2s.grid import configs_from_yaml

    yaml = tmp_path / "c.yaml"
    yaml.write_text("tasks: [digits]\nladder: [pca:4, raw]\nmethods: [naive]\nseeds: 3\n")
    assert sorted(c.seed for c in configs_from_yaml(yaml)) == [0, 1, 2]
    assert sorted(c.seed for c in sweep_expand({"tasks": ["digits"], "ladder": ["pca:4", "raw"], "seeds": 3})) == [0, 1, 2]
    _, configs = expand({"kind": "w2s", "task": "digits", "weak": "pca:4", "strong": "raw", "seeds": 3})
    assert sorted(c.seed for c in configs) == [0, 1, 2]


def test_get_or_run_keys_every_kind_one_way_and_keeps_the_old_w2s_keys(runs_dir):
    from superalign.w2s.pipeline import ExperimentConfig

    config = ExperimentConfig(task="digits", weak="pca:4", strong="raw")
    assert config_key(KINDS.get("w2s"), config) == config.config_hash()  # records of earlier versions are found
    store = RunStore()
    calls = []
    counting = Kind("counting-toy", Config, lambda c: calls.append(c.x) or {"value": c.x}, IN_PROCESS.summarize)
    KINDS.add("counting-toy", counting)
    first = run_grid(counting, [Config(x=1), Config(x=2)], store=store)
    again = run_grid(counting, [Config(x=1), Config(x=2), Config(x=3)], store=store)
    assert (first.done, again.stored, again.done, calls) == (2, 2, 1, [1, 2, 3])
    assert [r["result"]["value"] for r in again.records] == [1, 2, 3]


def test_a_runs_records_name_the_commit_it_started_at_not_one_made_while_it_ran(runs_dir, monkeypatch):
    from superalign.engine import record

    head = ["started-at"]
    monkeypatch.setattr(record, "_read_git_revision", lambda: head[0])
    record.git_revision.cache_clear()

    def run_while_committing(config):
        head[0] = "committed-meanwhile"  # someone commits while the run computes
        return {"value": config.x}

    try:
        KINDS.add("committing-toy", Kind("committing-toy", Config, run_while_committing, IN_PROCESS.summarize))
        result = run_grid(KINDS.get("committing-toy"), [Config(x=1), Config(x=2)], store=RunStore())
    finally:
        record.git_revision.cache_clear()
    assert [r["git_revision"] for r in result.records] == ["started-at", "started-at"]


def test_an_out_of_tree_kind_runs_from_the_cli_in_process_pool_and_ray_and_in_the_report(plugin, tmp_path):
    env = {"PYTHONPATH": str(plugin), "SUPERALIGN_HOME": str(tmp_path / "home"), "TOY_LOG": str(tmp_path / "log")}
    spec = tmp_path / "toy.yaml"
    spec.write_text("kind: toy\nx: [1, 2, 3]\nscale: 2\nseeds: 2\n")
    local = cli("run", str(spec), env=env)
    assert local.returncode == 0, local.stderr
    assert "toy values" in local.stdout and "6 runs of kind toy (0 from the store, 6 done now" in local.stderr
    pool = tmp_path / "pool.yaml"
    pool.write_text("kind: toy\nx: [4, 5, 6, 7]\nsleep: 0.2\n")
    pooled = cli("run", str(pool), "--executor", "process", "--jobs", "2", env=env)
    assert pooled.returncode == 0, pooled.stderr
    ray_spec = tmp_path / "ray.yaml"
    ray_spec.write_text("kind: toy\nx: [8, 9]\n")
    rayed = cli("run", str(ray_spec), "--executor", "ray", "--jobs", "2", env=env)
    assert rayed.returncode == 0, rayed.stderr
    store = RunStore(tmp_path / "home" / "runs" / "runs.sqlite")
    records = store.records(kind="toy")
    assert len(records) == 12
    pids = {r["result"]["pid"] for r in records}
    assert len(pids) >= 3  # the CLI's own process, pool workers and Ray workers
    shown = cli("results", "--kind", "toy", "--markdown", env=env)
    assert shown.returncode == 0 and shown.stdout.count("\n| ") >= 12, shown.stderr
    report = cli("report", "--out", str(tmp_path / "report"), env=env)  # a store of the plugin's runs only
    assert report.returncode == 0, report.stderr
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Kind toy" in page and "toy values" in page and page.count("<tr>") >= 13
    failing = tmp_path / "fail.yaml"
    failing.write_text("kind: toy\nx: [-1, 10]\n")
    failed = cli("run", str(failing), env=env)
    assert failed.returncode == 2 and "1 of 2 runs failed" in failed.stderr
    listed = cli("results", "--kind", "toy", "--failed", env=env)
    assert "x must be >= 0" in listed.stdout
    again = cli("run", str(failing), env=env)  # a recorded failure is not retried unless asked
    assert (tmp_path / "log").read_text().count("-1 ") == 1 and again.returncode == 2


DRIVER = '''
import sys
from superalign.engine import load_spec, run_grid
for path in sys.argv[1:]:
    kind, configs, _ = load_spec(path)
    run_grid(kind, configs, executor="process", jobs=2)
'''


def test_sigkill_in_the_middle_of_three_kinds_loses_and_repeats_nothing(plugin, tmp_path):
    """20 runs of three kinds (w2s, toy, toy-square) in a process pool; the driver is SIGKILLed mid-grid and run
    again: every run is stored once, and none that was stored before the kill runs again."""
    env = {**os.environ, "PYTHONPATH": str(plugin), "SUPERALIGN_HOME": str(tmp_path / "home"),
           "TOY_LOG": str(tmp_path / "log")}
    specs = {"w2s.yaml": "kind: w2s\ntask: digits\nweak: pca:4\nstrong: raw\nmethod: [naive, aux-conf]\nseeds: 3\n",
             "toy.yaml": "kind: toy\nx: [1, 2, 3, 4, 5, 6, 7, 8]\nsleep: 0.5\n",
             "square.yaml": "kind: toy-square\nx: [1, 2, 3, 4, 5, 6]\n"}
    for name, text in specs.items():
        (tmp_path / name).write_text(text)
    command = [sys.executable, "-c", DRIVER, *(str(tmp_path / name) for name in specs)]
    store_path = tmp_path / "home" / "runs" / "runs.sqlite"

    def stored() -> dict[str, str]:
        if not store_path.exists():
            return {}
        with sqlite3.connect(store_path) as conn:
            return dict(conn.execute("SELECT config_hash, kind FROM runs WHERE status = 'ok'").fetchall())

    driver = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and not any(kind == "toy" for kind in stored().values()):
        assert driver.poll() is None, driver.stderr.read()
        time.sleep(0.1)
    time.sleep(0.6)  # a few toy runs in, several to go
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    before = stored()
    toy_before = sum(kind == "toy" for kind in before.values())
    assert 1 <= toy_before < 8, "the kill should land in the middle of the toy grid"
    executions_before = (tmp_path / "log").read_text().splitlines()
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    after = stored()
    kinds = sorted(after.values())
    assert (kinds.count("w2s"), kinds.count("toy"), kinds.count("toy-square")) == (6, 8, 6)  # 20, none lost
    executions = (tmp_path / "log").read_text().splitlines()[len(executions_before):]
    rerun = {line.split()[0] for line in executions}
    done_before = {str(x) for x in range(1, 9)} - rerun
    assert len(done_before) >= toy_before  # nothing stored before the kill ran again
    assert len(executions) == len(set(executions)) == 8 - len(done_before)  # and nothing ran twice on resume


def test_ray_runs_the_in_tree_kinds(runs_dir):
    """Weak-to-strong, oversight (scripted judge and debaters) and shutdown agents, each on a local Ray cluster."""
    specs = [{"kind": "w2s", "task": "digits", "weak": "pca:4", "strong": "raw", "method": ["naive", "aux-conf"]},
             {"kind": "oversight", "protocol": ["direct", "debate"], "judge": "mock", "debater": "scripted:forge",
              "items": "bbc-cloze?max_chars=900", "n": 3, "rounds": 1},
             {"kind": "shutdown", "part": "tabular", "reward": ["drest", "default"], "train_layouts": [["example"]],
              "meta_episodes": 5, "eval_episodes": 5}]
    for spec in specs:
        kind, configs = expand(spec)
        result = run_grid(kind, configs, executor="ray", jobs=2)
        assert (result.done, result.failed) == (2, 0), (kind.name, result.failures)
        assert kind.summarize(result.records).rows


def test_every_example_spec_with_a_kind_validates():
    """Every `kind:` YAML under examples/ is a valid spec of an installed kind (the docs point at them)."""
    import yaml

    from superalign.engine import load_spec

    specs = [p for p in sorted(EXAMPLES.rglob("*.yaml")) if "kind" in (yaml.safe_load(p.read_text()) or {})]
    kinds = set()
    for path in specs:
        kind, configs, _ = load_spec(path)
        assert configs, path
        kinds.add(kind.name)
    assert kinds >= {"w2s", "shutdown", "oversight", "alc", "probe-backdoor", "probe-deception", "eval-consistency",
                     "researcher"}, kinds


def test_pool_workers_run_numerical_libraries_on_one_thread(plugin, tmp_path):
    """Two workers on two cores each with a BLAS thread per core ran slower than one worker: the limit must be in
    the environment a worker inherits, since it loads numpy before its initializer runs."""
    env = {"PYTHONPATH": str(plugin), "SUPERALIGN_HOME": str(tmp_path / "home")}
    spec = tmp_path / "threads.yaml"
    spec.write_text("kind: toy-threads\nx: [1, 2, 3, 4]\n")
    done = cli("run", str(spec), "--executor", "process", "--jobs", "2", env=env)
    assert done.returncode == 0, done.stderr
    records = RunStore(tmp_path / "home" / "runs" / "runs.sqlite").records(kind="toy-threads")
    assert len(records) == 4 and {r["result"]["blas"] for r in records} == {1}


def test_ray_reserves_each_runs_own_gpus_where_its_kind_says(monkeypatch):
    """The w2s kind asks a GPU (SUPERALIGN_GPUS_PER_RUN) for runs whose method trains a model and none for probes;
    the Ray executor passes that to each task's options (checked on the options, as this machine has no GPU)."""
    from superalign.engine.executors import _with_resources
    from superalign.settings import configure

    kind = KINDS.get("w2s")
    configure(gpus_per_run=1)
    assert kind.resources({"method": "lora-rm"}) == {"cpus": 1.0, "gpus": 1.0}
    assert kind.resources({"method": "naive"}) == {"cpus": 1.0, "gpus": 0.0}
    configure()
    assert kind.resources({"method": "lora-rm"})["gpus"] == 0.0  # the default: on CPUs

    class Remote:
        def options(self, **options):
            self.chosen = options
            return self

    remote = Remote()
    assert _with_resources(remote, None, {"method": "naive"}) is remote and not hasattr(remote, "chosen")
    _with_resources(remote, lambda config: {"cpus": 2.0, "gpus": 0.5}, {})
    assert remote.chosen == {"num_cpus": 2.0, "num_gpus": 0.5}
