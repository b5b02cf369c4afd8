"""An ASGI app serving mounts under URL prefixes.

::

    from genro_storage.serving.asgi_app import ASGIApp

    app = ASGIApp("storage.yaml")
    routes = [Mount("/files", app=ASGIApp(storage, serve={"/": "uploads"}))]   # Starlette

Blocking work (stat, listing, small reads) runs in one worker thread per request; large
bodies stream chunk by chunk (or through ``http.response.pathsend`` when the server
offers it). ``uvicorn --factory genro_storage.serving.asgi_app:create_app`` reads
``GENRO_STORAGE_CONFIG``.
"""

from __future__ import annotations

import os

from ..http.headers import headers_from_scope
from .app import FileServer, Request
from .asgi import Receive, Scope, Send, run_sync, send_prepared

__all__ = ["ASGIApp", "create_app"]


class ASGIApp(FileServer):
    """The file server as an ASGI application (see :class:`.FileServer`)."""

    def request_from(self, scope: Scope) -> Request:
        """The :class:`Request` for an ASGI HTTP ``scope``."""
        root = scope.get("root_path", "")
        path = scope["path"]
        if root and path.startswith(root):  # Starlette's Mount keeps the prefix in path
            path = path[len(root) :]
        raw = scope.get("raw_path")
        return Request(
            method=scope.get("method", "GET"),
            path=path,
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers_from_scope(scope),
            raw_path=raw.decode("latin-1").split("?", 1)[0] if raw else None,
            root=root,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                kind = (await receive())["type"]
                if kind == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif kind == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            raise RuntimeError(f"ASGIApp serves HTTP, not {scope['type']!r}")
        request = self.request_from(scope)
        prepared = await run_sync(self.get_response, request)
        await send_prepared(prepared, scope, receive, send)


def create_app(config: str | None = None) -> ASGIApp:
    """An :class:`ASGIApp` from ``config`` or the file named by ``GENRO_STORAGE_CONFIG``."""
    path = config or os.environ.get("GENRO_STORAGE_CONFIG")
    if not path:
        raise RuntimeError("create_app(): pass a config path or set GENRO_STORAGE_CONFIG")
    return ASGIApp(path)
