# A JupyterLab terminal in Frame Lab: the learner's own shell set-up, then the course's environment
# first on the PATH, so that `framelab` is the course's own command (see jupyter_server_config.py).
[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc
[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"
if [ -n "$FRAMELAB_BIN" ]; then
    export PATH="$FRAMELAB_BIN:$PATH"
fi
