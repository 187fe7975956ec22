"""Run code written by a model: a subprocess with no network, CPU-time, memory and file-size limits, write access
only to its workspace, no data files outside it, and a monitor that records every attempt to step outside.

    result = run_python(workspace, "analysis.py", policy=Policy(workspace=workspace))
    result.returncode, result.stdout, result.events   # events: what the monitor flagged (and blocked)

Two layers, because each alone leaves a gap:
  * the operating system: resource limits (`setrlimit`) and, where user namespaces are available, a private
    network namespace with no interfaces (`unshare -rn`), so even native code cannot reach the network;
  * an audit hook installed before the code runs (`superalign.sandbox.guard`, PEP 578): every `open`, socket,
    subprocess, `os.remove`/`rename`/`symlink` ... is checked against the policy, refused with PermissionError,
    and reported to the parent through a pipe the code cannot rewind. Native code (a C extension, ctypes) can
    bypass the hook's file checks; the limits and the network namespace still hold. See the README's limits.
"""
