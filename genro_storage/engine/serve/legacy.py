"""``StorageNode.serve(environ, start_response)``: genro-storage 0.4.2's WSGI answer.

0.4.2's contract: ``legacy`` headers and ETag, ``start_response`` called once, then a
list-like body: ``[b'Not Found']`` for 404, ``[b'']`` for 304, ``[]`` for an empty file
or HEAD, a lazy :class:`~genro_storage.engine.serve.body.ChunkSequence` of 64 KiB chunks
for 200/206; plus HEAD, Range, Last-Modified and weak If-None-Match. No precompressed
sibling is sent. The mountable apps are :mod:`genro_storage.serving`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ...http.delivery import Delivery
from ...http.headers import headers_from_environ
from ...http.options import ServeOptions
from .body import ChunkSequence
from .prepare import prepare
from .servable import Servable

__all__ = ["serve_legacy"]

_DELIVERY = Delivery(precompressed=False)


def serve_legacy(
    node: Servable,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    download: bool = False,
    download_name: str | None = None,
    cache_max_age: int | None = None,
) -> Iterable[bytes]:
    """Answer the WSGI request in ``environ`` with ``node`` as 0.4.2 did (see above)."""
    options = ServeOptions(
        download=download,
        download_name=download_name,
        cache_max_age=cache_max_age,
        legacy=True,
    )
    method = environ.get("REQUEST_METHOD", "GET")
    prepared = prepare(node, method, headers_from_environ(environ), options, _DELIVERY, 0)
    plan = prepared.plan
    start_response(plan.status_line, plan.headers)
    if plan.status == 304:
        return [b""]
    if plan.body:
        return [plan.body]
    if not plan.parts:
        return []
    return ChunkSequence(prepared)
