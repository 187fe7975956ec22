"""The sandbox's entry point: installs the audit hook, then runs the script.

    python -I -B -m superalign.sandbox.guard --events-fd N --workspace W [--read-root R ...] -- script.py ARGS

Every refused operation is reported as one JSON line on the events pipe (the parent reads it; the code can
append to it but not take anything back) and raised as PermissionError in the code that attempted it.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys

from superalign.sandbox.policy import check, under

_MAX_EVENTS = 200
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PROCESS_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
                   "os.forkpty", "pty.spawn")
_NETWORK_EVENTS = ("socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
                   "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "urllib.Request")
# (event, indices of its path arguments) for file operations that write
_WRITE_EVENTS = {"os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.mkdir": (0,), "os.link": (0, 1),
                 "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,), "shutil.rmtree": (0,),
                 "shutil.copyfile": (1,), "shutil.move": (0, 1)}


def install(events_fd: int, workspace: str, read_roots: list[str], protected: list[str]) -> None:
    workspace = os.path.realpath(workspace)
    count = [0]

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
        path = os.fsdecode(path)
        kind = check(path, write, workspace, read_roots, protected)
        if kind == "write-outside" and any(under(os.path.realpath(path), r) for r in read_roots):
            kind = "tamper"  # writing the interpreter's packages: superalign, its evaluator, the libraries
        return kind

    def hook(event: str, args: tuple) -> None:
        if event == "open":
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

    sys.addaudithook(hook)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--read-root", action="append", default=[])
    parser.add_argument("--protected", action="append", default=[])
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args()
    script = os.path.realpath(ns.script)
    sys.argv = [script, *ns.args]
    sys.path[0:0] = [os.path.dirname(script)]
    install(ns.events_fd, ns.workspace, ns.read_root, [os.path.realpath(p) for p in ns.protected])
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
