"""An ASGI app serving mounts under URL prefixes.

::

    from genro_storage.serving.asgi_app import ASGIApp

    app = ASGIApp("storage.yaml")
    routes = [Mount("/files", app=ASGIApp(storage, serve={"/": "uploads"}))]   # Starlette

A route on local disk (a ``local`` mount, or a relative mount over one, without
``index``) is answered in the event loop, unless a subclass overrides ``lookup``,
``check_access``, ``get_node`` or ``get_response`` (its code may block): the work is one
``lstat`` and, for a small file, one read of at most 64 KiB, cheaper than the hop to a
worker thread. Everything else (remote mounts, directory listings) runs in one worker
thread per request. Large bodies stream chunk by chunk (or through
``http.response.pathsend`` when the server offers it).
``uvicorn --factory genro_storage.serving.asgi_app:create_app`` reads
``GENRO_STORAGE_CONFIG``.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from ..errors import StorageError
from ..http.headers import headers_from_scope
from .app import FileServer, Request, canonical_path
from .asgi import (
    Receive,
    Scope,
    Send,
    lifespan,
    run_sync,
    send_prepared,
    start_message,
    whole_body,
)

__all__ = ["ASGIApp", "create_app"]

_HOOKS = ("lookup", "check_access", "get_node", "get_response")


class ASGIApp(FileServer):
    """The file server as an ASGI application (see :class:`.FileServer`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # backend -> on local disk (weak: a remounted backend is asked again)
        self._inline: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
        # a subclass's own lookup/check_access/get_node/get_response may block: thread
        self._hooks_overridden = any(
            getattr(type(self), name) is not getattr(ASGIApp, name) for name in _HOOKS
        )

    def answers_inline(self, request: Request) -> bool:
        """True when ``request``'s answer needs only local disk (a stat, a small read) and
        is computed in the event loop; False sends it to a worker thread (remote mounts,
        listings, anything unknown)."""
        if self._hooks_overridden:
            return False
        hot = self.hot
        if hot is not None and request.path in hot:  # kept: a plain local route
            return True
        path = canonical_path(request.path)
        match = None if path is None else self.lookup(path)
        if match is None:
            return False
        route = match[0]
        if route.index:
            return False
        try:
            backend = self.storage.get_backend(route.mount)
        except StorageError:
            return False
        known = self._inline.get(backend)
        if known is None:
            try:
                known = backend.os_path("") is not None
            except (StorageError, OSError):
                known = False
            self._inline[backend] = known
        return known

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
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"ASGIApp serves HTTP, not {scope['type']!r}")
        hot = self.hot
        if hot is not None:  # a kept answer (serving/hot.py) without building a Request
            kept = hot.asgi_answer(scope)
            if kept is not None:
                body = whole_body(kept)
                if body is None:
                    await send_prepared(kept, scope, receive, send)
                else:  # send_prepared's first case, one coroutine less per request
                    await send(start_message(kept.plan))
                    await send({"type": "http.response.body", "body": body, "more_body": False})
                return
        request = self.request_from(scope)
        if self.answers_inline(request):
            prepared = self.get_response(request)
        else:
            prepared = await run_sync(self.get_response, request)
        await send_prepared(prepared, scope, receive, send)


def create_app(config: str | None = None) -> ASGIApp:
    """An :class:`ASGIApp` from ``config`` or the file named by ``GENRO_STORAGE_CONFIG``."""
    path = config or os.environ.get("GENRO_STORAGE_CONFIG")
    if not path:
        raise RuntimeError("create_app(): pass a config path or set GENRO_STORAGE_CONFIG")
    return ASGIApp(path)
