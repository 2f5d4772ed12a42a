# The trainee's (and self-study learner's) JupyterLab: read by `make lab` through JUPYTER_CONFIG_PATH,
# beside jupyter_server_config.d/ (the nbgrader tools switched off).
#
# * Saving a notebook leaves a Resume note where each widget was (framelab.views.resume), so that a
#   module reopened later never shows "Error displaying widget: model not found". The hook is given
#   as the function itself: jupyter_server 2 does not import a hook named by a string.
# * JupyterLab's terminals open a shell that keeps this environment's bin first on the PATH, so
#   `framelab progress` and `framelab check` work there as the README says (a login shell, which
#   jupyter_server starts when it has no terminal of its own, would reset the PATH from /etc/profile).
# * Kernels talk to the server over local sockets (IPC), not TCP: nothing leaves the machine, and each
#   kernel no longer prints a warning about unencrypted TCP into the learner's terminal.
# * The server's warning that a notebook "is not trusted" is left out of the log: every course notebook
#   is untrusted until run, which is how JupyterLab keeps the learner safe, not something to fix.
import logging
import os
import shutil
import sys
import warnings
from pathlib import Path

from framelab.views.resume import pre_save

c = get_config()  # noqa: F821 (traitlets provides it)
c.ContentsManager.pre_save_hook = pre_save
# the server applies its config twice, and says so for the hook each time: the same hook, nothing to report
warnings.filterwarnings("ignore", message="Overriding existing pre_save_hook")

_HERE = Path(__file__).resolve().parent
os.environ["FRAMELAB_BIN"] = str(Path(sys.executable).parent)
if shutil.which("bash"):
    c.ServerApp.terminado_settings = {"shell_command": ["bash", "--rcfile", str(_HERE / "terminal.bashrc"), "-i"]}
if os.name == "posix":
    c.KernelManager.transport = "ipc"


class _NotTrustedIsNotNews(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "is not trusted" not in record.getMessage()


for _name in ("ServerApp", "LabApp"):
    logging.getLogger(_name).addFilter(_NotTrustedIsNotNews())
