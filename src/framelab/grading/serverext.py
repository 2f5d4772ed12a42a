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
  the grader's rights and no sandbox. The page's script (below) takes the button away, and a request
  to it is answered with a message naming ``framelab grade``, which runs the same steps in the sandbox;
* shows work still to hand-grade as **pending**, never as a score: formgrader's lists draw a
  submission's score as "11 / 20" with every reflection still to grade counted as 0. A small script
  (``static/pending.js``, added to each formgrader page as it is sent) puts "pending" in those rows'
  score columns, with the score so far in the cell's title.

Where formgrader is switched off (a trainee's or self-study server) it does nothing. ``make install``
enables it in the environment; the hub's grader config names it.
"""

from __future__ import annotations

import json
from pathlib import Path
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


#: where the pending script is served, under the server's base URL (formgrader's own /formgrader/ paths
#: end in a catch-all, so it lives beside them), and the folder it is served from
PENDING_PATH = "framelab/formgrader/pending.js"
STATIC = Path(__file__).resolve().parent / "static"


def with_pending_script(page: bytes, base_url: str) -> bytes:
    """A formgrader page with the pending script added at the end of its head (once)."""
    tag = f'<script src="{base_url.rstrip("/")}/{PENDING_PATH}"></script>'.encode()
    if b"</head>" not in page or tag in page:
        return page
    return page.replace(b"</head>", tag + b"</head>", 1)


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


def _pending_transform(base_url: str) -> type:
    """A tornado output transform adding the pending script to formgrader's HTML pages (formgrader
    loads after this extension and makes its own templates, so the page is changed as it is sent)."""
    from tornado.web import OutputTransform

    prefix = base_url.rstrip("/") + "/formgrader/"

    class PendingScript(OutputTransform):
        def __init__(self, request: Any) -> None:
            self.on = request.path.startswith(prefix)

        def transform_first_chunk(self, status_code: int, headers: Any, chunk: bytes, finishing: bool) -> Any:
            html = headers.get("Content-Type", "").startswith("text/html")
            if self.on and finishing and status_code == 200 and html:
                chunk = with_pending_script(chunk, base_url)
                if "Content-Length" in headers:
                    headers["Content-Length"] = str(len(chunk))
            return status_code, headers, chunk

    return PendingScript


def _load_jupyter_server_extension(serverapp: Any) -> None:
    if not formgrader_enabled(serverapp):
        return
    from jupyter_server.utils import url_path_join
    from tornado.web import StaticFileHandler

    app = serverapp.web_app
    base_url = app.settings.get("base_url", "/")
    app.settings.setdefault("headers", {})["Content-Security-Policy"] = INSTRUCTOR_CSP
    route = url_path_join(base_url, AUTOGRADE_ROUTE)
    script = url_path_join(base_url, PENDING_PATH.rsplit("/", 1)[0], r"(pending\.js)")
    app.add_handlers(".*$", [(route, _handler()), (script, StaticFileHandler, {"path": str(STATIC)})])
    app.transforms.insert(0, _pending_transform(base_url))  # before any compression of the page
    # tornado puts each new group just before the server's own handlers, after those of extensions that
    # loaded earlier: ours moves to the front, so it answers before formgrader's own handler
    rules = app.default_router.rules
    rules.insert(0, rules.pop(-2))
    serverapp.log.info("framelab: formgrader's Autograde button is switched off (use framelab grade)")


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "framelab.grading.serverext"}]
