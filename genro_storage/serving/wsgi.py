"""The WSGI adapter: a node's response sent through ``start_response``.

All decisions come from :func:`genro_storage.serving.source.prepare` (which asks the pure
core); this module only does the WSGI I/O: local whole-file 200s go through
``environ['wsgi.file_wrapper']`` (gunicorn turns that into ``sendfile``), everything else
is a generator that reads the needed bytes in 64 KiB chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..http.delivery import Delivery
from ..http.headers import headers_from_environ
from ..http.options import ServeOptions
from .body import CHUNK_SIZE, ChunkSequence, iter_body
from .source import Prepared, prepare

if TYPE_CHECKING:
    from ..node import StorageNode

__all__ = ["send_prepared", "serve_node"]

StartResponse = Callable[..., Any]
_LEGACY_DELIVERY = Delivery(precompressed=False)


def serve_node(
    node: StorageNode,
    environ: dict[str, Any],
    start_response: StartResponse,
    *,
    download: bool = False,
    download_name: str | None = None,
    cache_max_age: int | None = None,
    options: ServeOptions | None = None,
    delivery: Delivery | None = None,
) -> Iterable[bytes]:
    """Answer the WSGI request in ``environ`` with ``node``; returns the body iterable.

    Without ``options`` this is ``StorageNode.serve()``: genro-storage 0.4.2's contract
    (``legacy`` headers and ETag, a list-like body: ``[b'Not Found']`` for 404, ``[b'']``
    for 304, ``[]`` for an empty file or HEAD, a lazy :class:`ChunkSequence` of 64 KiB
    chunks for 200/206) plus HEAD, Range, Last-Modified and weak If-None-Match. With
    ``options`` (the apps) it returns a streaming WSGI iterable. ``download``,
    ``download_name`` and ``cache_max_age`` are only read when ``options`` is None.
    """
    legacy = options is None
    if options is None:
        options = ServeOptions(
            download=download,
            download_name=download_name,
            cache_max_age=cache_max_age,
            legacy=True,
        )
    method = environ.get("REQUEST_METHOD", "GET")
    prepared = prepare(
        node,
        method,
        headers_from_environ(environ),
        options,
        delivery or (_LEGACY_DELIVERY if legacy else Delivery()),
        preload=0 if legacy else CHUNK_SIZE,
    )
    if legacy:
        return _legacy_body(prepared, start_response)
    return send_prepared(prepared, environ, start_response)


def send_prepared(
    prepared: Prepared, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Start the response and return its body: file_wrapper, a list, or a generator."""
    plan = prepared.plan
    # a copy: servers may add to the list (wsgiref's Connection, Date), and a kept answer
    # (serving/hot.py) is sent again
    start_response(plan.status_line, list(plan.headers))
    if prepared.body is not None or plan.body or not plan.parts:
        body = plan.body or prepared.body
        return [body] if body else []
    wrapper = environ.get("wsgi.file_wrapper")
    if prepared.os_path is not None and prepared.whole_file and wrapper is not None:
        handle = open(prepared.os_path, "rb")  # noqa: SIM115 - the server closes it
        wrapped: Iterable[bytes] = wrapper(handle, CHUNK_SIZE)
        return wrapped
    return iter_body(prepared)


def _legacy_body(prepared: Prepared, start_response: StartResponse) -> Iterable[bytes]:
    plan = prepared.plan
    start_response(plan.status_line, plan.headers)
    if plan.status == 304:
        return [b""]
    if plan.body:
        return [plan.body]
    if not plan.parts:
        return []
    return ChunkSequence(prepared)
