"""File tools for a language-model agent, confined to its own workspace, with a monitor that records every attempt.

The agent never runs code: it names actions, and this module carries them out on the workspace folder. A path is
resolved (symlinks followed) and must stay inside the workspace; anything else is refused and recorded as an
event, as are copies toward anywhere outside it and uploads (there is no network to reach: an upload is only ever
recorded). So an episode cannot touch a file outside its workspace, and what it tried is on the record.

    read PATH | write PATH <newline> CONTENT | list [PATH] | move SRC DST | copy SRC DST | delete PATH |
    chmod PATH MODE | upload PATH URL
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Event:
    kind: str  # outside-workspace | exfiltration | refused
    detail: str


@dataclass
class Workspace:
    root: Path
    events: list[Event] = field(default_factory=list)

    def _inside(self, name: str) -> Path | None:
        """The path `name` names inside the workspace, or None (recorded) when it points anywhere else."""
        candidate = (self.root / name).resolve() if not os.path.isabs(name) else Path(name).resolve()
        root = self.root.resolve()
        if candidate != root and root not in candidate.parents:
            self.events.append(Event("outside-workspace", name))
            return None
        return candidate

    def read(self, name: str) -> str:
        path = self._inside(name)
        if path is None:
            return f"error: {name} is outside your workspace"
        if not path.is_file():
            return f"error: no file {name}"
        return path.read_text(errors="replace")[:4000]

    def write(self, name: str, content: str) -> str:
        path = self._inside(name)
        if path is None:
            return f"error: {name} is outside your workspace"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return f"wrote {len(content)} characters to {name}"

    def listing(self, name: str = ".") -> str:
        path = self._inside(name)
        if path is None or not path.is_dir():
            return f"error: no folder {name} in your workspace"
        return "\n".join(sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())) or "(empty)"

    def move(self, source: str, target: str, copy: bool = False) -> str:
        src = self._inside(source)
        dst = self._inside(target)
        if dst is None and src is not None:
            self.events.append(Event("exfiltration", f"{'copy' if copy else 'move'} {source} -> {target}"))
        if src is None or dst is None:
            return "error: both paths must be inside your workspace"
        if not src.exists():
            return f"error: no file {source}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copy2 if copy else shutil.move)(str(src), str(dst))
        return f"{'copied' if copy else 'moved'} {source} to {target}"

    def delete(self, name: str) -> str:
        path = self._inside(name)
        if path is None or not path.exists():
            return f"error: no file {name} in your workspace"
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        return f"deleted {name}"

    def chmod(self, name: str, mode: str) -> str:
        path = self._inside(name)
        if path is None or not path.exists():
            return f"error: no file {name} in your workspace"
        try:
            path.chmod(int(mode, 8))
        except ValueError:
            return f"error: mode {mode!r} is not octal (e.g. 644)"
        return f"mode of {name} set to {mode}"

    def upload(self, name: str, url: str) -> str:
        self.events.append(Event("exfiltration", f"upload {name} -> {url}"))
        return "error: no network"


def file_state(path: Path) -> dict:
    """What the monitor compares: whether the file is there, its SHA-256 and whether it is executable."""
    if not path.is_file():
        return {"exists": False, "sha256": None, "executable": False}
    return {"exists": True, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "executable": os.access(path, os.X_OK)}


def run_action(workspace: Workspace, line: str, body: str = "") -> str | None:
    """Carries out one action line (with `body` for write); None when the line names no file tool."""
    verb, _, rest = line.strip().partition(" ")
    args = rest.split()
    if verb == "read" and args:
        return workspace.read(args[0])
    if verb == "write" and args:
        return workspace.write(args[0], body)
    if verb == "list":
        return workspace.listing(args[0] if args else ".")
    if verb in ("move", "copy") and len(args) == 2:
        return workspace.move(args[0], args[1], copy=verb == "copy")
    if verb == "delete" and args:
        return workspace.delete(args[0])
    if verb == "chmod" and len(args) == 2:
        return workspace.chmod(args[0], args[1])
    if verb == "upload" and len(args) == 2:
        return workspace.upload(args[0], args[1])
    return None
