"""The serve view: answers ``<prefix>/<mount>/<path>`` for the mounts in ``GENRO_STORAGE_SERVE``.

Every decision (containment, signature, ETag, 304, Range, HEAD, listings, redirects) is
taken by the shared file server and its adapters; this view only turns their answer into
a Django response:

* under WSGI the body is the adapter's iterator, and a whole local file reaches the
  server's ``wsgi.file_wrapper`` (``sendfile``) through Django's own ``file_to_stream``
  hook;
* under ASGI the body is an async iterator, so Django streams it chunk by chunk (Django
  consumes the sync iterator of a streaming response in one go under ASGI, buffering
  the whole file).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest, StreamingHttpResponse

from genro_storage import StorageNode
from genro_storage.engine.serve.prepare import Prepared
from genro_storage.http.headers import headers_from_environ, headers_from_scope
from genro_storage.http.options import ServeOptions
from genro_storage.serving import asgi as asgi_adapter
from genro_storage.serving import wsgi as wsgi_adapter

from .._bridge import Captured, run_asgi, run_wsgi
from .._server import mount_request, raw_path_of
from . import conf

__all__ = ["serve", "serve_node"]


def serve(request: HttpRequest, mount: str, path: str) -> StreamingHttpResponse:
    """Serve ``mount:path`` when ``GENRO_STORAGE_SERVE`` lists the mount (404 otherwise)."""
    server = conf.get_server()
    scope = _http_scope(request)
    suffix = f"/{mount}/{path}"
    root = request.path[: -len(suffix)] if request.path.endswith(suffix) else ""
    source = scope if scope is not None else request.META
    file_request = mount_request(
        # as the client sent it: Django upper-cases request.method
        source.get("method") or source.get("REQUEST_METHOD") or request.method or "GET",
        mount,
        path,
        query=request.META.get("QUERY_STRING", ""),
        headers=headers_from_scope(scope) if scope else headers_from_environ(request.META),
        root=root,
        raw_path=raw_path_of(source),
    )
    return _send(request, scope, lambda: server.get_response(file_request))


def serve_node(
    request: HttpRequest, node: StorageNode, options: ServeOptions | None = None
) -> StreamingHttpResponse:
    """Answer ``request`` with ``node``, for your own views (check access before calling).

    ETag, 304, Range, HEAD and streaming as in the serve view; ``options`` sets download,
    caching and extra headers.
    """
    options = options or ServeOptions()
    scope = _http_scope(request)
    if scope is not None:
        return _response(
            async_to_sync(run_asgi)(
                lambda s, r, snd: asgi_adapter.serve_node(node, s, r, snd, options=options),
                scope,
            )
        )
    captured = run_wsgi(
        lambda env, sr: wsgi_adapter.serve_node(node, env, sr, options=options), request.META
    )
    return _response(captured)


def _http_scope(request: HttpRequest) -> dict[str, Any] | None:
    scope = getattr(request, "scope", None)  # only ASGIRequest has one
    return scope if scope is not None and scope.get("type") == "http" else None


def _send(
    request: HttpRequest, scope: dict[str, Any] | None, decide: Callable[[], Prepared]
) -> StreamingHttpResponse:
    if scope is None:
        prepared = decide()
        return _response(
            run_wsgi(lambda env, sr: wsgi_adapter.send_prepared(prepared, env, sr), request.META)
        )

    async def responder(s: Any, receive: Any, send: Any) -> None:
        prepared = await asgi_adapter.run_sync(decide)
        await asgi_adapter.send_prepared(prepared, s, receive, send)

    # We run in Django's worker thread; async_to_sync hops onto the server's event loop,
    # where the response's async iterator will later be consumed.
    return _response(async_to_sync(run_asgi)(responder, scope))


def _response(captured: Captured) -> StreamingHttpResponse:
    response = StreamingHttpResponse(captured.body, status=captured.status)
    if captured.reason:
        response.reason_phrase = captured.reason
    del response["Content-Type"]  # Django's text/html default; the adapter sets its own
    for name, value in captured.headers:
        response[name] = value
    if captured.file is not None:
        # Django's WSGIHandler hands this to the server's wsgi.file_wrapper (sendfile)
        response.file_to_stream = captured.file
        response.block_size = captured.block_size
    return response
