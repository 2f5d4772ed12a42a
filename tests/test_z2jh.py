"""The Zero to JupyterHub fragments in ``deploy/z2jh/`` as far as they can be checked without a
cluster: the hub's part loads into JupyterHub's own configuration (as the chart passes it), every
scope in it exists, and it grants what the single-server hub grants. The image is not built here
(no container engine); its recipe is checked to install from the wheel only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from jupyterhub.app import JupyterHub
from jupyterhub.scopes import _check_scopes_exist
from traitlets.config import Config

Z2JH = ROOT / "deploy" / "z2jh"


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((Z2JH / "values.yaml").read_text(encoding="utf-8"))


def hub_config(values: dict) -> Config:
    """What the chart hands JupyterHub: hub.config as traitlets config, loadRoles and services as lists."""
    hub = values["hub"]
    config = Config(hub["config"])
    config.JupyterHub.load_roles = [{"name": name, **role} for name, role in hub["loadRoles"].items()]
    config.JupyterHub.services = [{"name": name, **svc} for name, svc in hub["services"].items()]
    return config


def test_the_hub_part_loads_into_jupyterhub(values):
    app = JupyterHub(config=hub_config(values))
    # reading the traits validates them (a wrong type or name raises here)
    assert set(app.load_groups) == {"formgrade-framelab", "nbgrader-framelab"}
    assert app.cleanup_servers is False
    assert {r["name"] for r in app.load_roles} == {"formgrade-framelab", "nbgrader-framelab", "server"}
    assert [s["name"] for s in app.services] == ["framelab"]


def test_every_scope_exists(values):
    for name, role in values["hub"]["loadRoles"].items():
        _check_scopes_exist(role["scopes"], who_for=name)


def test_the_roles_match_the_single_server_hub(values, monkeypatch):
    monkeypatch.setenv("FRAMELAB_INSTRUCTORS", "alice,bilal")
    monkeypatch.setenv("FRAMELAB_COURSE_ID", "framelab")
    monkeypatch.delenv("FRAMELAB_HUB_ADMIN_TOKEN", raising=False)
    config = Config()
    namespace = {"get_config": lambda: config, "__file__": str(ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py")}
    exec(compile(Path(namespace["__file__"]).read_text(), namespace["__file__"], "exec"), namespace)
    single = {r["name"]: sorted(r["scopes"]) for r in config.JupyterHub.load_roles}
    k8s = {name: sorted(r["scopes"]) for name, r in values["hub"]["loadRoles"].items()}
    assert single == k8s


def test_the_image_is_built_from_the_wheel_with_the_course_script():
    recipe = (Z2JH / "Dockerfile").read_text(encoding="utf-8")
    copied = [line.split()[1] for line in recipe.splitlines() if line.startswith("COPY ")]
    assert copied == ["dist/framelab-*.whl", "deploy/jupyterhub/install-course-env.sh"]
    # nothing with an answer key goes into the image
    assert not any(word in recipe for word in ("source/", "modules/", "COPY . ", "pip install -e"))
    assert "install-course-env.sh /opt/conda" in recipe
