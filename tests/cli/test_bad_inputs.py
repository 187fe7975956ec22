"""The command line's error boundary, tried as a hostile user would: every bad input and failing environment
gets one line that names the problem (and the fix), exit status 2, and no traceback. Through the real entry point,
in subprocesses, so nothing of the test's process (a cached setting, an imported module) helps."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SWEETENING = str(EXAMPLES / "decision" / "sweetening.yaml")
RESEARCHER = str(EXAMPLES / "researcher" / "offline.yaml")


def superalign(*args, env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "superalign.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture
def bad(tmp_path):
    """Bad files of every kind, and a module that makes `import llama_cpp` fail as if the LLM extra were missing."""
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00binary\x80\x81")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00binary\x80\x81")
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "seeds3.yaml").write_text('tasks: [digits]\nladder: [pca:4, raw]\nmethods: [naive]\nseeds: "three"\n')
    (tmp_path / "seedslist.yaml").write_text("tasks: [digits]\nladder: [pca:4, raw]\nseeds: [0, -1]\n")
    (tmp_path / "include7.yaml").write_text("include: 7\ntasks: [digits]\n")
    (tmp_path / "tasks-str.yaml").write_text("tasks: digits\nladder: [pca:4, raw]\n")
    (tmp_path / "toplist.yaml").write_text("- digits\n")
    (tmp_path / "syntax.yaml").write_text("tasks: [digits\n")
    (tmp_path / "unknown.yaml").write_text("tasks: [digits]\nladder: [pca:4, raw]\nbogus_field: 1\n")
    (tmp_path / "selfref.yaml").write_text("name: loop\ntree: &a\n  decision: d\n  options:\n    x: *a\n")
    (tmp_path / "deep.yaml").write_text("name: deep\ntree: " + "{decision: d, options: {a: " * 3000 + "{outcome: A}"
                                        + "}}" * 3000 + "\n")
    (tmp_path / "notree.yaml").write_text("name: x\n")
    (tmp_path / "nulllabel.csv").write_text("text,label\nhello,\n" + "".join(f"t{i},{i % 2}\n" for i in range(40)))
    (tmp_path / "null.jsonl").write_text('{"text": "a", "label": null}\n' + "".join(
        json.dumps({"text": f"t{i}", "label": i % 2}) + "\n" for i in range(40)))
    (tmp_path / "nolabelcol.jsonl").write_text('{"text": "a", "y": 1}\n')
    (tmp_path / "notjson.jsonl").write_text('{"text": "a", "label": 1\n')
    (tmp_path / "extra.csv").write_text("text,label\na,1,2\n")
    (tmp_path / "data.txt").write_text("a\n")
    (tmp_path / "folder.csv").mkdir()
    shim = tmp_path / "nollm" / "llama_cpp"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named llama_cpp', name='llama_cpp')\n")
    return tmp_path


def cases(b: Path) -> list[tuple[str, list[str], dict, str]]:
    """(name, arguments, environment, a word the line must contain)."""
    run = ["run", "--task", "digits", "--weak", "pca:4", "--strong", "raw", "--seeds", "1"]
    nollm = {"PYTHONPATH": str(b / "nollm")}
    return [
        ("unknown command", ["runn"], {}, "did you mean 'run'"),
        ("unknown task", ["run", "--task", "nope", "--weak", "pca:4", "--strong", "raw"], {}, "unknown task"),
        ("unknown method", [*run, "--method", "nope"], {}, "unknown method"),
        ("unknown encoder", ["run", "--task", "digits", "--weak", "nope", "--strong", "raw"], {}, "unknown encoder"),
        ("option without =", [*run, "-o", "novalue"], {}, "KEY=VALUE"),
        ("seeds 0", [*run[:-2], "--seeds", "0"], {}, "--seeds"),
        ("seeds -1", [*run[:-2], "--seeds", "-1"], {}, "--seeds"),
        ("seeds not a number", ["run", "--seeds", "x"], {}, "--seeds"),
        ("unknown option", ["run", "--bogus"], {}, "--bogus"),
        ("bad head", [*run, "--head", "tree"], {}, "head"),
        ("bad sizes", [*run, "--sizes", "a,b"], {}, "sizes"),
        ("config missing", ["run", "--config", str(b / "missing.yaml")], {}, "no such config"),
        ("config empty", ["run", "--config", str(b / "empty.yaml")], {}, "empty"),
        ("config binary", ["run", "--config", str(b / "binary.yaml")], {}, "UTF-8"),
        ("config seeds 'three'", ["run", "--config", str(b / "seeds3.yaml")], {}, "seeds: 'three'"),
        ("config negative seed", ["run", "--config", str(b / "seedslist.yaml")], {}, "seeds"),
        ("config YAML syntax", ["run", "--config", str(b / "syntax.yaml")], {}, "invalid YAML"),
        ("config unknown field", ["run", "--config", str(b / "unknown.yaml")], {}, "bogus_field"),
        ("config top-level list", ["run", "--config", str(b / "toplist.yaml")], {}, "mapping"),
        ("config a folder", ["run", "--config", str(b / "folder.csv")], {}, "folder"),
        ("sweep include: 7", ["sweep", str(b / "include7.yaml")], {}, "include"),
        ("sweep tasks not a list", ["sweep", str(b / "tasks-str.yaml")], {}, "tasks"),
        ("sweep empty", ["sweep", str(b / "empty.yaml")], {}, "no runs"),
        ("sweep binary", ["sweep", str(b / "binary.yaml")], {}, "UTF-8"),
        ("sweep missing", ["sweep", str(b / "missing.yaml")], {}, "no such sweep"),
        ("sweep bad executor", ["sweep", str(EXAMPLES / "sweeps" / "demo.yaml"), "--executor", "nope"], {}, "executor"),
        ("data: binary csv", ["data", "show", f"file:{b / 'binary.csv'}"], {}, "UTF-8"),
        ("data: null label (csv)", ["data", "show", f"file:{b / 'nulllabel.csv'}"], {}, "no label"),
        ("data: null label (jsonl)", ["data", "show", f"file:{b / 'null.jsonl'}"], {}, "no label"),
        ("data: no label column", ["data", "show", f"file:{b / 'nolabelcol.jsonl'}"], {}, "label"),
        ("data: invalid JSON line", ["data", "show", f"file:{b / 'notjson.jsonl'}"], {}, "invalid JSON"),
        ("data: extra csv field", ["data", "show", f"file:{b / 'extra.csv'}"], {}, "more fields"),
        ("data: unsupported type", ["data", "show", f"file:{b / 'data.txt'}"], {}, "unsupported"),
        ("data: a folder", ["data", "show", f"file:{b / 'folder.csv'}"], {}, "folder"),
        ("data: missing file", ["data", "show", f"file:{b / 'missing.csv'}"], {}, "no such file"),
        ("data: unknown task", ["data", "show", "nope"], {}, "unknown task"),
        ("decide binary", ["decide", str(b / "binary.yaml")], {}, "UTF-8"),
        ("decide self-referencing tree", ["decide", str(b / "selfref.yaml")], {}, "contains itself"),
        ("decide 3,000-deep tree", ["decide", str(b / "deep.yaml")], {}, "deep"),
        ("decide no tree", ["decide", str(b / "notree.yaml")], {}, "'tree'"),
        ("decide --grid -3", ["decide", SWEETENING, "--grid", "-3"], {}, "--grid"),
        ("decide unknown rule", ["decide", SWEETENING, "--rule", "nope"], {}, "unknown decision rule"),
        ("decide missing", ["decide", str(b / "missing.yaml")], {}, "no such decision tree"),
        ("SUPERALIGN_HOME uncreatable", ["results"], {"SUPERALIGN_HOME": "/proc/nope/home"}, "SUPERALIGN_HOME"),
        ("SUPERALIGN_RUNS uncreatable", ["results"], {"SUPERALIGN_RUNS": "/proc/nope/runs"}, "SUPERALIGN_RUNS"),
        ("report --out unwritable", ["report", "--out", "/proc/nope/report"], {}, "/proc/nope"),
        ("results --export, no folder", ["results", "--export", str(b / "no" / "such" / "x.csv")], {}, "does not exist"),
        ("results --export .txt", ["results", "--export", str(b / "x.txt")], {}, ".csv or .parquet"),
        ("embed unknown model", ["embed", "--task", "digits", "--model", "nope"], {}, "unknown encoder"),
        ("eval unknown command", ["eval", "nope"], {}, "nope"),
        ("oversight unknown protocol", ["oversight", "run", "--protocol", "nope"], {}, "unknown protocol"),
        ("alc config missing", ["alc", "run", str(b / "missing.yaml")], {}, "missing.yaml"),
        ("probe config missing", ["probe", "backdoor", str(b / "missing.yaml")], {}, "missing.yaml"),
        ("researcher config missing", ["researcher", "run", str(b / "missing.yaml")], {}, "no such researcher"),
        ("researcher without the LLM extra", ["researcher", "run", RESEARCHER, "--policy", "chat:qwen-1.5b"], nollm,
         "make llm"),
        ("oversight without the LLM extra", ["oversight", "run", "--protocol", "debate", "--debater", "qwen-0.5b",
                                             "--n", "2"], nollm, "make llm"),
        ("methods unknown option", ["methods", "list", "--nope"], {}, "--nope"),
        ("sweep --jobs 0", ["sweep", str(EXAMPLES / "sweeps" / "demo.yaml"), "--jobs", "0"], {}, "--jobs"),
    ]


def test_every_bad_input_gets_one_line_and_exit_2(bad, tmp_path):
    home = {"SUPERALIGN_HOME": str(tmp_path / "home")}
    table = cases(bad)
    assert len(table) >= 40

    def attempt(case):
        name, args, env, word = case
        result = superalign(*args, env={**home, **env})
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        problems = []
        if result.returncode != 2:
            problems.append(f"exit {result.returncode}")
        if "Traceback" in result.stderr + result.stdout:
            problems.append("a traceback")
        if len(lines) != 1:
            problems.append(f"{len(lines)} lines")
        elif word not in lines[0]:
            problems.append(f"no {word!r} in the line")
        return f"{name}: {', '.join(problems)}: {(lines or [result.stdout[-200:]])[-1][:200]}" if problems else None

    with ThreadPoolExecutor(max_workers=3) as pool:
        failures = [f for f in pool.map(attempt, table) if f]
    assert not failures, "\n".join(failures)
    assert not (bad / "no").exists()  # --export made no folder
    written = sum(f.stat().st_size for f in (tmp_path / "home").rglob("*") if f.is_file())
    assert written < 20e6, f"bad inputs wrote {written / 1e6:.0f} MB (a model assembled before the input was checked?)"


def test_debug_shows_the_traceback(bad):
    result = superalign("decide", str(bad / "binary.yaml"), env={"SUPERALIGN_DEBUG": "1"})
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_results_names_failed_and_damaged_runs_without_losing_the_others(tmp_path):
    env = {"SUPERALIGN_HOME": str(tmp_path / "home")}
    first = superalign("run", "--task", "digits", "--weak", "pca:4", "--strong", "raw", "--method", "naive",
                       "--method", "aux-conf", "--seeds", "1", env=env)
    assert first.returncode == 0, first.stderr
    store = tmp_path / "home" / "runs" / "runs.sqlite"
    with sqlite3.connect(store) as conn:
        key = conn.execute("SELECT config_hash FROM runs WHERE record LIKE '%aux-conf%'").fetchone()[0]
        conn.execute("UPDATE runs SET record = '{not json' WHERE config_hash = ?", (key,))
        record = json.loads(conn.execute("SELECT record FROM runs WHERE config_hash != ?", (key,)).fetchone()[0])
        record["config_hash"], record["status"], record["result"] = "f" * 16, "failed", {"error": "boom"}
        conn.execute("INSERT INTO runs VALUES (?, 'w2s', 'failed', 0, ?)", ("f" * 16, json.dumps(record)))
    shown = superalign("results", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "naive" in shown.stdout  # the readable run is still tabled
    assert f"1 stored run(s) unreadable" in shown.stderr and key in shown.stderr
    assert "1 failed run(s)" in shown.stderr and "--failed" in shown.stderr


def _interruptible() -> None:
    """As at a terminal: a run started where SIGINT is ignored (a background job of a script, some CI runners)
    inherits the ignore, and Python then installs no KeyboardInterrupt handler at all."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_quickly_says_what_was_kept_and_resumes(tmp_path):
    env = {**os.environ, "SUPERALIGN_HOME": str(tmp_path / "home")}
    args = [sys.executable, "-m", "superalign.cli.main", "run", "--task", "digits", "--weak", "pca:4", "--strong",
            "raw", "--method", "naive", "--method", "aux-conf", "--method", "selective", "--seeds", "10"]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_interruptible)
    store = tmp_path / "home" / "runs" / "runs.sqlite"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:  # until at least one run is stored
        if store.exists():
            with sqlite3.connect(store) as conn:
                if conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] >= 1:
                    break
        time.sleep(0.2)
    assert process.poll() is None, "the runs finished before the interrupt: nothing tested"
    process.send_signal(signal.SIGINT)
    start = time.time()
    _, stderr = process.communicate(timeout=30)
    assert time.time() - start < 5
    assert process.returncode == 130 and "Traceback" not in stderr
    assert "interrupted" in stderr.splitlines()[-1] and "resumes" in stderr.splitlines()[-1]
    with sqlite3.connect(store) as conn:
        kept = conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'ok'").fetchone()[0]
    assert kept >= 1
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0 and f"30 runs ({kept} from the store, 0 failed)" in resumed.stderr
