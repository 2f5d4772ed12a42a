"""An operating-system sandbox for every notebook ``framelab grade`` runs (Debian's ``bubblewrap``).

The kernel of a graded notebook is trainee code. nbgrader starts it through a Jupyter kernel manager;
:class:`SandboxedKernelManager` starts the same kernel command inside ``bwrap``:

* new user, pid, network, ipc, uts and cgroup namespaces (``--unshare-all``): no network at all, and
  the kernel is an unprivileged user with no capabilities (``--cap-drop ALL``);
* a file system made only of read-only binds of the operating system (``/usr``), the Python
  installation, the course's environment and the ``framelab`` package, a private ``/tmp``, and one
  writable folder: the private copy of this trainee's submission that nbgrader runs in. The course
  root (``source/``, ``modules/``, ``submitted/``, ``autograded/``, the gradebook, other trainees,
  the exchange) is simply not there;
* the kernel talks to nbgrader over Unix sockets (ZeroMQ's ``ipc`` transport) in a private folder,
  since there is no network;
* ``--die-with-parent`` and a pid namespace: when the notebook ends (or its grading worker dies),
  every process the kernel started dies with it; ``--new-session`` keeps it off the terminal;
* limits on memory, process count, open files and file size (``prlimit``), and, where the machine
  lets this account make one, a ``pids`` control group that bounds the number of processes for
  accounts (root) that the process-count limit does not bind.

:func:`problem` says in one line why no sandbox can start here (what is missing), or "".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

BWRAP = "/usr/bin/bwrap"
PRLIMIT = "/usr/bin/prlimit"


@dataclass(frozen=True)
class Limits:
    """Per-notebook bounds: address space (bytes), processes, file size (bytes), open files."""

    memory: int = 3 * 1024**3
    processes: int = 64
    file_size: int = 64 * 1024**2
    open_files: int = 256


LIMITS = Limits()
#: The uid and gid the kernel has inside its user namespace (nobody).
UID = 65534


def _read_only_roots() -> list[Path]:
    """What the kernel must read: the operating system, Python, this environment, the framelab package."""
    import framelab

    roots = [Path("/usr"), Path(sys.base_prefix), Path(sys.prefix), Path(framelab.__file__).resolve().parent]
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        roots.append(Path(sysconfig.get_paths()[key]))
    roots.append(Path(os.path.realpath(sys.executable)).parent)
    out: list[Path] = []
    for root in sorted({r.resolve() for r in roots if r.exists()}, key=lambda p: len(p.parts)):
        if not any(root == o or o in root.parents for o in out):
            out.append(root)
    return out


#: Small, harmless files from /etc that Python and the kernel read (no passwords, no host names).
_ETC = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/mime.types")
#: Environment the kernel sees; everything else from the grader's environment is dropped.
_KEEP_ENV = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "PYDEVD_DISABLE_FILE_VALIDATION",
    "JPY_SESSION_NAME",
    "NBGRADER_EXECUTION",  # notebooks behave as graded (no widgets shown, no files set aside)
    "NBGRADER_VALIDATING",
)


def bwrap_argv(
    workdir: Path,
    rundir: Path,
    limits: Limits = LIMITS,
    cgroup: Path | None = None,
    environ: dict[str, str] | None = None,
) -> list[str]:
    """The ``bwrap ... prlimit ... --`` prefix for a command that should see only ``workdir`` (writable).
    Of ``environ`` (default: this process's), only a few harmless variables reach the command."""
    environ = os.environ if environ is None else environ
    argv = [
        BWRAP,
        "--unshare-all",
        "--unshare-user",
        "--uid",
        str(UID),
        "--gid",
        str(UID),
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ]
    for root in _read_only_roots():
        argv += ["--ro-bind", str(root), str(root)]
    for name in ("bin", "lib", "lib64", "sbin"):
        target = Path("/usr") / name
        if target.exists() and Path(f"/{name}").is_symlink():
            argv += ["--symlink", f"usr/{name}", f"/{name}"]
        elif target.exists() and Path(f"/{name}").is_dir() and Path(f"/{name}").resolve() != target:
            argv += ["--ro-bind", f"/{name}", f"/{name}"]
    for etc in _ETC:
        if Path(etc).exists():
            argv += ["--ro-bind", etc, etc]
    argv += ["--bind", str(rundir), str(rundir), "--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    argv += ["--remount-ro", "/"]  # the folders made to hold the binds are not a place to write either
    env = {
        "HOME": "/tmp",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONNOUSERSITE": "1",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
        **{k: environ[k] for k in _KEEP_ENV if k in environ},
    }
    for key, value in env.items():
        argv += ["--setenv", key, value]
    argv += [
        "--",
        PRLIMIT,
        f"--as={limits.memory}",
        f"--nproc={limits.processes}",
        f"--fsize={limits.file_size}",
        f"--nofile={limits.open_files}",
        "--core=0",
        "--",
    ]
    if cgroup is not None:  # join the pids control group first, from the host side, then become the sandbox
        argv = ["/bin/sh", "-c", f'echo $$ > "{cgroup}/cgroup.procs" && exec "$@"', "sh", *argv]
    return argv


# --------------------------------------------------------------------------- process-count control group


@cache
def _pids_parent() -> Path | None:
    """A ``pids`` control group this account may make children in (cgroup v1 or v2), or None."""
    for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if not (base / "cgroup.procs").exists():
            continue
        if base == Path("/sys/fs/cgroup") and "pids" not in _read(base / "cgroup.controllers"):
            continue
        try:
            probe = Path(tempfile.mkdtemp(prefix="framelab-probe-", dir=base))
        except OSError:
            continue
        ok = (probe / "pids.max").exists()
        _rmdir(probe)
        if ok:
            return base
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _rmdir(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()


def new_cgroup(limits: Limits = LIMITS) -> Path | None:
    """A fresh pids control group bounded at ``limits.processes``, or None where none can be made."""
    parent = _pids_parent()
    if parent is None:
        return None
    try:
        group = Path(tempfile.mkdtemp(prefix="framelab-kernel-", dir=parent))
        (group / "pids.max").write_text(str(limits.processes))
    except OSError:
        return None
    return group


def remove_cgroup(group: Path | None) -> None:
    """Kill whatever is left in the group (nothing should be) and remove it."""
    if group is None:
        return
    kill = group / "cgroup.kill"
    if kill.exists():
        with contextlib.suppress(OSError):
            kill.write_text("1")
    for pid in _read(group / "cgroup.procs").split():
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid), 9)
    _rmdir(group)


# --------------------------------------------------------------------------- can a sandbox start here?


@cache
def problem() -> str:
    """One plain line naming what stops a sandbox from starting on this machine, or "" if one starts."""
    if not Path(BWRAP).exists() and not shutil.which("bwrap"):
        return (
            f"the grading sandbox needs bubblewrap ({BWRAP}), which is not installed: "
            "install it (Debian/Ubuntu: 'apt-get install bubblewrap'), "
            "or pass --no-sandbox to run trainee code unsandboxed"
        )
    if not Path(PRLIMIT).exists():
        return (
            f"the grading sandbox needs prlimit ({PRLIMIT}, from util-linux), which is not installed: install it, "
            "or pass --no-sandbox"
        )
    with tempfile.TemporaryDirectory(prefix="framelab-sandbox-probe-") as tmp:
        work, run = Path(tmp) / "work", Path(tmp) / "run"
        work.mkdir()
        run.mkdir()
        argv = [*bwrap_argv(work, run), sys.executable, "-c", "import framelab; print('ok')"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the grading sandbox (bubblewrap) could not start: {exc}; pass --no-sandbox to grade unsandboxed"
        if proc.returncode != 0 or proc.stdout.strip() != "ok":
            why = (proc.stderr.strip().splitlines() or ["no message"])[-1][:200]
            hint = (
                " (unprivileged user namespaces may be switched off: sysctl kernel.unprivileged_userns_clone=1)"
                if "namespace" in why.lower() or "permission" in why.lower()
                else ""
            )
            return (
                f"the grading sandbox (bubblewrap) could not start a Python kernel here: {why}{hint}; "
                "pass --no-sandbox to grade unsandboxed"
            )
    return ""


# --------------------------------------------------------------------------- the kernel manager


class SandboxedKernelManager(AsyncKernelManager):
    """A Jupyter kernel manager whose kernel runs inside :func:`bwrap_argv`, over Unix sockets.

    nbgrader's ``Execute`` preprocessor (nbclient) starts the kernel with ``cwd`` set to the
    private folder it grades in; that folder becomes the kernel's only writable place.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rundir = Path(tempfile.mkdtemp(prefix="framelab-kernel-"))
        os.chmod(self._rundir, 0o700)
        self.transport = "ipc"
        self.ip = str(self._rundir / "kernel")
        self.connection_file = str(self._rundir / "kernel.json")
        self._cgroup: Path | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        launch = self._launch_args or {}
        workdir = Path(launch.get("cwd") or os.getcwd()).resolve()
        remove_cgroup(self._cgroup)
        self._cgroup = new_cgroup()
        environ = {**os.environ, **(launch.get("env") or {})}
        return [*bwrap_argv(workdir, self._rundir, cgroup=self._cgroup, environ=environ), *cmd]

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._tidy()

    def _tidy(self) -> None:
        remove_cgroup(self._cgroup)
        self._cgroup = None
        shutil.rmtree(self._rundir, ignore_errors=True)

    def __del__(self) -> None:
        try:
            self._tidy()
        finally:
            super().__del__()


def _execute_class() -> type:
    from nbgrader.preprocessors import Execute

    class SandboxedExecute(Execute):  # type: ignore[misc, valid-type]
        """nbgrader's ``Execute`` preprocessor, with every kernel started in the sandbox."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["kernel_manager_class"] = SandboxedKernelManager
            # once the last cell has answered there is nothing left to wait for: a graceful shutdown
            # sometimes waited seconds for the sandboxed kernel to exit; its control group is emptied anyway
            kwargs.setdefault("shutdown_kernel", "immediate")
            super().__init__(*args, **kwargs)

    return SandboxedExecute


def __getattr__(name: str) -> Any:  # nbgrader is imported only when grading needs it
    if name == "SandboxedExecute":
        cls = _execute_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


def sandboxed(preprocessors: list[Any]) -> list[Any]:
    """The course's autograde preprocessors with nbgrader's ``Execute`` replaced by :class:`SandboxedExecute`."""
    from nbgrader.preprocessors import Execute

    out = []
    for p in preprocessors:
        if p in ("nbgrader.preprocessors.Execute", Execute):
            out.append("framelab.grading.sandbox.SandboxedExecute")
        else:
            out.append(p)
    if "framelab.grading.sandbox.SandboxedExecute" not in out:
        raise ValueError("the course's Autograde.autograde_preprocessors do not run nbgrader's Execute")
    return out
