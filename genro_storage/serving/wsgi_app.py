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
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ..http.headers import EnvironHeaders
from .app import FileServer, Request
from .wsgi import STATUS_LINES, StartResponse, send_prepared

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
            kept = hot.environ_answer(environ)
            if kept is not None:
                plan, body = kept.plan, kept.body
                if body is None and plan.parts:  # the file's bytes are still to send
                    return send_prepared(kept, environ, start_response)
                # send_prepared's first case inline (a frame less per request)
                status = STATUS_LINES.get(plan.status) or plan.status_line
                start_response(status, list(plan.headers))
                body = plan.body or body
                return [body] if body else []
        prepared = self.get_response(self.request_from(environ))
        return send_prepared(prepared, environ, start_response)


def create_app(config: str | None = None) -> WSGIApp:
    """A :class:`WSGIApp` from ``config`` or the file named by ``GENRO_STORAGE_CONFIG``."""
    path = config or os.environ.get("GENRO_STORAGE_CONFIG")
    if not path:
        raise RuntimeError("create_app(): pass a config path or set GENRO_STORAGE_CONFIG")
    return WSGIApp(path)
