"""Django responses for the serve core's decided answers, built without Django's defaults.

:class:`~.middleware.StaticFilesMiddleware` takes its answers from the serve core's kept
answers (:class:`~genro_storage.serving.hot.HotFiles`: decided once per file and request
key, checked against the file's stat). :func:`kept_response` turns one such
:class:`~genro_storage.engine.serve.prepare.Prepared` into a Django response in a few steps:

* a 304, a HEAD, a fixed body or a body read already: an ``HttpResponse`` carrying it;
* a whole local file: under WSGI a ``FileResponse`` the server sends with
  ``wsgi.file_wrapper`` (``sendfile``); under ASGI a file up to :data:`SMALL_FILE` is read
  at once and sent in one message, a larger one streams in chunks read in worker threads.

The file is checked, once open, against the stat its headers were decided from (one
``fstat``: the length, and the ETag, which for a local file is made of its size, mtime,
inode and ctime): a file replaced or edited since is never sent under the old
``Content-Length`` or ETag (None is returned and the middleware decides again). Anything else
(ranges of a file, multipart, remote mounts) returns None: the middleware sends it the
usual way, through the serve core's WSGI/ASGI adapters.

The header store of each plan is converted once and kept (:class:`HeaderStores`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from functools import partial
from http.cookies import SimpleCookie
from typing import IO, Any

from django.http import FileResponse, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.http.response import ResponseHeaders

from genro_storage.engine.serve.prepare import Prepared, local_tag
from genro_storage.fileio import CHUNK_SIZE
from genro_storage.http.response import ResponsePlan
from genro_storage.serving.asgi import run_sync

__all__ = ["AsyncFileBody", "HeaderStores", "StaticFileResponse", "kept_response"]

Store = dict[str, tuple[str, str]]
SMALL_FILE = 64 * 1024
"""Under ASGI, bodies up to this size are read in the event loop and sent in one message."""
_MAX_STORES = 4096
READ_CHUNK = 1024 * 1024
"""Under ASGI, a larger file is read in chunks of this size, one worker-thread hop each
(Django's handler sends each chunk as 64 KiB messages): a 1 MiB script is one hop."""


class HeaderStores:
    """Django header stores (lower-cased name -> (name, value)) of response plans, each
    converted once; keyed by the plan's identity (the kept answers are reused objects)."""

    def __init__(self) -> None:
        self._stores: dict[int, tuple[ResponsePlan, Store]] = {}

    def __call__(self, plan: ResponsePlan) -> Store:
        found = self._stores.get(id(plan))
        if found is not None and found[0] is plan:
            return found[1]
        store = {name.lower(): (name, value) for name, value in plan.headers}
        if len(self._stores) >= _MAX_STORES:
            self._stores.clear()
        self._stores[id(plan)] = (plan, store)
        return store


def kept_response(prepared: Prepared, store: Store, asgi: bool) -> HttpResponseBase | None:
    """The Django response sending ``prepared`` with headers ``store``; None when it must
    go the usual way (see the module doc) or its file changed since it was decided."""
    plan = prepared.plan
    if prepared.body is not None or plan.body or not plan.parts:
        return with_body(store, plan.body or prepared.body or b"", plan.status)
    os_path = prepared.os_path
    if os_path is None or not prepared.whole_file:
        return None
    size = plan.content_length
    try:
        handle = open(os_path, "rb")  # noqa: SIM115 - the response closes it
    except OSError:
        return None
    try:
        st = os.fstat(handle.fileno())
    except OSError:
        same = False
    else:  # a local file's ETag is its stat's tag (size, mtime, inode, ctime)
        etag = store.get("etag")
        same = st.st_size == size and (etag is None or local_tag(st) in etag[1])
    if not same:
        handle.close()
        return None
    if not asgi:
        return file_response(store, handle)
    if size > SMALL_FILE:
        return set_headers(StreamingHttpResponse(AsyncFileBody(handle)), store)
    with handle:
        body = handle.read(size + 1)
    return with_body(store, body) if len(body) == size else None


def set_headers(response: HttpResponseBase, store: Store) -> HttpResponseBase:
    """Give ``response`` exactly the headers of ``store`` (its default Content-Type goes).

    The values were checked by the serve core (latin-1, no CR/LF), so they are copied
    into Django's header store in one step rather than one ``__setitem__`` each.
    """
    headers = response.headers
    if _FAST:
        headers._store = dict(store)
    else:  # pragma: no cover - a Django whose ResponseHeaders keeps no ``_store``
        for key in list(headers):
            del headers[key]
        for name, value in store.values():
            headers[name] = value
    return response


def _headers(store: Store) -> ResponseHeaders:
    headers = ResponseHeaders(None)
    headers._store = dict(store)
    return headers


def _base(status: int, store: Store) -> dict[str, Any]:
    """The attributes ``HttpResponseBase.__init__`` sets, for ``status`` and ``store``."""
    return {
        "headers": _headers(store),
        "_charset": None,
        "_resource_closers": [],
        "_handler_class": None,
        "cookies": SimpleCookie(),
        "closed": False,
        "status_code": status,
        "_reason_phrase": None,
    }


def with_body(store: Store, body: bytes, status: int = 200) -> HttpResponseBase:
    """An ``HttpResponse`` carrying ``body`` with ``store``'s headers (a 304 and a HEAD
    carry ``b""``; a small file read whole under ASGI its bytes).

    Built without ``HttpResponse.__init__``, whose defaults (Content-Type, the body's
    encoding) would all be replaced: a third of the time of a 304 through the middleware.
    """
    if not _FAST:  # pragma: no cover - a Django whose responses hold other attributes
        return set_headers(HttpResponse(body, status=status), store)
    response = HttpResponse.__new__(HttpResponse)
    response.__dict__.update(_base(status, store), _container=[body])
    return response


def headers_only(status: int, store: Store) -> HttpResponseBase:
    """A response with ``store``'s headers and no body (304, HEAD)."""
    return with_body(store, b"", status)


def file_response(store: Store, handle: IO[bytes]) -> HttpResponseBase:
    """A 200 sending ``handle``: through ``wsgi.file_wrapper`` (``sendfile``) under WSGI,
    else read in 64 KiB blocks (what ``FileResponse(handle)`` does, built directly)."""
    if not _FAST:  # pragma: no cover
        return set_headers(StaticFileResponse(handle), store)
    response = StaticFileResponse.__new__(StaticFileResponse)
    size = StaticFileResponse.block_size
    response.__dict__.update(
        _base(200, store),
        _resource_closers=[handle.close],
        _iterator=iter(partial(handle.read, size), b""),
        is_async=False,
        file_to_stream=handle,
        as_attachment=False,
        filename="",
        _no_explicit_content_type=True,
    )
    return response


class AsyncFileBody:
    """A local file as an async iterator: chunks read in worker threads, then closed."""

    def __init__(self, handle: IO[bytes], chunk_size: int = READ_CHUNK) -> None:
        self.handle = handle
        self.chunk_size = chunk_size

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await run_sync(self.handle.read, self.chunk_size):
                yield chunk
        finally:
            self.handle.close()

    def close(self) -> None:
        """Django calls it when the response ends (and if it never started)."""
        self.handle.close()


class StaticFileResponse(FileResponse):
    """A ``FileResponse`` whose headers are the serve core's, set at once (Django's own
    guesses, Content-Disposition included, are not wanted: whitenoise does the same)."""

    block_size = CHUNK_SIZE  # for servers without sendfile (runserver)

    def set_headers(self, filelike: Any) -> None:
        pass


def _fast_responses_fit() -> bool:
    """True when this Django's responses hold exactly the attributes the builders above
    set (checked once, at import: Django 4.2 to 5.2 do); else the plain constructors."""
    if not hasattr(ResponseHeaders(None), "_store"):
        return False
    import io

    plain = {
        "bodiless": vars(HttpResponse(status=304)),
        "file": vars(FileResponse(io.BytesIO(), status=200)),
    }
    global _FAST
    _FAST, fast = True, {}
    try:
        fast = {
            "bodiless": vars(headers_only(304, {})),
            "file": vars(file_response({}, io.BytesIO())),
        }
    finally:
        _FAST = False
    return all(set(plain[k]) == set(fast[k]) for k in plain)


_FAST = False
_FAST = _fast_responses_fit()
