#!/usr/bin/env bash
# What the test suite needs beyond Python, installed when this machine lets us (root, or sudo without a
# password); otherwise one line naming what to install, and a non-zero exit. Called by `make test`.
#   Debian: chromium (browser test), postgresql (PostgreSQL gradebook and hub tests), python3-venv (the hub's
#           course environment), bubblewrap (the grading sandbox), nodejs and npm (the two npm packages below)
#   npm:    configurable-http-proxy (JupyterHub's proxy); the browser test installs axe-core itself with npm
set -euo pipefail

apt_need=()
command -v chromium >/dev/null 2>&1 || apt_need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_need+=(postgresql)
/usr/bin/python3 -c "import ensurepip, venv" >/dev/null 2>&1 || apt_need+=(python3-venv)
command -v bwrap >/dev/null 2>&1 || apt_need+=(bubblewrap)
command -v npm >/dev/null 2>&1 || apt_need+=(nodejs npm)
npm_need=()
command -v configurable-http-proxy >/dev/null 2>&1 || npm_need+=("configurable-http-proxy@4")

if [ ${#apt_need[@]} -eq 0 ] && [ ${#npm_need[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    what=""
    [ ${#apt_need[@]} -gt 0 ] && what="sudo apt-get install ${apt_need[*]}"
    [ ${#npm_need[@]} -gt 0 ] && what="${what:+$what; }sudo npm install -g ${npm_need[*]}"
    echo "make test needs system packages it cannot install without root: run '$what', then make test again." >&2
    exit 1
  fi
fi

if [ ${#apt_need[@]} -gt 0 ]; then
  echo "Installing Debian packages for the tests: ${apt_need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${apt_need[@]}" >/dev/null
fi
if [ ${#npm_need[@]} -gt 0 ]; then
  echo "Installing npm packages for the tests: ${npm_need[*]}"
  $SUDO npm install -g --silent "${npm_need[@]}"
fi
