"""The operating-system layer of the sandbox: bubblewrap (the namespace tool Flatpak uses) starts the code in
namespaces of its own, and a seccomp filter narrows the system calls it may make.

* mount namespace: a fresh root holding, read-only, the system's shared libraries, the interpreter, its standard
  library and the allowed packages (`Policy`), and, writable, the workspace: nothing else exists in there (no
  site-packages corpora, no run store, no caches, no /usr/share datasets, no home);
* user namespace: uid/gid 65534 (nobody) with no capabilities;
* network namespace with no interface but a downed loopback; pid, ipc, uts and cgroup namespaces of its own;
  when the call ends, the pid namespace's init dies and takes every process left in it along (a detached child
  cannot outlive the call);
* seccomp (libseccomp through pyseccomp): no new processes (only threads), no sockets but Unix ones, no ptrace,
  mount, unshare, setns, bpf, keyctl, perf_event_open, process_vm_*, userfaultfd;
* resource limits (CPU, address space, file size, processes, core dumps) set by the runner.

No silent fallback: where bubblewrap or user namespaces are missing, `isolation_problem()` says so in one line and
the runner refuses to start model-written code.
"""

from __future__ import annotations

import errno
import functools
import glob
import os
import shutil
import subprocess
import sysconfig
import tempfile
from typing import IO

from superalign.sandbox.policy import SANDBOX_CODE, Policy, interpreter, standard_library

SANDBOX_UID = 65534  # nobody
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow unprivileged user "
                "namespaces (sysctl kernel.unprivileged_userns_clone=1)")
# Shared libraries of the system: what the interpreter and the packages' extensions link against.
_SYSTEM_DIRS = ("/usr/lib", "/usr/lib64", "/usr/lib32")
_SYSTEM_LINKS = ("/lib", "/lib64", "/lib32", "/bin", "/sbin")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
_CLONE_THREAD = 0x00010000
_AF_UNIX = 1
# Denied with EPERM: ways out of the namespaces, into other processes, or into the kernel's attack surface.
_DENIED_CALLS = ("fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2",
                 "pivot_root", "chroot", "unshare", "setns", "bpf", "keyctl", "add_key", "request_key",
                 "perf_event_open", "userfaultfd", "kexec_load", "init_module", "finit_module", "delete_module",
                 "reboot", "swapon", "swapoff", "acct", "quotactl", "name_to_handle_at", "open_by_handle_at")


@functools.lru_cache(maxsize=1)
def isolation_problem() -> str | None:
    """None where isolated code can start here; else one line saying what is missing and how to fix it."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return f"model-written code runs only under operating-system isolation, and bubblewrap is missing: {INSTALL_HINT}"
    try:
        probe = subprocess.run([bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--ro-bind", "/", "/",
                                interpreter(), "-I", "-c", "pass"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not start ({exc}): {INSTALL_HINT}"
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no reason given"])[-1]
        return f"bubblewrap cannot create namespaces here ({reason}): {INSTALL_HINT}"
    return None


@functools.lru_cache(maxsize=1)
def seccomp_available() -> bool:
    try:
        import pyseccomp

        pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
        return True
    except (ImportError, OSError, RuntimeError, AttributeError):  # the package, or libseccomp.so.2, is missing
        return False


def seccomp_program() -> IO[bytes] | None:
    """The compiled filter, in an unlinked temporary file (bubblewrap reads it from a descriptor)."""
    if not seccomp_available():
        return None
    import pyseccomp as sc

    program = sc.SyscallFilter(defaction=sc.ALLOW)
    # Threads (clone with CLONE_THREAD) are how numpy and Python itself run; anything else clone makes is a process.
    program.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, _CLONE_THREAD, 0))
    program.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # its flags sit behind a pointer: libc falls back to clone
    program.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, _AF_UNIX))
    for call in _DENIED_CALLS:
        try:
            program.add_rule(sc.ERRNO(errno.EPERM), call)
        except (RuntimeError, ValueError, OSError):  # a call this architecture does not have
            pass
    handle = tempfile.TemporaryFile()
    program.export_bpf(handle)
    handle.seek(0)
    return handle


# Files an allowed package needs in order to be imported; every other file in it (scikit-learn's bundled iris, digits
# and breast-cancer tables, scipy's test matrices, images, text) is masked with an empty file. Our tasks include
# digits and breast cancer: with raw features, the bundled table would hand a method its labels.
_CODE_SUFFIXES = (".py", ".pyi", ".pyc", ".so", ".pxd", ".pyx", ".pxi", ".h", ".hpp", ".c", ".cpp", ".f", ".f90",
                  ".pyf", ".tp", ".build", ".typed", ".md", ".ini", ".cfg", ".toml", ".pc", ".a", ".css", ".js")
_DOC_NAMES = ("LICENSE", "LICENCE", "COPYING", "README", "AUTHORS", "NOTICE")


@functools.lru_cache(maxsize=16)
def masked_files(package_paths: tuple[str, ...]) -> tuple[str, ...]:
    masked = []
    for top in package_paths:
        if not os.path.isdir(top) or top.endswith(".dist-info"):
            continue
        for folder, _, files in os.walk(top):
            for name in files:
                if name.endswith(_CODE_SUFFIXES) or ".so." in name or name.upper().startswith(_DOC_NAMES):
                    continue
                masked.append(os.path.join(folder, name))
    return tuple(sorted(masked))


def _system_mounts() -> list[str]:
    args: list[str] = []
    for folder in _SYSTEM_DIRS:
        if os.path.isdir(folder) and not os.path.islink(folder):
            args += ["--ro-bind", folder, folder]
    for link in _SYSTEM_LINKS:  # merged /usr: /lib -> usr/lib
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link) and link not in ("/bin", "/sbin"):
            args += ["--ro-bind", link, link]
    for file in _SYSTEM_FILES:
        args += ["--ro-bind-try", file, file]
    args += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]  # CPU counts for BLAS, joblib
    # Other Pythons' packages under the system folders (Debian's dist-packages): hidden by empty folders.
    for folder in sorted(set(glob.glob("/usr/lib/python3*") + glob.glob("/usr/lib/python2*"))):
        if os.path.isdir(folder) and not os.path.islink(folder):
            args += ["--tmpfs", folder]
    return args


def _python_mounts(policy: Policy) -> list[str]:
    binary = interpreter()
    args = ["--ro-bind", binary, binary]
    for stdlib in standard_library():
        args += ["--ro-bind", stdlib, stdlib]
        for packages in ("site-packages", "dist-packages"):  # the base interpreter's packages: hidden
            if os.path.isdir(os.path.join(stdlib, packages)):
                args += ["--tmpfs", os.path.join(stdlib, packages)]
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):  # libpython, where the interpreter links to it
        libdir = sysconfig.get_config_var("LIBDIR") or ""
        for library in glob.glob(os.path.join(libdir, "libpython*.so*")):
            args += ["--ro-bind", library, library]
    packages = policy.package_paths()
    for path in packages:
        args += ["--ro-bind", path, path]
    for file in masked_files(tuple(packages)):
        args += ["--ro-bind", "/dev/null", file]
    args += ["--ro-bind", SANDBOX_CODE, SANDBOX_CODE]
    return args


def isolated_command(policy: Policy, inner: list[str], seccomp_fd: int | None,
                     environment: dict[str, str] | None = None) -> list[str]:
    """`inner` (an interpreter command line) wrapped in bubblewrap with the mounts the policy allows, and with
    `environment` as its whole environment (nothing of the caller's, whatever the caller passes to bubblewrap)."""
    workspace = os.path.realpath(policy.workspace)
    command = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--unshare-user", "--die-with-parent",
               "--new-session", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
               *_system_mounts(), *_python_mounts(policy),
               "--bind", workspace, workspace, "--chdir", workspace]
    command += ["--clearenv"]
    for name, value in (environment or {}).items():
        command += ["--setenv", name, value]
    if seccomp_fd is not None:
        command += ["--seccomp", str(seccomp_fd)]
    return [*command, "--", *inner]
