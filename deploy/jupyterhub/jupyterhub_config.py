"""JupyterHub for one Frame Lab course: instructors and trainees as JupyterHub groups, the
nbgrader exchange, formgrader as a hub service, and the course environment (framelab installed
from its wheel, never editable, so that trainees have no path to the answer key).

Everything that differs between machines comes from the environment, so that the same file
serves a single server and the loopback test (``make test-hub``):

=============================  ======================================================  ===================
variable                       meaning                                                 default
=============================  ======================================================  ===================
FRAMELAB_ENV                   the course environment (a venv with ``framelab[hub]``)  /opt/framelab
FRAMELAB_COURSE_ID             the nbgrader course id, and the formgrader service name  framelab
FRAMELAB_GRADER_USER           the Unix account that owns the course and runs          framelab-grader
                               formgrader (instructors reach it through the hub)
FRAMELAB_COURSE_ROOT           the course folder (nbgrader_config.py, source/, ...)    /home/<grader>/course
FRAMELAB_INSTRUCTORS           Unix user names, comma-separated                        (none)
FRAMELAB_TRAINEES              Unix user names, comma-separated                        (none)
FRAMELAB_HUB_IP / _PORT        where the hub listens                                   127.0.0.1 / 8000
FRAMELAB_HUB_API_PORT          the hub's internal port                                 8081
FRAMELAB_PROXY_API_PORT        configurable-http-proxy's API port                      8001
FRAMELAB_FORMGRADER_PORT       the formgrader service's port                           9999
FRAMELAB_HUB_AUTH              ``pam`` (Unix passwords) or ``dummy`` (tests only)      pam
FRAMELAB_HUB_ADMIN_TOKEN       if set, a ``framelab-admin`` service with this token    (unset)
                               that may manage users, servers and tokens (automation)
FRAMELAB_SPAWN_TIMEOUT         seconds a user's server may take to start (raise it     120
                               when a whole cohort logs in at once on a small machine)
=============================  ======================================================  ===================

Users are real Unix accounts (JupyterHub's LocalProcessSpawner starts each server as its user),
so the hub runs as root. See deploy/README.md.
"""

import os
import pwd
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub


def _names(var: str) -> list[str]:
    return [n.strip() for n in os.environ.get(var, "").split(",") if n.strip()]


HERE = Path(__file__).resolve().parent
ENV = Path(os.environ.get("FRAMELAB_ENV", "/opt/framelab"))
BIN = ENV / "bin"
COURSE = os.environ.get("FRAMELAB_COURSE_ID", "framelab")
GRADER = os.environ.get("FRAMELAB_GRADER_USER", "framelab-grader")
COURSE_ROOT = os.environ.get("FRAMELAB_COURSE_ROOT", f"/home/{GRADER}/course")
INSTRUCTORS = _names("FRAMELAB_INSTRUCTORS")
TRAINEES = _names("FRAMELAB_TRAINEES")
PATH = f"{BIN}:/usr/local/bin:/usr/bin:/bin"

# ---------------------------------------------------------------- network
c.JupyterHub.ip = os.environ.get("FRAMELAB_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("FRAMELAB_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("FRAMELAB_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('FRAMELAB_PROXY_API_PORT', '8001')}"

# ---------------------------------------------------------------- who may log in
if os.environ.get("FRAMELAB_HUB_AUTH", "pam") == "dummy":
    # tests only: any password (or the one given) logs in as any allowed user
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ.get("FRAMELAB_HUB_DUMMY_PASSWORD", "")
c.Authenticator.allowed_users = set(INSTRUCTORS) | set(TRAINEES)

# ---------------------------------------------------------------- roles, through groups
# nbgrader's course list finds courses through these group names: formgrade-<course> for those who
# grade, nbgrader-<course> for those who take it.
c.JupyterHub.load_groups = {
    f"formgrade-{COURSE}": {"users": INSTRUCTORS},
    f"nbgrader-{COURSE}": {"users": TRAINEES},
}
c.JupyterHub.load_roles = [
    {
        "name": f"formgrade-{COURSE}",
        "groups": [f"formgrade-{COURSE}"],
        "scopes": [f"access:services!service={COURSE}", "list:services", f"read:services!service={COURSE}"],
    },
    {
        "name": f"nbgrader-{COURSE}",
        "groups": [f"nbgrader-{COURSE}"],
        "scopes": ["list:services", f"read:services!service={COURSE}"],
    },
    # a user's server may do what its user may (nbgrader's course list asks the hub for services)
    {"name": "server", "scopes": ["inherit"]},
]

# ---------------------------------------------------------------- formgrader, as a hub service
# One shared grading server, run as the grader account in the course folder; every instructor in
# formgrade-<course> reaches it at /services/<course>/. It writes to the course's gradebook
# (CourseDirectory.db_url in the course's nbgrader_config.py: PostgreSQL for several graders).
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": f"http://127.0.0.1:{os.environ.get('FRAMELAB_FORMGRADER_PORT', '9999')}",
        "command": [str(BIN / "jupyterhub-singleuser"), f"--config={HERE / 'grader_server_config.py'}"],
        "user": GRADER,
        "cwd": COURSE_ROOT,
        # the instructors' page config switches formgrader's menu items back on (install-course-env.sh)
        "environment": {
            "JUPYTERHUB_DEFAULT_URL": "/lab",
            "PATH": PATH,
            "JUPYTER_CONFIG_PATH": str(ENV / "etc" / "jupyter" / "instructors"),
        },
    }
]

if os.environ.get("FRAMELAB_HUB_ADMIN_TOKEN"):
    c.JupyterHub.services.append({"name": "framelab-admin", "api_token": os.environ["FRAMELAB_HUB_ADMIN_TOKEN"]})
    c.JupyterHub.load_roles.append(
        {
            "name": "framelab-admin",
            "services": ["framelab-admin"],
            "scopes": ["admin:users", "admin:servers", "access:servers", "tokens", "list:services"],
        }
    )

# ---------------------------------------------------------------- everyone's own server
# The course environment's server; trainees' servers have formgrader switched off there (see
# install-course-env.sh), and framelab comes from its wheel.
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
# FRAMELAB_CACHE: the role-play detector's model, trained once by install-course-env.sh (read-only)
c.Spawner.environment = {"PATH": PATH, "FRAMELAB_CACHE": str(ENV / "share" / "framelab" / "cache")}


def _private_home(spawner) -> None:
    """Close the user's home folder to other users before their server starts. A trainee's answers
    and notebooks live there, and useradd leaves homes readable by everyone (0755) on Debian and
    Ubuntu unless HOME_MODE is set."""
    try:
        entry = pwd.getpwnam(spawner.user.name)
        info = os.stat(entry.pw_dir)
    except (KeyError, OSError):
        return
    if info.st_uid == entry.pw_uid and info.st_mode & 0o077:
        os.chmod(entry.pw_dir, info.st_mode & 0o7700)


c.Spawner.pre_spawn_hook = _private_home

# Kernels talk to their server over Unix sockets in the user's runtime folder, not loopback TCP
# ports: with a cohort starting kernels at once, two users' kernels picked the same free port
# ("Address already in use") and one kernel died (found by make test-load with 40 trainees).
c.Spawner.args = ["--KernelManager.transport=ipc"]
SPAWN_TIMEOUT = int(os.environ.get("FRAMELAB_SPAWN_TIMEOUT", "120"))
c.Spawner.http_timeout = SPAWN_TIMEOUT
c.Spawner.start_timeout = SPAWN_TIMEOUT

# ---------------------------------------------------------------- restarts lose nothing
# Restarting the hub (an upgrade, a crash) leaves everyone's server and kernel running: the new hub
# finds them in its database (jupyterhub.sqlite in its working folder) and routes to them again.
# If the proxy dies, the hub starts a new one within check_running_interval and restores the routes.
c.JupyterHub.cleanup_servers = False
c.ConfigurableHTTPProxy.check_running_interval = 5
