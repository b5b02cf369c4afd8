"""The apps of ``test_kept_answers.py``: one local mount (``GENRO_TEST_KEPT_ROOT``) at ``/s``.

The ASGI app is wrapped in :class:`Recorder`, which notes, per request path, whether the
server offered ``http.response.pathsend`` and how the body left the app (the type of the
last message); ``GET /_sent/<path>`` answers that note as JSON. The test reads it to show
which path a real server took: it cannot say ``pathsend`` unless the app sent one.
"""

from __future__ import annotations

import json
import os
from typing import Any

from genro_storage.serving.asgi_app import ASGIApp
from genro_storage.serving.wsgi_app import WSGIApp

ROOT = os.environ.get("GENRO_TEST_KEPT_ROOT", "")
MOUNTS = [{"name": "site", "type": "local", "path": ROOT}]
SERVE = {"/s": {"mount": "site", "cache_max_age": 60}}


class Recorder:
    """An ASGI wrapper recording how each response body was sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sent: dict[str, dict[str, Any]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/_sent/"):
            note = json.dumps(self.sent.get(path[len("/_sent") :])).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": note})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        note = {"offered": "http.response.pathsend" in (scope.get("extensions") or {})}

        async def spy(message: Any) -> None:
            if message["type"] != "http.response.start":
                note["last"] = message["type"]
                note["path"] = message.get("path")
            await send(message)

        self.sent[path] = note  # filled in as the messages go (before the client has them)
        await self.app(scope, receive, spy)


wsgi_app = WSGIApp(MOUNTS, SERVE)
asgi_app = Recorder(ASGIApp(MOUNTS, SERVE))


def warmed_wsgi_app() -> WSGIApp:
    """The WSGI app after answering each ``.css`` file at the root once. Made in gunicorn's
    master (``--preload``), its kept answers and its ``inotify`` instance are inherited by
    the forked workers, which must drop them (``serving/watch.py``)."""
    app = WSGIApp(MOUNTS, SERVE)
    for name in sorted(os.listdir(ROOT)):
        if name.endswith(".css"):
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/s/{name}", "QUERY_STRING": ""}
            b"".join(app(environ, lambda status, headers, exc_info=None: None))
    assert len(app.hot or ()) > 0, "the master keeps answers before it forks"
    return app
