"""The WSGI adapter: a node's response sent through ``start_response``.

All decisions come from :func:`genro_storage.engine.serve.prepare.prepare` (which asks the
pure core); this module only does the WSGI I/O: local whole-file 200s go through
``environ['wsgi.file_wrapper']`` (gunicorn turns that into ``sendfile``), everything else
is a generator that reads the needed bytes in 64 KiB chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..engine.serve.body import iter_body
from ..engine.serve.prepare import Prepared, prepare
from ..fileio import CHUNK_SIZE
from ..http.delivery import Delivery
from ..http.headers import headers_from_environ
from ..http.options import ServeOptions
from ..http.response import status_line

if TYPE_CHECKING:
    from ..node import StorageNode

__all__ = ["STATUS_LINES", "send_prepared", "serve_node"]

StartResponse = Callable[..., Any]
STATUS_LINES = {code: status_line(code) for code in (200, 206, 304, 400, 404, 405, 412, 416)}
"""The WSGI status lines of the serve core's statuses (``plan.status_line`` without a call)."""


def serve_node(
    node: StorageNode,
    environ: dict[str, Any],
    start_response: StartResponse,
    *,
    options: ServeOptions | None = None,
    delivery: Delivery | None = None,
) -> Iterable[bytes]:
    """Answer the WSGI request in ``environ`` with ``node``; returns a streaming body.

    Without ``options``, the defaults (``ServeOptions()``); genro-storage 0.4.2's
    contract, with its list-like body, is ``StorageNode.serve()``.
    """
    prepared = prepare(
        node,
        environ.get("REQUEST_METHOD", "GET"),
        headers_from_environ(environ),
        options or ServeOptions(),
        delivery or Delivery(),
        preload=CHUNK_SIZE,
    )
    return send_prepared(prepared, environ, start_response)


def send_prepared(
    prepared: Prepared, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Start the response and return its body: file_wrapper, a list, or a generator."""
    plan = prepared.plan
    # a copy: servers may add to the list (wsgiref's Connection, Date), and a kept answer
    # (serving/hot.py) is sent again
    start_response(STATUS_LINES.get(plan.status) or plan.status_line, list(plan.headers))
    if prepared.body is not None or plan.body or not plan.parts:
        body = plan.body or prepared.body
        return [body] if body else []
    wrapper = environ.get("wsgi.file_wrapper")
    if prepared.os_path is not None and prepared.whole_file and wrapper is not None:
        # unbuffered: the server sends it by its descriptor (sendfile) or reads it in
        # blocks; a buffered reader would cost an ioctl (isatty) and an lseek per file
        handle = open(prepared.os_path, "rb", buffering=0)  # noqa: SIM115 - server closes it
        wrapped: Iterable[bytes] = wrapper(handle, CHUNK_SIZE)
        return wrapped
    return iter_body(prepared)
