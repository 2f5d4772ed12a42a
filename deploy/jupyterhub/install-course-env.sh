#!/usr/bin/env bash
# Install (or update) a Frame Lab course environment for JupyterHub. Run as root.
#
#   deploy/jupyterhub/install-course-env.sh ENV WHEEL
#
# ENV    the environment to create or update (a venv), e.g. /opt/framelab
# WHEEL  framelab's wheel (`python -m build --wheel` in a clone): installed, never editable, so
#        trainees' servers import framelab without any path to the course's answer key
#
# and, from the environment (the same names as jupyterhub_config.py):
# FRAMELAB_EXCHANGE      nbgrader's exchange folder (default /srv/nbgrader/exchange)
# FRAMELAB_COURSE_ID     the nbgrader course id (default framelab)
# FRAMELAB_GRADER_USER   the account that releases and collects (default framelab-grader); it owns
#                        the course's exchange folders, as nbgrader requires
# FRAMELAB_INSTRUCTORS_GROUP  the Unix group whose members may read submissions (default
#                        framelab-instructors; the grader account must be in it). The inbound
#                        folder is made set-group to it, so that submissions are closed to other
#                        trainees (framelab.exchange.PrivateSubmit)
set -euo pipefail
ENV=${1:?give the environment folder}
WHEEL=${2:?give the path of the framelab wheel}
EXCHANGE=${FRAMELAB_EXCHANGE:-/srv/nbgrader/exchange}
COURSE=${FRAMELAB_COURSE_ID:-framelab}
GRADER=${FRAMELAB_GRADER_USER:-framelab-grader}
GROUP=${FRAMELAB_INSTRUCTORS_GROUP:-framelab-instructors}
PYTHON=${PYTHON:-python3}

[ -x "$ENV/bin/python" ] || "$PYTHON" -m venv "$ENV"
"$ENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade "uv>=0.4,<1"
"$ENV/bin/uv" pip install -q --python "$ENV/bin/python" --reinstall-package framelab "${WHEEL}[hub]"

# Trainees' servers run without the instructor extensions; the formgrader service switches them
# back on for itself (grader_server_config.py).
for ext in formgrader course_list; do
  "$ENV/bin/jupyter" server extension disable --sys-prefix "nbgrader.server_extensions.$ext" >/dev/null 2>&1
done

# ...and without their menu items: nbgrader's lab extension plugins for formgrader, creating
# assignments and the course list are switched off in JupyterLab's page config for everyone, and
# back on in the instructors' page config, which only the formgrader service reads
# (JUPYTER_CONFIG_PATH in jupyterhub_config.py). The plugin ids are those of nbgrader's labextension.
INSTRUCTOR_PLUGINS='"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:course-list"'
page_config() {  # $1: true (switched off) or false (switched back on)
  local items="" id
  for id in ${INSTRUCTOR_PLUGINS//,/ }; do items="${items:+$items, }$id: $1"; done
  printf '{\n  "disabledExtensions": {%s}\n}\n' "$items"
}
mkdir -p "$ENV/etc/jupyter/labconfig" "$ENV/etc/jupyter/instructors/labconfig"
page_config true > "$ENV/etc/jupyter/labconfig/page_config.json"
page_config false > "$ENV/etc/jupyter/instructors/labconfig/page_config.json"

# The role-play's feedback detector, trained once here into a cache every server reads
# (FRAMELAB_CACHE in jupyterhub_config.py) instead of once per trainee on their first reply: with
# a cohort starting together, that training was most of a first role-play turn's time.
mkdir -p "$ENV/share/framelab/cache"
FRAMELAB_CACHE="$ENV/share/framelab/cache" "$ENV/bin/framelab" detect --train >/dev/null

# The course's nbgrader settings for every user of this environment.
mkdir -p "$ENV/etc/jupyter"
cat > "$ENV/etc/jupyter/nbgrader_config.py" <<EOF
# Written by deploy/jupyterhub/install-course-env.sh: the course's settings for every user.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "$COURSE"
c.Exchange.root = "$EXCHANGE"
# Submissions only the trainee and the instructors' group can read (framelab.exchange).
c.ExchangeFactory.submit = "framelab.exchange.PrivateSubmit"
# Collecting refuses a folder made in another trainee's name, never follows a link, and is bounded.
c.ExchangeFactory.collect = "framelab.exchange.SafeCollect"
EOF

# The exchange: anyone may create a course folder, no one may remove another's (sticky). The
# course's folder and inbound belong to the grader account (nbgrader refuses folders it does not own).
mkdir -p "$EXCHANGE/$COURSE/inbound"
chmod 1777 "$EXCHANGE"
chown "$GRADER" "$EXCHANGE/$COURSE" "$EXCHANGE/$COURSE/inbound"
chmod 0755 "$EXCHANGE/$COURSE"
if getent group "$GROUP" >/dev/null; then
  chgrp "$GROUP" "$EXCHANGE/$COURSE/inbound"
  # trainees write but cannot list; new files join $GROUP; sticky: no one renames or removes another's
  chmod 3733 "$EXCHANGE/$COURSE/inbound"
else
  echo "warning: no Unix group '$GROUP': submissions stay as stock nbgrader leaves them" >&2
  chmod 1733 "$EXCHANGE/$COURSE/inbound"
fi
chmod -R a+rX "$ENV"
echo "Course environment ready: $ENV (framelab $("$ENV/bin/python" -c 'import framelab; print(framelab.__version__)'))"
