"""A WSGI app serving mounts under URL prefixes.

::

    from genro_storage.serving.wsgi_app import WSGIApp

    app = WSGIApp("storage.yaml")               # {mounts: [...], serve: {...}}
    app = WSGIApp(storage, serve={"/media": {"mount": "uploads", "cache_max_age": 3600}})

Mount it anywhere a WSGI callable goes (werkzeug ``DispatcherMiddleware``, Django/Flask
URL dispatch, gunicorn directly: ``gunicorn 'genro_storage.serving.wsgi_app:create_app()'``
with ``GENRO_STORAGE_CONFIG`` naming the config file).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ..http.headers import EnvironHeaders
from .app import FileServer, Request
from .hot import ENVIRON_FIELDS, ORIGIN
from .wsgi import StartResponse, send_prepared

_E0, _E1, _E2, _E3, _E4, _E5, _E6 = ENVIRON_FIELDS
_monotonic_ns = time.monotonic_ns

__all__ = ["WSGIApp", "create_app"]


class WSGIApp(FileServer):
    """The file server as a WSGI application (see :class:`.FileServer`)."""

    def request_from(self, environ: dict[str, Any]) -> Request:
        """The :class:`Request` for a WSGI ``environ``."""
        path = environ.get("PATH_INFO", "")
        if not path.isascii():
            try:  # PEP 3333: the request's bytes decoded as latin-1; some servers give text
                path = path.encode("latin-1").decode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                pass
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        return Request(  # positional arguments: a quarter cheaper than keywords here
            environ.get("REQUEST_METHOD", "GET"),
            path,
            environ.get("QUERY_STRING", ""),
            EnvironHeaders(environ),
            urlsplit(raw).path if raw else None,
            environ.get("SCRIPT_NAME", ""),
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        hot = self.hot
        if hot is not None:  # a kept answer (serving/hot.py) without building a Request
            get = environ.get
            path = get("PATH_INFO", "")
            entry = hot.entries.get(path)
            # an ASCII path (else PATH_INFO is latin-1, not the name), GET or HEAD, no "%"
            # or "\\" in the request target: the path is the one the entry was kept for
            if entry is not None and path.isascii():
                method = get("REQUEST_METHOD", "GET")
                raw = get("RAW_URI") or get("REQUEST_URI")
                if (method == "GET" or method == "HEAD") and not (
                    raw and ("%" in raw or "\\" in raw)
                ):
                    key = (
                        method, get(_E0), get(_E1), get(_E2), get(_E3), get(_E4), get(_E5),
                        get(_E6), ORIGIN in environ,
                    )  # fmt: skip
                    # the most common case in this frame: an answer with nothing left to
                    # read, of a watched entry whose freshness window has not passed
                    watcher = entry.watcher
                    token = entry.token
                    if (
                        watcher is not None
                        and token is not None
                        and token.valid
                        and entry.mounts == self.storage.generation
                        and _monotonic_ns() - watcher.checked_at < entry.window
                    ):
                        try:
                            wire = entry.wsgi.get(key)
                        except TypeError:  # an unhashable environ value: not from a server
                            wire = None
                        if wire is not None:
                            status, headers, body = wire
                            start_response(status, list(headers))  # a copy: servers add
                            return [body] if body else []
                    kept = hot.answer(path, method, None, key)
                    if kept is not None:
                        return send_prepared(kept, environ, start_response)
        prepared = self.get_response(self.request_from(environ))
        return send_prepared(prepared, environ, start_response)


def create_app(config: str | None = None) -> WSGIApp:
    """A :class:`WSGIApp` from ``config`` or the file named by ``GENRO_STORAGE_CONFIG``."""
    path = config or os.environ.get("GENRO_STORAGE_CONFIG")
    if not path:
        raise RuntimeError("create_app(): pass a config path or set GENRO_STORAGE_CONFIG")
    return WSGIApp(path)
