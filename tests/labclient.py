"""A trainee's JupyterLab on the hub, as its requests (for ``tests/test_load.py``): the Contents,
Sessions and Kernels APIs, the kernel's websocket (Jupyter's JSON protocol), nbgrader's Assignment
List handlers, and the code the course's widgets run when a trainee clicks and chooses.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from typing import Any

import requests
import websocket
from hubkit import ASSIGNMENT, COURSE, Hub


class KernelError(AssertionError):
    pass


class Trainee:
    """One trainee's JupyterLab, as its requests: the Contents, Sessions and Kernels APIs, the kernel's
    websocket (Jupyter's JSON protocol), and nbgrader's Assignment List handlers."""

    def __init__(self, hub: Hub, user: str, token: str):
        self.hub, self.user, self.token = hub, user, token
        self.headers = {"Authorization": f"token {token}"}
        self.base = f"{hub.url}/user/{user}"
        self.kernel_id: str | None = None
        self.ws: websocket.WebSocket | None = None
        self.session = uuid.uuid4().hex
        self.http = requests.Session()
        self.http.headers.update(self.headers)

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(f"{self.base}/{path}", timeout=kw.pop("timeout", 120), **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.http.post(f"{self.base}/{path}", timeout=kw.pop("timeout", 300), **kw)

    def put(self, path: str, **kw) -> requests.Response:
        return self.http.put(f"{self.base}/{path}", timeout=kw.pop("timeout", 120), **kw)

    # ---------------------------------------------------------------- nbgrader's Assignment List

    def fetch(self) -> None:
        listed = self.get(f"assignments?course_id={COURSE}")
        assert listed.ok and ASSIGNMENT in listed.text, listed.text[:2000]
        r = self.post("assignments/fetch", data={"course_id": COURSE, "assignment_id": ASSIGNMENT})
        assert r.ok and json.loads(r.text).get("success"), r.text[:2000]

    def submit(self) -> dict[str, Any]:
        r = self.post("assignments/submit", data={"course_id": COURSE, "assignment_id": ASSIGNMENT})
        assert r.ok, r.text[:2000]
        return json.loads(r.text)

    # ---------------------------------------------------------------- notebook and kernel

    def open_notebook(self) -> dict[str, Any]:
        r = self.get(f"api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb?type=notebook&content=1")
        assert r.ok, r.text[:2000]
        return r.json()["content"]

    def read_file(self, name: str) -> str:
        r = self.get(f"api/contents/{ASSIGNMENT}/{name}?type=file&format=text&content=1")
        assert r.ok, r.text[:2000]
        return r.json()["content"]

    def start_kernel(self) -> None:
        body = {
            "path": f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
            "name": f"{ASSIGNMENT}.ipynb",
            "type": "notebook",
            "kernel": {"name": "python3"},
        }
        r = self.post("api/sessions", json=body)
        assert r.status_code == 201, r.text[:2000]
        self.kernel_id = r.json()["kernel"]["id"]
        self.connect()

    def connect(self, limit: float = 120) -> None:
        ws_base = self.base.replace("http://", "ws://")
        url = f"{ws_base}/api/kernels/{self.kernel_id}/channels?session_id={self.session}"
        start, last = time.monotonic(), None
        while time.monotonic() - start < limit:
            try:
                self.ws = websocket.create_connection(url, header=[f"Authorization: token {self.token}"], timeout=300)
                return
            except (OSError, websocket.WebSocketException) as exc:
                last = exc
                time.sleep(1)
        raise KernelError(f"{self.user}: the kernel's websocket did not open within {limit:.0f} s: {last}")

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.ws.close()
            self.ws = None

    def send(self, code: str) -> str:
        """Send an execute request on the kernel's websocket (Jupyter's JSON protocol); return its id."""
        assert self.ws is not None
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "username": self.user,
            "session": self.session,
            "msg_type": "execute_request",
            "version": "5.3",
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
        self.ws.send(json.dumps({**message, "buffers": []}))
        return msg_id

    def execute(self, code: str, limit: float = 300) -> str:
        """Run ``code`` in the kernel as JupyterLab does; return its printed output, or raise with its error."""
        assert self.ws is not None
        msg_id = self.send(code)
        out: list[str] = []
        error: str | None = None
        replied = idle = False
        start = time.monotonic()
        while not (replied and idle):
            if time.monotonic() - start > limit:
                raise KernelError(f"{self.user}: no reply from the kernel within {limit:.0f} s")
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                error = "\n".join(msg["content"]["traceback"])
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                replied = True
        if error is not None:
            raise KernelError(f"{self.user}: the kernel raised:\n{error}")
        return "".join(out)


def setup_cell(notebook: dict[str, Any]) -> str:
    """The source of the notebook's setup cell (grade id ``*_setup``)."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader", {}).get("grade_id", "").endswith("_setup"):
            source = cell["source"]
            return "".join(source) if isinstance(source, list) else source
    raise AssertionError("the notebook has no setup cell")


def roleplay_turn_code(scenario: str, reply: str, ticks: list[str]) -> str:
    """One role-play turn through the role-play widget: type a reply, tick moves, press Respond."""
    return (
        f"lesson.roleplay({scenario!r})\n"
        "_rp = lesson.view\n"
        f"_rp.reply.value = {reply!r}\n"
        f"for _lab in {ticks!r}:\n"
        "    _rp.ticks[_lab].value = True\n"
        "_rp.respond.click()\n"
        "print('turns', len(_rp.session.turns))\n"
    )


def save_choices_code(exercise: str, picks: dict[str, Any]) -> str:
    """Choose in an exercise's menus (or tick boxes) as a trainee does: every change saves answers.json."""
    return (
        f"_ex = lesson.exercise({exercise!r})\n"
        "_ex.pick()\n"
        f"for _item, _value in {picks!r}.items():\n"
        "    if _ex.view.menus:\n"
        "        _ex.view.menus[_item].value = _value\n"
        "    else:\n"
        "        for _lab in _value:\n"
        "            _ex.view.ticks[_item][_lab].value = True\n"
        "print(_ex.view.status.value)\n"
    )
