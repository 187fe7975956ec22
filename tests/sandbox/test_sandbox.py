"""The sandbox: what it lets code do (numpy, scikit-learn, its workspace) and what it refuses and reports."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from superalign.errors import SuperalignError
from superalign.sandbox.isolation import isolated_command, seccomp_program
from superalign.sandbox.method_file import run_method_file
from superalign.sandbox.policy import Policy, check, interpreter
from superalign.sandbox.runner import Limits, run_python


def _run(tmp_path, code, limits=None, protected=()):
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    script = workspace / "script.py"
    script.write_text(textwrap.dedent(code))
    return run_python(script, Policy(workspace, protected=[str(p) for p in protected]), limits=limits)


def test_ordinary_code_runs_without_a_single_refusal(tmp_path):
    result = _run(tmp_path, """
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        x = np.random.default_rng(0).normal(size=(60, 3)); y = (x[:, 0] > 0).astype(int)
        print(LogisticRegression().fit(x, y).score(x, y))
        open("notes.txt", "w").write("inside the workspace")
    """)
    assert result.ok, result.stderr
    assert result.events == []
    assert float(result.stdout) > 0.9
    assert (tmp_path / "workspace" / "notes.txt").read_text() == "inside the workspace"


def test_escapes_are_refused_and_reported(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    labels = outside / "test_labels.csv"
    labels.write_text("id,label\n0,1\n")
    evaluator = tmp_path / "evaluator"
    evaluator.mkdir()
    (evaluator / "score.json").write_text("{}")
    result = _run(tmp_path, f"""
        import os, socket, subprocess
        attempts = {{
            "network": lambda: socket.create_connection(("127.0.0.1", 9), timeout=1),
            "dns": lambda: socket.getaddrinfo("pypi.org", 443),
            "test labels": lambda: open({str(labels)!r}).read(),
            "write outside": lambda: open({str(outside / 'planted.py')!r}, "w"),
            "evaluator": lambda: open({str(evaluator / 'score.json')!r}, "w"),
            "process": lambda: subprocess.run(["cat", "/etc/hostname"]),
            "symlink": lambda: os.symlink({str(labels)!r}, "labels.csv"),
            "rename out": lambda: os.rename("script.py", {str(outside / 'moved.py')!r}),
        }}
        for name, attempt in attempts.items():
            try:
                attempt()
                print(name, "ALLOWED")
            except PermissionError:
                print(name, "refused")
    """, protected=[evaluator])
    assert result.ok, result.stderr
    assert "ALLOWED" not in result.stdout, result.stdout
    kinds = [e["kind"] for e in result.events]
    assert kinds.count("network") == 2 and "process" in kinds and "protected" in kinds
    assert "data" in kinds  # the label file: a data file outside the workspace
    assert kinds.count("write-outside") == 3  # planted file, symlink, rename
    assert not (outside / "planted.py").exists() and (evaluator / "score.json").read_text() == "{}"


def _without_the_hook(tmp_path, code: str) -> subprocess.CompletedProcess:
    """Code run under the operating-system layer alone (no audit hook): what holds below Python."""
    workspace = tmp_path / "bare"
    workspace.mkdir(exist_ok=True)
    program = seccomp_program()
    command = isolated_command(Policy(workspace), [interpreter(), "-I", "-c", textwrap.dedent(code)], program.fileno())
    try:
        return subprocess.run(command, pass_fds=(program.fileno(),), capture_output=True, text=True, timeout=60)
    finally:
        program.close()


def test_network_is_cut_below_python_too(tmp_path):
    """A network namespace of its own (loopback only, down) and a seccomp filter that refuses Internet sockets."""
    result = _without_the_hook(tmp_path, """
        import socket
        print(open('/proc/net/dev').read())
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as exc:
            print("refused", exc.errno)
    """)
    assert result.returncode == 0, result.stderr
    assert "lo:" in result.stdout and "eth" not in result.stdout
    assert "refused 97" in result.stdout  # EAFNOSUPPORT


def test_cpu_and_memory_limits_stop_runaway_code(tmp_path):
    spin = _run(tmp_path, "while True: pass", limits=Limits(cpu_seconds=1, wall_seconds=30))
    assert not spin.ok and spin.returncode != 0 and not spin.timed_out  # the CPU limit, not the wall clock
    hog = _run(tmp_path, "x = bytearray(3 * 1024 ** 3)", limits=Limits(memory_mb=512))
    assert not hog.ok and "MemoryError" in hog.stderr


def test_no_secret_of_the_parent_environment_reaches_the_code(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    result = _run(tmp_path, "import os; print(sorted(os.environ.items()))")
    assert result.ok and "sk-very-secret" not in result.stdout


def test_policy_decisions():
    ws, roots = "/work/ws", [os.path.dirname(np.__file__)]
    assert check("/work/ws/methods/a.py", True, ws, roots, []) is None
    assert check("/work/ws/../labels.csv", False, ws, roots, []) == "data"
    assert check(np.__file__, False, ws, roots, []) is None
    assert check(np.__file__, True, ws, roots, []) == "write-outside"
    assert check("/work/ws/x", False, ws, roots, ["/work/ws/x"]) is None  # the workspace wins: it lies inside the protected home
    assert check("/etc/shadow", False, ws, roots, []) == "read-outside"


def test_a_method_file_sees_no_labels_and_must_return_probabilities(tmp_path):
    method = tmp_path / "m.py"
    method.write_text("import numpy as np\n"
                      "def fit_predict(transfer_x, transfer_weak, val_x, val_weak, query_x, n_classes, seed, **o):\n"
                      "    assert set(o) == {'scale'}\n"
                      "    return np.full((len(query_x), n_classes), 1.0 / n_classes)\n")
    arrays = {"transfer_x": np.zeros((5, 2)), "transfer_weak": np.full((5, 2), 0.5), "val_x": np.zeros((3, 2)),
              "val_weak": np.full((3, 2), 0.5), "query_x": np.zeros((4, 2))}
    run = run_method_file(method, arrays, 2, 0, {"scale": 1}, contract=True)
    assert run.ok and run.probabilities.shape == (4, 2)
    assert run.report["checks"] == ["imports", "probabilities", "deterministic"]
    method.write_text("import numpy as np\ndef fit_predict(query_x, **kw):\n    return np.ones((len(query_x), 3))\n")
    bad = run_method_file(method, arrays, 2, 0, contract=True)
    assert not bad.ok and "shape" in bad.error()
    with pytest.raises(SuperalignError, match="changed"):
        run_method_file(method, arrays, 2, 0, sha256="0" * 64)


def test_a_file_method_is_keyed_on_its_content(tmp_path):
    """`file:PATH` needs the file's hash (it keys the run store), and the error line gives it."""
    from superalign.io import file_sha256
    from superalign.w2s.method import METHODS, method_config

    method = tmp_path / "m.py"
    method.write_text("def fit_predict(**kw):\n    pass\n")
    name = f"file:{method}"
    with pytest.raises(SuperalignError, match=f"sha256={file_sha256(method)}"):
        method_config(name, {})
    assert method_config(name, {"sha256": file_sha256(method)}).sha256 == file_sha256(method)
    assert METHODS.get(name).budget == "weak-labels"


def test_without_bubblewrap_model_code_refuses_to_run_with_one_line(tmp_path, monkeypatch):
    """No silent fallback to the hook alone."""
    from superalign.sandbox import isolation

    monkeypatch.setattr(isolation.shutil, "which", lambda name: None)
    isolation.isolation_problem.cache_clear()
    try:
        with pytest.raises(SuperalignError, match="bubblewrap is missing: install bubblewrap") as error:
            _run(tmp_path, "print('never')")
        assert "\n" not in str(error.value)
    finally:
        isolation.isolation_problem.cache_clear()
