"""The instructor's Jupyter server, made safe to read trainees' work in (a Jupyter server extension).

Where nbgrader's formgrader runs (the grader's server on the hub, ``jupyter lab`` in the course root),
this extension

* sets a Content-Security-Policy on every page: scripts, styles, pictures and connections only from
  the server itself (and inline pictures); no plug-ins, no ``<base>``, no form sent elsewhere, no
  framing by another site. Formgrader's own page needs inline scripts, so the policy cannot forbid
  them: what stops a trainee's script is that their work is sanitised before formgrader shows it
  (:mod:`framelab.core.safehtml`); the policy stops a page from loading or sending anything off the
  server if something were ever missed;
* switches off formgrader's **Autograde** button: stock nbgrader would run the trainee's code with
  the grader's rights and no sandbox. Pressing it shows a message naming ``framelab grade``, which
  runs the same steps in the sandbox.

Where formgrader is switched off (a trainee's or self-study server) it does nothing. ``make install``
enables it in the environment; the hub's grader config names it.
"""

from __future__ import annotations

import json
from typing import Any

#: every page of a server where formgrader runs (JupyterLab included, which needs eval and blob: workers)
INSTRUCTOR_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
FORMGRADER = "nbgrader.server_extensions.formgrader"
AUTOGRADE_ROUTE = r"/formgrader/api/submission/([^/]+)/([^/]+)/autograde"
AUTOGRADE_OFF = (
    "Autograde from this page is switched off for Frame Lab: it would run {student}'s code with your "
    "rights and no sandbox. In a terminal in the course folder, run: framelab grade {assignment} "
    "--student {student} (or framelab grade {assignment} for everyone), then reload this page."
)


def autograde_refusal(assignment: str, student: str) -> dict[str, Any]:
    """What the Autograde button gets back: nbgrader's own answer shape, so its page shows the message."""
    text = AUTOGRADE_OFF.format(assignment=assignment, student=student)
    return {"success": False, "error": text, "log": text}


def formgrader_enabled(serverapp: Any) -> bool:
    enabled = getattr(serverapp, "jpserver_extensions", {}) or {}
    return bool(enabled.get(FORMGRADER))


def _handler() -> type:
    from jupyter_server.base.handlers import APIHandler
    from tornado import web

    class AutogradeOff(APIHandler):
        """Formgrader's Autograde button, answered with the way to grade in the sandbox."""

        @web.authenticated
        def post(self, assignment: str, student: str) -> None:
            self.finish(json.dumps(autograde_refusal(assignment, student)))

    return AutogradeOff


def _load_jupyter_server_extension(serverapp: Any) -> None:
    if not formgrader_enabled(serverapp):
        return
    from jupyter_server.utils import url_path_join

    app = serverapp.web_app
    app.settings.setdefault("headers", {})["Content-Security-Policy"] = INSTRUCTOR_CSP
    route = url_path_join(app.settings.get("base_url", "/"), AUTOGRADE_ROUTE)
    app.add_handlers(".*$", [(route, _handler())])
    # tornado puts each new group just before the server's own handlers, after those of extensions that
    # loaded earlier: ours moves to the front, so it answers before formgrader's own handler
    rules = app.default_router.rules
    rules.insert(0, rules.pop(-2))
    serverapp.log.info("framelab: formgrader's Autograde button is switched off (use framelab grade)")


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "framelab.grading.serverext"}]
