"""The sandbox's entry point inside the isolation layer: installs the audit hook, then runs the script.

    python -I -B .../sandbox/guard.py --events-fd N --workspace W [--read-root R ...] [--path P ...] script.py ARGS

Every refused operation is reported as one JSON line on the events pipe (the parent reads it; the code can
append to it but not take anything back) and raised as PermissionError in the code that attempted it.

The hook is the second layer, the one that reports: code in the same interpreter can in principle unhook it, so
what is blocked does not depend on it (the mounts, namespaces and seccomp filter of `isolation` do that). It also
refuses the known first steps of unhooking (walking the garbage collector's object graph to reach its closure,
re-importing `_posixsubprocess`, looking up libc's process and file calls through ctypes) so that an attempt is
recorded even where it would have been blocked anyway.

Started as a script, not as `-m superalign.sandbox.guard`: superalign itself is not visible in the sandbox.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from policy import check, under  # noqa: E402  (this folder is mounted alone: superalign is not importable)

del sys.path[0]

_MAX_EVENTS = 200
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PROCESS_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
                   "os.forkpty", "pty.spawn")
_NETWORK_EVENTS = ("socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
                   "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "urllib.Request")
# Reaching other objects through the collector is how the hook's own closure was swapped out.
_INTROSPECTION_EVENTS = ("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                         "sys.setprofile", "sys.settrace", "sys._setprofileallthreads", "sys._settraceallthreads")
# libc calls that native code would use to get around the hook: looked up through ctypes.dlsym.
_NATIVE_CALLS = {"syscall", "fork", "vfork", "clone", "clone3", "execve", "execv", "execvp", "execl", "posix_spawn",
                 "system", "popen", "open", "open64", "openat", "openat64", "creat", "fopen", "fopen64", "socket",
                 "connect", "ptrace", "unshare", "setns", "mount", "prctl", "seccomp", "dlopen", "mprotect",
                 "rename", "unlink", "symlink", "link", "chmod", "chdir", "chroot"}
# Modules that only exist to start processes: importing them afresh (after the guard hid them) is refused.
_PROCESS_MODULES = ("_posixsubprocess", "_ctypes_test")
# (event, indices of its path arguments) for file operations that write
_WRITE_EVENTS = {"os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.mkdir": (0,), "os.link": (0, 1),
                 "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,), "shutil.rmtree": (0,),
                 "shutil.copyfile": (1,), "shutil.move": (0, 1)}


def install(events_fd: int, workspace: str, read_roots: list[str], protected: list[str]) -> None:
    import pathlib

    workspace = os.path.realpath(workspace)
    count = [0]
    inside = [False]  # the hook's own attribute reads raise audit events too: those are not checked again
    plain_paths = (str, bytes, pathlib.PosixPath, pathlib.PurePosixPath)

    def report(kind: str, event: str, detail: str) -> None:
        count[0] += 1
        if count[0] <= _MAX_EVENTS:
            line = json.dumps({"kind": kind, "event": event, "detail": detail[:300]}) + "\n"
            try:
                os.write(events_fd, line.encode())
            except OSError:
                pass
        raise PermissionError(f"sandbox: {kind} refused ({event} {detail[:120]})")

    def path_kind(path, write: bool) -> str | None:
        if isinstance(path, int):  # an already-open descriptor
            return None
        if type(path) not in plain_paths:  # a __fspath__ of the code's own would run inside the hook
            return "tamper"
        path = os.fsdecode(os.fspath(path))
        kind = check(path, write, workspace, read_roots, protected)
        if kind == "write-outside" and any(under(os.path.realpath(path), r) for r in read_roots):
            kind = "tamper"  # writing the interpreter's packages: superalign, its evaluator, the libraries
        return kind

    def ours(traceback) -> bool:
        inside[0] = True
        try:
            return traceback.tb_frame.f_code in own_code
        finally:
            inside[0] = False

    def hook(event: str, args: tuple) -> None:
        if inside[0]:
            return
        if event == "object.__getattr__" and args[1] == "tb_frame" and ours(args[0]):
            # the frames of a refusal lead to this hook's closure; formatting a traceback does not need them
            report("tamper", event, "a frame of the sandbox's monitor")
        elif event == "open":
            path, mode, flags = args
            if path is None:
                return
            write = bool(mode and any(c in mode for c in "wax+")) or bool((flags or 0) & _WRITE_FLAGS)
            if kind := path_kind(path, write):
                report(kind, event, f"{os.fsdecode(path)} ({'write' if write else 'read'})")
        elif event in _WRITE_EVENTS:
            for i in _WRITE_EVENTS[event]:
                if i < len(args) and args[i] is not None and (kind := path_kind(args[i], True)):
                    report(kind, event, os.fsdecode(args[i]))
        elif event == "os.symlink":
            report("write-outside", event, f"{args[0]} -> {args[1]}")  # a link is a way out of the workspace
        elif event.startswith(_NETWORK_EVENTS):  # every socket, local ones too: they reach servers on the host
            report("network", event, repr(args[1:3] if event == "socket.__new__" else args[:2]))
        elif event.startswith(_PROCESS_EVENTS):
            report("process", event, repr(args[:2])[:200])
        elif event == "ctypes.dlopen" and args and isinstance(args[0], str) and os.sep in args[0]:
            if kind := path_kind(args[0], False):
                report(kind, event, args[0])
        elif event == "ctypes.dlsym" and len(args) > 1 and isinstance(args[1], str) and args[1] in _NATIVE_CALLS:
            report("native", event, args[1])
        elif event in _INTROSPECTION_EVENTS:
            report("tamper", event, "the sandbox's monitor is not for inspecting")
        elif event == "import" and args and args[0] in _PROCESS_MODULES:
            report("process", event, args[0])
        elif event == "sys.addaudithook":
            report("tamper", event, "no second audit hook")

    own_code = {hook.__code__, report.__code__, path_kind.__code__, ours.__code__}
    sys.addaudithook(hook)
    # `subprocess` has already imported _posixsubprocess for its own use; calling fork_exec directly started
    # detached processes. Its module is replaced by one whose fork_exec reports, and a fresh import is refused.
    import types

    stub = types.ModuleType("_posixsubprocess")

    def fork_exec(*args, **kwargs):
        report("process", "_posixsubprocess.fork_exec", repr(args[:1])[:200])

    stub.fork_exec = fork_exec
    sys.modules["_posixsubprocess"] = stub
    if "subprocess" in sys.modules:
        sys.modules["subprocess"]._posixsubprocess = stub


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--read-root", action="append", default=[])
    parser.add_argument("--protected", action="append", default=[])
    parser.add_argument("--path", action="append", default=[])  # the folders holding the allowed packages
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args()
    script = os.path.realpath(ns.script)
    sys.argv = [script, *ns.args]
    sys.path[0:0] = [os.path.dirname(script)]
    sys.path += [p for p in ns.path if p not in sys.path]
    install(ns.events_fd, ns.workspace, ns.read_root, [os.path.realpath(p) for p in ns.protected])
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
