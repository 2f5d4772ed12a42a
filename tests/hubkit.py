"""Pieces for tests that run a Frame Lab course on a real JupyterHub on loopback (the load run,
``tests/test_load.py``): Unix accounts, a PostgreSQL server that can be restarted, the course
environment from the wheel, the hub from ``deploy/jupyterhub/``, and memory and CPU read from
``/proc``. A trainee's JupyterLab, as its requests, is in ``tests/labclient.py``.

Everything here runs as root (each user's server runs as that Unix user). Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from conftest import BIN, ROOT, copy_course
from pgserver import DATABASE, USER, _as_owner, free_port, server_bin

COURSE = "framelab"
ASSIGNMENT = "m1_double_bind"
SYSTEM_PYTHON = Path("/usr/bin/python3")


def problems() -> list[str]:
    """What this machine lacks for a hub test (empty when it can run)."""
    found = []
    if os.geteuid() != 0:
        found.append("it must run as root: each user's server runs as that Unix user (CI runs as root)")
    if not shutil.which("configurable-http-proxy"):
        found.append("configurable-http-proxy is missing: 'npm install -g configurable-http-proxy' (make system-deps)")
    if not SYSTEM_PYTHON.exists():
        found.append(f"{SYSTEM_PYTHON} is missing: 'apt-get install python3-venv' (make system-deps does)")
    try:
        server_bin()
    except RuntimeError as exc:
        found.append(str(exc))
    return found


def sh(*cmd: str, user: str | None = None, cwd: Path | None = None, env: dict[str, str] | None = None, check=True):
    """Run a command, as ``user`` if given (runuser, with a clean login-like environment)."""
    if user:
        base = {"HOME": f"/home/{user}", "USER": user, "LOGNAME": user, "PATH": "/usr/bin:/bin"}
        base.update(env or {})
        cmd = ("runuser", "-u", user, "--", "env", "-i", *[f"{k}={v}" for k, v in base.items()], *cmd)
        env = None
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and proc.returncode:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


# --------------------------------------------------------------------------- one run at a time

#: The machine-wide lock a load run holds from start to end (released by the kernel if it dies).
LOCK = Path("/run/lock/framelab-load-test.lock")


class MachineBusy(AssertionError):
    pass


@contextlib.contextmanager
def one_run_at_a_time(what: str) -> Iterator[None]:
    """Hold the machine's load-test lock, or fail at once naming the run that holds it. Two load runs at
    once on one machine distort each other's figures, and before each run had accounts of its own, the
    first run's clean-up killed the second's servers and grading and removed its trainees' homes."""
    path = LOCK if LOCK.parent.is_dir() else Path("/tmp") / LOCK.name
    fh = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "a run that did not say who it is"
        fh.close()
        raise MachineBusy(
            f"another load run is using this machine ({holder}; lock {path}): two at once would distort "
            "each other's figures. Run this again when it has finished."
        ) from None
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, {what}, since {time.strftime('%H:%M:%S')}\n")
        fh.flush()
        yield
    finally:
        fh.close()  # closing releases the lock


# --------------------------------------------------------------------------- accounts

#: The comment (GECOS field) of every account a load run makes, so that a later run, holding the
#: lock, can find and remove the accounts of a run that was killed before it could clean up.
ACCOUNT_MARK = "framelab load test account"


def run_prefix() -> str:
    """A prefix for one run's accounts ('fl' and four hex digits), so that no two runs share an account."""
    return "fl" + secrets.token_hex(2)


def remove_stale_accounts() -> list[str]:
    """Remove the accounts (and their processes and homes) that earlier load runs made and left
    behind. Only while holding :func:`one_run_at_a_time`'s lock: then no other load run is alive."""
    stale = sorted(p.pw_name for p in pwd.getpwall() if p.pw_gecos == ACCOUNT_MARK)
    for user in stale:
        remove_account(user)
    for prefix in sorted({user.rsplit("-", 1)[0] for user in stale}):
        sh("groupdel", f"{prefix}-instructors", check=False)
    return stale


@dataclass(frozen=True)
class Accounts:
    """The course's Unix accounts: a grader (in the instructors' group), an instructor, trainees.
    Every name starts with ``prefix``, which is this run's own (:func:`run_prefix`)."""

    prefix: str
    trainees: tuple[str, ...]

    @property
    def group(self) -> str:
        return f"{self.prefix}-instructors"

    @property
    def grader(self) -> str:
        return f"{self.prefix}-grader"

    @property
    def instructor(self) -> str:
        return f"{self.prefix}-instructor"

    @property
    def everyone(self) -> tuple[str, ...]:
        return (self.grader, self.instructor, *self.trainees)

    @classmethod
    def numbered(cls, prefix: str, count: int, extra: tuple[str, ...] = ()) -> Accounts:
        """``count`` numbered trainees, then one trainee for each name in ``extra`` (all under ``prefix``)."""
        numbered = [f"t{n:03d}" for n in range(1, count + 1)]
        return cls(prefix, tuple(f"{prefix}-{name}" for name in [*numbered, *extra]))

    def named(self, name: str) -> str:
        """The account of the trainee made for ``name`` (one of ``numbered``'s ``extra``)."""
        return f"{self.prefix}-{name}"

    def create(self) -> None:
        sh("groupadd", "-f", self.group)
        for user in self.everyone:  # never an account that exists already: it belongs to someone else
            sh("useradd", "--create-home", "--shell", "/bin/bash", "--comment", ACCOUNT_MARK, user)
        sh("usermod", "-aG", self.group, self.grader)

    def remove(self) -> None:
        for user in self.everyone:
            remove_account(user)
        sh("groupdel", self.group, check=False)


def uid_of(user: str) -> int:
    return pwd.getpwnam(user).pw_uid


def pids_of(user: str) -> list[int]:
    """Processes running as ``user`` (read from /proc)."""
    uid, found = uid_of(user), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
    return found


def kill_user_processes(user: str, sig: int = signal.SIGKILL) -> list[int]:
    """Signal every process of one of this test's own accounts, each by its id."""
    try:
        pids = pids_of(user)
    except KeyError:
        return []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    return pids


def remove_account(user: str, wait: float = 15.0) -> None:
    """Remove one of this test's own accounts with its home: its processes are killed first and waited for
    (``userdel`` refuses an account a process still runs as, and a killed process takes a moment to go)."""
    kill_user_processes(user)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if not pids_of(user):
                break
        except KeyError:
            return  # no such account
        time.sleep(0.1)
    sh("userdel", "--remove", user, check=False)


# --------------------------------------------------------------------------- PostgreSQL


class Postgres:
    """A throwaway PostgreSQL server on a loopback port that a test can stop and start again."""

    def __init__(self, top: Path):
        self.bin = server_bin()
        self.top = top
        self.data, self.sock, self.log = top / "data", top / "sock", top / "server.log"
        self.port = free_port()
        self.url = f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _pg(self, *cmd: str) -> None:
        proc = subprocess.run(_as_owner(list(cmd)), capture_output=True, text=True, timeout=120)
        if proc.returncode:
            extra = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stdout}{proc.stderr}{extra}")

    def init(self) -> None:
        self.top.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.top, "postgres")
            shutil.chown(self.sock, "postgres")
        self._pg(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER, "--no-sync", "-E", "UTF8")
        self.start()
        self._pg(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        self._pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextlib.contextmanager
def postgres(top: Path) -> Iterator[Postgres]:
    server = Postgres(top)
    try:
        server.init()
        yield server
    finally:
        with contextlib.suppress(Exception):
            if server.running():
                server.stop("immediate")
        shutil.rmtree(top, ignore_errors=True)


# --------------------------------------------------------------------------- the hub


class HubStopped(AssertionError):
    pass


class Hub:
    """JupyterHub's REST API, as the framelab-admin service, and the users' servers through the proxy."""

    def __init__(self, url: str, token: str):
        self.url = url
        self.admin = {"Authorization": f"token {token}"}

    def api(self, method: str, path: str, headers: dict | None = None, timeout: float = 30, **kw) -> requests.Response:
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers=headers or self.admin, timeout=timeout, **kw
        )

    def up(self) -> bool:
        try:
            return self.api("GET", "/", timeout=5).ok
        except requests.RequestException:
            return False

    def spawn(self, user: str) -> None:
        r = self.api("POST", f"/users/{user}/server")
        assert r.status_code in (201, 202, 400), r.text  # 400: already running
        if r.status_code == 400:
            assert "already running" in r.text or "pending" in r.text, r.text

    def ready(self, user: str) -> bool:
        model = self.api("GET", f"/users/{user}").json()
        return bool(model.get("servers", {}).get("", {}).get("ready"))

    def wait_ready(self, users: list[str], limit: float = 600) -> float:
        """Wait (at most ``limit`` s) until every user's server is ready; return the seconds waited."""
        start, waiting = time.monotonic(), set(users)
        while waiting and time.monotonic() - start < limit:
            models = self.api("GET", "/users", timeout=60).json()
            items = models["items"] if isinstance(models, dict) else models
            for model in items:
                if model["name"] in waiting and model.get("servers", {}).get("", {}).get("ready"):
                    waiting.discard(model["name"])
            if waiting:
                time.sleep(0.5)
        assert not waiting, f"servers not ready after {limit:.0f} s: {sorted(waiting)}"
        return time.monotonic() - start

    def token_for(self, user: str) -> str:
        r = self.api("POST", f"/users/{user}/tokens", json={"note": "framelab load test"})
        assert r.status_code == 201, r.text
        return r.json()["token"]


@dataclass
class Course:
    """A running course: the folders, the gradebook, the hub process and how to start it again."""

    top: Path
    env: Path
    course: Path
    exchange: Path
    state: Path
    conf: Path
    pg: Postgres
    accounts: Accounts
    hub_env: dict[str, str] = field(default_factory=dict)
    hub: Hub | None = None
    proc: subprocess.Popen | None = None
    laps: dict[str, float] = field(default_factory=dict)

    @property
    def grader_env(self) -> dict[str, str]:
        return {"PATH": f"{self.env / 'bin'}:/usr/bin:/bin"}

    def as_grader(self, *cmd: str, check: bool = True):
        return sh(*cmd, user=self.accounts.grader, cwd=self.course, env=self.grader_env, check=check)

    # ---------------------------------------------------------------- the hub process

    def start_hub(self, limit: float = 180, attempts: int = 3) -> None:
        """Start the hub and wait until it answers. JupyterHub gives a managed service (formgrader)
        10 s to answer at start-up, then exits; on a busy machine that can happen, so the hub is
        started again, as systemd's Restart=on-failure would (deploy/README.md), at most ``attempts`` times."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start_hub_once(limit)
            except HubStopped as exc:
                if "Cannot connect to" not in str(exc) or attempt == attempts:
                    raise
                kill_user_processes(self.accounts.grader)  # the service the hub gave up on
                time.sleep(2)

    def _start_hub_once(self, limit: float) -> None:
        log = (self.state / "hub.log").open("a")
        # Start-up only: the hub and the formgrader service it starts run ahead of the machine's
        # other work (this machine is shared), then go back to normal priority once the hub answers.
        self.proc = subprocess.Popen(
            [str(self.env / "bin" / "jupyterhub"), "-f", str(self.conf / TEST_CONFIG)],
            cwd=self.state,
            env=self.hub_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.nice(-10),
        )
        start = time.monotonic()
        while time.monotonic() - start < limit:
            if self.hub is not None and self.hub.up():
                for pid in [self.proc.pid, *pids_of(self.accounts.grader), *self._proxy_pids()]:
                    with contextlib.suppress(OSError):
                        os.setpriority(os.PRIO_PROCESS, pid, 0)
                return
            if self.proc.poll() is not None:
                raise HubStopped("the hub stopped:\n" + self.hub_errors())
            time.sleep(0.5)
        raise AssertionError(f"the hub did not answer within {limit:.0f} s")

    def hub_errors(self) -> str:
        """The hub's own warnings and errors (its log also holds every server's output), and its last lines."""
        lines = (self.state / "hub.log").read_text(errors="replace").splitlines()
        own = [ln for ln in lines if (" JupyterHub " in ln or "[C " in ln) and ln[:3] in ("[E ", "[W ", "[C ")]
        return "\n".join([*own[-30:], "...", *lines[-15:]])

    def stop_hub(self, limit: float = 60) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def _proxy_pids(self) -> list[int]:
        with contextlib.suppress(OSError, ValueError):
            return [self.proxy_pid()]
        return []

    def proxy_pid(self) -> int:
        return int((self.state / "jupyterhub-proxy.pid").read_text().strip())


def build_course(top: Path, pg: Postgres, accounts: Accounts) -> Course:
    """The course environment (from the wheel), the course folder and Module 1 released."""
    started = time.monotonic()
    c = Course(
        top=top,
        env=top / "env",
        course=top / "course",
        exchange=top / "exchange",
        state=top / "hubstate",
        conf=top / "hubconf",
        pg=pg,
        accounts=accounts,
    )
    sh(str(BIN / "python"), "-m", "build", "--wheel", "--outdir", str(top / "dist"), str(ROOT))
    wheel = next((top / "dist").glob("framelab-*.whl"))
    sh(
        "bash",
        str(ROOT / "deploy" / "jupyterhub" / "install-course-env.sh"),
        str(c.env),
        str(wheel),
        env={
            **os.environ,
            "PYTHON": str(SYSTEM_PYTHON),
            "FRAMELAB_EXCHANGE": str(c.exchange),
            "FRAMELAB_GRADER_USER": accounts.grader,
            "FRAMELAB_INSTRUCTORS_GROUP": accounts.group,
        },
    )
    c.laps["course environment"] = time.monotonic() - started
    copy_course(c.course)
    with (c.course / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
        fh.write(f'\nc.CourseDirectory.db_url = "{pg.url}"\n')
    sh("chown", "-R", f"{accounts.grader}:{accounts.grader}", str(c.course))
    c.course.chmod(0o700)
    shutil.copytree(ROOT / "deploy" / "jupyterhub", c.conf)
    c.state.mkdir()
    c.as_grader(str(c.env / "bin" / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force")
    c.as_grader(str(c.env / "bin" / "nbgrader"), "release_assignment", ASSIGNMENT)
    c.laps["released"] = time.monotonic() - started
    return c


#: The hub's configuration for the tests: deploy/jupyterhub/jupyterhub_config.py unchanged, and one
#: allowance for this shared test machine.
TEST_CONFIG = "load_test_config.py"
TEST_CONFIG_TEXT = """\
# Written by tests/hubkit.py: the course's hub configuration, as deployed ...
c = get_config()  # noqa: F821
load_subconfig({config!r})  # noqa: F821
assert c.JupyterHub.services, "deploy/jupyterhub/jupyterhub_config.py was not loaded"

# ... with one allowance for a busy test machine. At start-up JupyterHub 5 waits for a managed
# service (formgrader) for a fixed 10 tries of 1 s, then exits. On this shared 2-core machine,
# under other jobs' load, formgrader's server can take 30 s to import. Each try may wait 15 s here.
from jupyterhub.objects import Server

_wait_up = Server.wait_up


def _patient_wait_up(self, timeout=10, http=False, ssl_context=None, extra_path=""):
    return _wait_up(self, timeout=max(timeout, 15), http=http, ssl_context=ssl_context, extra_path=extra_path)


Server.wait_up = _patient_wait_up
"""


def launch_hub(c: Course) -> None:
    deployed = str(c.conf / "jupyterhub_config.py")
    (c.conf / TEST_CONFIG).write_text(TEST_CONFIG_TEXT.replace("{config!r}", repr(deployed)), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
    a = c.accounts
    c.hub_env = {
        **os.environ,
        "FRAMELAB_ENV": str(c.env),
        "FRAMELAB_COURSE_ID": COURSE,
        "FRAMELAB_GRADER_USER": a.grader,
        "FRAMELAB_COURSE_ROOT": str(c.course),
        "FRAMELAB_INSTRUCTORS": a.instructor,
        "FRAMELAB_TRAINEES": ",".join(a.trainees),
        "FRAMELAB_HUB_PORT": str(port),
        "FRAMELAB_HUB_API_PORT": str(free_port()),
        "FRAMELAB_PROXY_API_PORT": str(free_port()),
        "FRAMELAB_FORMGRADER_PORT": str(free_port()),
        "FRAMELAB_HUB_AUTH": "dummy",
        "FRAMELAB_HUB_ADMIN_TOKEN": token,
        # many servers start at once on a small machine: allow them time
        "FRAMELAB_SPAWN_TIMEOUT": "900",
    }
    c.hub = Hub(f"http://127.0.0.1:{port}", token)
    c.start_hub()


# --------------------------------------------------------------------------- memory and CPU, from /proc


def _status(pid: int) -> dict[str, str]:
    out = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_used_mb() -> float:
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info[key] = int(value.split()[0])
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


class MemoryWatch:
    """Samples /proc every ``every`` s: peak memory in use on the machine, and each trainee's server
    and kernel peak resident size (VmHWM) and CPU seconds."""

    def __init__(self, users: list[str], every: float = 0.5):
        self.uids = {uid_of(u): u for u in users}
        self.every = every
        self.base_mb = machine_used_mb()
        self.peak_mb = self.base_mb
        self.procs: dict[int, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sample()
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        self.peak_mb = max(self.peak_mb, machine_used_mb())
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                uid = entry.stat().st_uid
            except OSError:
                continue
            if uid not in self.uids:
                continue
            pid = int(entry.name)
            status, cmd = _status(pid), _cmdline(pid)
            kind = "kernel" if "ipykernel" in cmd else "server" if "jupyterhub-singleuser" in cmd else None
            if kind is None or "VmHWM" not in status:
                continue
            rec = self.procs.setdefault(pid, {"user": self.uids[uid], "kind": kind, "hwm_mb": 0.0, "cpu": 0.0})
            rec["hwm_mb"] = max(rec["hwm_mb"], int(status["VmHWM"].split()[0]) / 1024)
            rec["cpu"] = max(rec["cpu"], cpu_seconds(pid))

    def per(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.procs.values() if r["kind"] == kind]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
