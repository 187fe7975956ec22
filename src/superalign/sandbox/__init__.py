"""Run code written by a model under operating-system isolation, with a monitor that records what it tried.

    result = run_python(workspace / "analysis.py", Policy(workspace))
    result.returncode, result.stdout, result.events   # events: what the monitor refused (and reported)

Two layers:
  * the operating system (`superalign.sandbox.isolation`): bubblewrap namespaces (mount: only the interpreter,
    the allowed packages with their bundled data masked, and the workspace exist; user: nobody, no
    capabilities; network: none; pid: every process dies with the call), a seccomp filter (no new processes, no
    Internet sockets, no ptrace/mount/unshare ...), and resource limits. This is what blocks.
  * an audit hook (PEP 578, `superalign.sandbox.guard`) inside the interpreter, which refuses and reports every
    file, socket, process, ctypes and introspection step outside the policy. This is what records.
Where bubblewrap or user namespaces are missing, nothing runs: one line says what to install.
"""
