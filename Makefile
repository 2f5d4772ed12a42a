# Frame Lab: the interface for learners, instructors and developers.
#   make lab       open JupyterLab on your own workspace (installs on first run)
#   make test      the whole test suite
#   make test-fast the inner loop for developers (under 90 s)
# See README.md for the rest.

PYTHON    ?= python3
VENV      ?= .venv
PORT      ?= 8888
WORKSPACE ?= workspace
BIN       := $(abspath $(VENV))/bin
STAMP     := $(VENV)/.framelab-installed
# nbgrader runs helpers such as `alembic` by name, so the environment's bin comes first
export PATH := $(BIN):$(PATH)
ASSIGNMENTS := $(notdir $(wildcard source/m*))

.PHONY: install system-deps lab workspace test test-fast test-browser test-hub test-load lint validate release bench demo adversarial

install: $(STAMP)

# (the JupyterLab extension is copied into the environment at install, so a change to it installs again)
$(STAMP): pyproject.toml $(wildcard src/framelab/labextension/*.json src/framelab/labextension/static/*)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Frame Lab needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade "uv>=0.4,<1"
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[test]'
	@# bytecode for everything, the package and packages a reused .venv already held (uv compiles only what it
	@# installs): where PYTHONDONTWRITEBYTECODE is set, every command and kernel would compile them afresh
	@$(BIN)/python -m compileall -q -j0 src/framelab "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null
	@$(BIN)/jupyter server extension enable --sys-prefix nbgrader.server_extensions.validate_assignment >/dev/null 2>&1
	@$(BIN)/jupyter labextension enable @jupyter/nbgrader >/dev/null 2>&1
	@$(BIN)/jupyter labextension enable @jupyter-widgets/jupyterlab-manager >/dev/null 2>&1
	@$(BIN)/jupyter labextension list 2>&1 | grep -q "@jupyter-widgets/jupyterlab-manager.*enabled" || { echo "the widgets extension is not enabled" >&2; exit 1; }
	@$(BIN)/jupyter labextension list 2>&1 | grep -q "@jupyter/nbgrader.*enabled" || { echo "the nbgrader extension is not enabled" >&2; exit 1; }
	@$(BIN)/framelab detect --train
	@touch $@
	@echo "Installed into $(VENV)."

# Copy the release into your workspace; files you already have are never touched.
workspace: install
	@$(BIN)/framelab workspace --release release --to $(WORKSPACE)

# A trainee's or self-study JupyterLab: nbgrader's formgrader, create-assignment, assignment and
# course lists are switched off (there is no exchange here); Validate stays. One link is printed,
# with its token (JUPYTER_TOKEN if set, else a fresh one), to the course home (home.ipynb: progress
# and the next step); the server's own log is kept to warnings. src/framelab/data/trainee-jupyter
# also puts framelab on the PATH of JupyterLab's terminals and leaves a Resume note in saved notebooks.
TRAINEE_JUPYTER := $(abspath src/framelab/data/trainee-jupyter)
lab: workspace
	@token="$${JUPYTER_TOKEN:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(24))')}"; \
	echo "Frame Lab is ready. Open http://127.0.0.1:$(PORT)/lab/tree/home.ipynb?token=$$token (Ctrl+C here stops it)"; \
	cd $(WORKSPACE) && JUPYTER_TOKEN="$$token" \
		JUPYTER_CONFIG_PATH="$(TRAINEE_JUPYTER)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		exec $(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.port_retries=0 --ServerApp.root_dir=. --ServerApp.log_level=WARN --LabApp.log_level=WARN \
		$(if $(filter 0,$(shell id -u)),--allow-root)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

validate: install
	$(BIN)/framelab validate

# What the tests need beyond Python (Chromium, PostgreSQL, bubblewrap, configurable-http-proxy, axe-core):
# installed when this machine allows (root, or sudo without a password), else one line naming what to install.
system-deps:
	@bash tests/setup-system.sh

# Tests run on every core (pytest-xdist); each test works in its own temporary folders.
test: install system-deps lint validate
	$(BIN)/python -m pytest -n auto --dist loadgroup --durations=10

# The inner loop (under 90 s on 2 cores): ruff, then every test not marked slow, browser, hub or load.
# Slow ones run nbgrader, Jupyter or a whole build end to end (pyproject.toml's markers say which);
# `make test` runs them all.
test-fast: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/python -m pytest -n auto --dist loadgroup -q -m "not slow and not browser and not hub and not load"

# The real-browser test alone (Debian's chromium; also part of `make test`).
test-browser: install system-deps
	$(BIN)/python -m pytest -m browser

# JupyterHub end to end on loopback (deploy/jupyterhub/, PostgreSQL gradebook; also part of
# `make test`). Needs root, Debian's postgresql and npm's configurable-http-proxy (system-deps installs them).
test-hub: install system-deps
	$(BIN)/python -m pytest -m hub -p no:cacheprovider

# A whole cohort on one hub at once (LOAD_TRAINEES, default 40) and its faults; figures printed and
# written to test-output/load-figures.json. Not part of `make test` (.ci/run runs it after); needs
# what test-hub needs. One load run at a time on a machine (a second one stops and says so).
LOAD_TRAINEES ?= 40
test-load: install system-deps
	LOAD_TRAINEES=$(LOAD_TRAINEES) $(BIN)/python -m pytest -m load -p no:cacheprovider -s tests/test_load.py

# Regenerate source/ content files from modules/, then release/ with nbgrader.
release: install
	$(BIN)/framelab build
	@for a in $(ASSIGNMENTS); do \
		$(BIN)/nbgrader generate_assignment "$$a" --force --log-level=WARN || exit 1; \
	done
	@echo "release/ regenerated for: $(ASSIGNMENTS)"

# Performance figures (printed, not asserted).
bench: install
	$(BIN)/python tests/benchmarks/bench_roleplay.py
	$(BIN)/python tests/benchmarks/bench_autograde.py
	$(BIN)/python tests/benchmarks/bench_detect.py
	$(BIN)/python tests/benchmarks/bench_heldout.py
	$(BIN)/python tests/benchmarks/bench_guard_levers.py
	$(BIN)/python tests/benchmarks/bench_grade.py
	$(BIN)/python tests/benchmarks/bench_isolation.py
	$(BIN)/python tests/benchmarks/bench_term.py
	$(BIN)/python tests/benchmarks/bench_startup.py
	$(BIN)/python tests/benchmarks/bench_feedback.py
	$(BIN)/python tests/benchmarks/bench_safety.py
	$(BIN)/python tests/benchmarks/bench_selfstudy.py

# The instructor's whole cycle on a simulated cohort: grades.csv, report.html and plots in $(DEMO_OUT) (git-ignored).
DEMO_OUT ?= test-output/demo
demo: install
	$(BIN)/framelab demo --out $(DEMO_OUT)

# Each cheat in the adversarial corpus, scored by stock nbgrader and by framelab grade (slow: minutes per module).
adversarial: install
	cd tests && $(BIN)/python adversarial.py $(ASSIGNMENT)
