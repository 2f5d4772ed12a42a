"""An operating-system sandbox for every notebook ``framelab grade`` runs (Debian's ``bubblewrap``).

The kernel of a graded notebook is trainee code. nbgrader starts it through a Jupyter kernel manager;
:class:`SandboxedKernelManager` starts the same kernel command inside ``bwrap``:

* new user, pid, network, ipc, uts and cgroup namespaces (``--unshare-all``): no network at all, and
  the kernel is an unprivileged user with no capabilities (``--cap-drop ALL``);
* a file system made only of read-only binds of the operating system (``/usr``), the Python
  installation, the course's environment and the ``framelab`` package, a private ``/tmp``, and the
  folder nbgrader runs in, holding a copy of this trainee's submission. ``/tmp`` and that folder are
  size-bounded ``tmpfs`` mounts (:attr:`Limits.tmp`, :attr:`Limits.workdir`): what the kernel writes
  never reaches the disk, and counts in its memory. The course root (``source/``, ``modules/``,
  ``submitted/``, ``autograded/``, the gradebook, other trainees, the exchange) is simply not there;
* the kernel talks to nbgrader over Unix sockets (ZeroMQ's ``ipc`` transport) in a private folder,
  since there is no network;
* ``--die-with-parent`` and a pid namespace: when the notebook ends (or its grading worker dies),
  every process the kernel started dies with it; ``--new-session`` keeps it off the terminal;
* limits on memory, process count, open files and file size per process (``prlimit``), and, where
  the machine lets this account make them (cgroup v1 ``memory``, ``cpu`` and ``pids`` as root here;
  or cgroup v2 where its controllers are offered), control groups that bound the whole process tree:
  its memory (``/tmp`` and the working folder included), one core of CPU at most and a CPU share of
  one ordinary process however many it starts (so a busy or forking notebook cannot crowd out its
  peers), and its process count. Where none can be made, the fallback is the per-process bounds: 64
  processes (``prlimit --nproc``), each at ``nice`` 5 below the grader, and the notebook's time bound;
* the kernel inherits no descriptor of the grader's (its standard streams are ``/dev/null``, not the
  worker's log).

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
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

BWRAP = "/usr/bin/bwrap"
PRLIMIT = "/usr/bin/prlimit"


@dataclass(frozen=True)
class Limits:
    """Per-notebook bounds: memory (bytes; per process, and for the whole tree where a control group
    can be made), processes, file size (bytes), open files, the private ``/tmp`` and working folder
    (bytes each, in memory, so counted in the memory bound too), CPU (cores at most) and the tree's CPU
    share: its weight against every other process and notebook when the cores are busy, as one group
    however many processes it starts (cgroup v1 ``cpu.shares``, 1024 being one ordinary process;
    v2 ``cpu.weight``, 100 being one)."""

    memory: int = 3 * 1024**3
    processes: int = 64
    file_size: int = 64 * 1024**2
    open_files: int = 256
    tmp: int = 256 * 1024**2
    workdir: int = 256 * 1024**2
    cpus: float = 1.0
    cpu_share: int = 1024


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
    "FRAMELAB_STUDENT",  # the trainee being graded, so the kernel shows their variant (bank.variants)
)


#: Where no control group can be made, the notebook's processes run this much nicer than the grader's,
#: so that the grading workers and everything else on the machine come first (the fallback for the CPU share).
FALLBACK_NICE = ["/usr/bin/nice", "-n", "5"]

#: Where the submission's own files are seen, read-only, to be copied into the working folder.
STAGE = "/.framelab-submission"


def bwrap_argv(
    workdir: Path,
    rundir: Path,
    limits: Limits = LIMITS,
    cgroups: Sequence[Path] = (),
    environ: dict[str, str] | None = None,
) -> list[str]:
    """The ``bwrap ... prlimit ... --`` prefix for a command that should see only ``workdir``: a
    size-bounded folder in memory at the same path, holding a copy of ``workdir``'s files (what the
    command writes there never reaches the disk). Of ``environ`` (default: this process's), only a
    few harmless variables reach the command."""
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
        "--size",
        str(limits.tmp),
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
    argv += ["--bind", str(rundir), str(rundir), "--ro-bind", str(workdir), STAGE]
    argv += ["--size", str(limits.workdir), "--tmpfs", str(workdir), "--chdir", str(workdir)]
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
        "/bin/sh",
        "-c",
        f'cp -R {STAGE}/. . && exec "$@"',  # the submission into the bounded folder, then the command
        "sh",
        *([] if cgroups else FALLBACK_NICE),
        PRLIMIT,
        f"--as={limits.memory}",
        f"--nproc={limits.processes}",
        f"--fsize={limits.file_size}",
        f"--nofile={limits.open_files}",
        "--core=0",
        "--",
    ]
    if cgroups:  # join the control groups first, from the host side, then become the sandbox
        join = " && ".join(f'echo $$ > "${n + 1}/cgroup.procs"' for n in range(len(cgroups)))
        argv = ["/bin/sh", "-c", f'{join} && shift {len(cgroups)} && exec "$@"', "sh", *map(str, cgroups), *argv]
    return argv


# --------------------------------------------------------------------------- control groups: bounds for the whole tree

#: For each controller: the file that bounds it, and the value from the limits (cgroup v1 names; v2 below).
_V1 = {
    "pids": (("pids.max", lambda lim: str(lim.processes)),),
    "memory": (
        ("memory.limit_in_bytes", lambda lim: str(lim.memory)),
        ("memory.memsw.limit_in_bytes", lambda lim: str(lim.memory)),  # with swap: memory and swap together
    ),
    "cpu": (
        ("cpu.cfs_quota_us", lambda lim: str(int(lim.cpus * CFS_PERIOD))),
        ("cpu.shares", lambda lim: str(lim.cpu_share)),
    ),
}
_V2 = (
    ("pids.max", lambda lim: str(lim.processes)),
    ("memory.max", lambda lim: str(lim.memory)),
    ("memory.swap.max", lambda lim: "0"),
    ("cpu.max", lambda lim: f"{int(lim.cpus * CFS_PERIOD)} {CFS_PERIOD}"),
    ("cpu.weight", lambda lim: str(max(1, min(10_000, round(lim.cpu_share * 100 / 1024))))),
)
#: The scheduler's period (the default): a quota of one period per period is one core.
CFS_PERIOD = 100_000


def _own_cgroups() -> dict[str, str]:
    """This process's control group in each v1 hierarchy (controller -> path), and "" for v2."""
    out: dict[str, str] = {}
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            out[name] = path
    return out


def _can_make(base: Path, probe_file: str) -> bool:
    try:
        probe = Path(tempfile.mkdtemp(prefix="framelab-probe-", dir=base))
    except OSError:
        return False
    ok = (probe / probe_file).exists()
    _rmdir(probe)
    return ok


@cache
def _cgroup_parents() -> tuple[tuple[Path, tuple[tuple[str, Any], ...]], ...]:
    """Where this account may make a bounded control group, with what to write in it: one per v1
    controller (memory, cpu, pids) under this process's own group, or one v2 group where the unified
    hierarchy offers those controllers; empty where none can be made."""
    own, found = _own_cgroups(), []
    for name, files in _V1.items():
        base = Path("/sys/fs/cgroup") / name
        if name in own and (base / "cgroup.procs").exists():
            parent = base / own[name].lstrip("/")
            if _can_make(parent, files[0][0]):
                found.append((parent, files))
    unified = Path("/sys/fs/cgroup/unified") if Path("/sys/fs/cgroup/unified").is_dir() else Path("/sys/fs/cgroup")
    offered = _read(unified / "cgroup.controllers").split()
    if not found and offered and "" in own:
        parent = unified / own[""].lstrip("/")
        files = tuple(f for f in _V2 if f[0].split(".")[0] in offered)
        if files and _can_make(parent, files[0][0]):
            found.append((parent, files))
    return tuple(found)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _rmdir(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()


def new_cgroups(limits: Limits = LIMITS) -> list[Path]:
    """Fresh control groups bounding a notebook's whole process tree (memory, a CPU share, process
    count), as many as this machine lets this account make (none at all on some)."""
    groups = []
    for parent, files in _cgroup_parents():
        try:
            group = Path(tempfile.mkdtemp(prefix="framelab-kernel-", dir=parent))
        except OSError:
            continue
        groups.append(group)
        for name, value in files:
            if (group / name).exists():
                with contextlib.suppress(OSError):
                    (group / name).write_text(value(limits))
    return groups


def oom_kills(groups: Sequence[Path]) -> int:
    """How many processes the kernel's out-of-memory killer has ended in these groups (v1
    ``memory.oom_control``, v2 ``memory.events``): more than 0 means the tree went past its memory bound."""
    total = 0
    for group in groups:
        for name in ("memory.oom_control", "memory.events"):
            for line in _read(group / name).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    total += int(value)
    return total


def kill_groups(groups: Sequence[Path]) -> None:
    """End every process in the groups at once (the kernel included)."""
    for group in groups:
        kill = group / "cgroup.kill"
        if kill.exists():
            with contextlib.suppress(OSError):
                kill.write_text("1")
        for pid in _read(group / "cgroup.procs").split():
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid), 9)


#: Why the last notebook in this process was stopped by the sandbox ("" if it was not); the worker
#: reads it with :func:`take_stopped` and makes it that trainee's reason.
_STOPPED: list[str] = []


def take_stopped() -> str:
    """Why the sandbox stopped a notebook since the last call (and forget it), or ""."""
    why = _STOPPED[-1] if _STOPPED else ""
    _STOPPED.clear()
    return why


def memory_stop_reason(limits: Limits = LIMITS) -> str:
    return (
        f"the notebook went past its memory bound ({limits.memory / 1024**3:g} GB for all its processes and "
        "/tmp together) and was stopped, every process of it: its code holds far more memory than the module "
        "needs; nothing it printed is graded"
    )


class MemoryWatch:
    """Watches a notebook's control groups while its kernel runs: the first out-of-memory kill in
    the tree ends the whole tree (the kernel too, so the notebook stops instead of carrying on without
    the processes the kernel killed) and records :func:`memory_stop_reason` for the worker."""

    def __init__(self, groups: Sequence[Path], limits: Limits = LIMITS, every: float = 0.2) -> None:
        self.groups, self.limits, self.every = list(groups), limits, every
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="framelab-memory-watch", daemon=True)
        if any((g / "memory.oom_control").exists() or (g / "memory.events").exists() for g in self.groups):
            self.thread.start()

    def _watch(self) -> None:
        while not self.done.wait(self.every):
            if oom_kills(self.groups):
                kill_groups(self.groups)
                _STOPPED.append(memory_stop_reason(self.limits))
                return

    def stop(self) -> None:
        """Stop watching; a kill that happened meanwhile is still recorded."""
        watching = self.thread.is_alive()
        self.done.set()
        if watching:
            self.thread.join(timeout=2)
            if oom_kills(self.groups) and not _STOPPED:
                _STOPPED.append(memory_stop_reason(self.limits))


def remove_cgroups(groups: list[Path]) -> None:
    """Kill whatever is left in the groups (nothing should be) and remove them."""
    for group in groups:
        kill = group / "cgroup.kill"
        if kill.exists():
            with contextlib.suppress(OSError):
                kill.write_text("1")
        for _ in range(50):  # a killed process leaves its group a moment later
            for pid in _read(group / "cgroup.procs").split():
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pid), 9)
            _rmdir(group)
            if not group.exists():
                break
            time.sleep(0.01)


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
        self._cgroups: list[Path] = []
        self._memory_watch: MemoryWatch | None = None

    def _stop_watch(self) -> None:
        if self._memory_watch is not None:
            self._memory_watch.stop()
            self._memory_watch = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        launch = self._launch_args or {}
        workdir = Path(launch.get("cwd") or os.getcwd()).resolve()
        self._stop_watch()
        remove_cgroups(self._cgroups)
        self._cgroups = new_cgroups()
        self._memory_watch = MemoryWatch(self._cgroups)
        environ = {**os.environ, **(launch.get("env") or {})}
        return [*bwrap_argv(workdir, self._rundir, cgroups=self._cgroups, environ=environ), *cmd]

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        # the kernel inherits no descriptor of the grader's: not the worker's log (its stdout and
        # stderr), which it could otherwise write to and read back; every other one is closed anyway
        kw.update(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
        await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._tidy()

    def _tidy(self) -> None:
        self._stop_watch()
        remove_cgroups(self._cgroups)
        self._cgroups = []
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
