"""Precomputed answers for static files on local disk, as whitenoise keeps them.

:class:`~.middleware.StaticFilesMiddleware` asks an :class:`AnswerTable` first. For a name
on a local mount it keeps, the first time the name is asked for, everything a plain GET,
HEAD or ``If-None-Match`` revalidation needs: per representation (the file, its ``.br``
and ``.gz`` siblings) the local path, the stat it was built from, and the Django header
stores of the 200 and of the 304, both decided once by the shared serve core
(:func:`~genro_storage.http.core.plan_response`). A request is then a dict lookup, one
``Accept-Encoding`` choice (memoised) and either a 304 without touching the disk or the
file handed to the server (``wsgi.file_wrapper`` / ``sendfile`` under WSGI).

A file of up to 64 KiB (:data:`BODY_LIMIT`, 8 MiB in all) is also read once and kept with
its headers, so its 200 opens nothing: only once its ``ctime`` is :data:`SETTLED` seconds
old, so that any later change moves the stat the entry is checked against.

Freshness: an entry is trusted for ``ttl`` seconds (``cache_stat``; 0 with
``autorefresh``, the default under ``DEBUG``), then the file and its siblings are stat'ed
again and the entry rebuilt if anything moved (content, size, a sibling added or removed).
A file opened for a 200 is also checked against the stat the headers were built from
(one ``fstat``): a file replaced within the TTL is never sent under its old length or
ETag (a kept body is sent with the headers it was read with, until the TTL ends). Names
are checked by the same containment rules as every other served path
(:func:`genro_storage.paths.from_url_path`, the backend's symlink check).

Everything else (Range, ``If-Match``, ``If-Modified-Since``, an ``If-None-Match`` that is
not the current tag, other methods, names with odd segments, symlinked siblings, remote
mounts) returns None: the middleware then asks the serve core as before.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from http.cookies import SimpleCookie
from typing import IO, Any
from urllib.parse import quote

from django.http import FileResponse, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.http.response import ResponseHeaders

from genro_storage.backends.base import EntryInfo
from genro_storage.engine.serve.prepare import compressible, describe, local_tag
from genro_storage.errors import PathTraversalError
from genro_storage.fileio import CHUNK_SIZE
from genro_storage.http.core import plan_response
from genro_storage.http.encoding import ENCODING_SUFFIXES, choose_encoding, media_type_of
from genro_storage.http.options import ServeOptions
from genro_storage.paths import from_url_path
from genro_storage.serving.asgi import STREAM_CHUNK, run_sync
from genro_storage.serving.hot import SETTLED, Signature, signature

__all__ = ["AnswerTable", "AsyncFileBody", "StaticFileResponse", "Variant"]

Store = dict[str, tuple[str, str]]
SMALL_FILE = 64 * 1024
"""Under ASGI, bodies up to this size are read in the event loop and sent in one message."""
_SLOW_FIELDS = ("HTTP_RANGE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE")
_MAX_ENTRIES = 16384
BODY_LIMIT = 64 * 1024
"""Files up to this size are kept in memory with their headers (no open per request)."""
BODY_BUDGET = 8 * 1024 * 1024
"""At most this many bytes of such files are kept per table."""


def _store(headers: list[tuple[str, str]]) -> Store:
    """A Django ``ResponseHeaders`` store: lower-cased name -> (name, value)."""
    return {name.lower(): (name, value) for name, value in headers}


@dataclass(frozen=True)
class Variant:
    """One representation of a name: the file itself or a precompressed sibling."""

    os_path: str
    signature: Signature
    etag: str | None  # quoted, as sent
    ok: Store  # the 200's (and HEAD's) headers
    not_modified: Store  # the 304's headers
    body: bytes | None = None  # a small file's bytes, read when the headers were decided


@dataclass(frozen=True)
class Entry:
    """Everything a plain request for one name needs, good until ``expires``."""

    fingerprint: tuple[Any, ...]
    variants: Mapping[str | None, Variant]  # None: the file as it is
    codings: tuple[str, ...]  # the siblings there are, in the server's preference order
    expires: float
    unsettled: bool = False  # a small file changed too recently for its bytes to be kept

    @property
    def kept_bytes(self) -> int:
        return sum(len(v.body) for v in self.variants.values() if v.body is not None)


@lru_cache(maxsize=256)
def _choose(accept_encoding: str | None, codings: tuple[str, ...]) -> str | None:
    return choose_encoding(accept_encoding, codings)


class AnswerTable:
    """Precomputed answers for the names of one local mount folder (see the module doc).

    Args:
        backend: the mount's backend (local disk: ``local_stat`` and ``os_path``).
        make_node: mount path -> :class:`~genro_storage.node.StorageNode` (for its name).
        location: folder inside the mount that names are relative to.
        options_for: name -> the :class:`ServeOptions` it is served with (caching).
        ttl: seconds an entry is trusted before the files are stat'ed again (0: always).
        clock: ``time.monotonic``; replaceable in tests.
        wall: ``time.time``, against which a file's ``ctime`` is judged settled.
    """

    def __init__(
        self,
        backend: Any,
        make_node: Callable[[str], Any],
        location: str,
        options_for: Callable[[str], ServeOptions],
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.make_node = make_node
        self.location = location
        self.options_for = options_for
        self.ttl = ttl
        self.clock = clock
        self.wall = wall
        self.entries: dict[str, Entry] = {}
        self.kept_bytes = 0  # the bodies kept, against BODY_BUDGET

    # ------------------------------------------------------------------ lookups
    def mount_path(self, name: str) -> str | None:
        """The mount path of ``name`` (decoded, relative to ``location``), or None when
        the serve core's containment refuses it or it has segments to normalise."""
        if not name or name.startswith("/") or "//" in name or "/." in f"/{name}":
            return None
        try:
            return from_url_path(quote(f"{self.location}/{name}", safe="/"))
        except PathTraversalError:
            return None

    def entry(self, name: str) -> Entry | None:
        """The fresh entry of ``name``, (re)built when needed; None: not for this table."""
        found = self.entries.get(name)
        if found is not None and self.clock() < found.expires:
            return found
        path = self.mount_path(name)
        if path is None:
            return None
        scanned = self._scan(path)
        if scanned is None:
            self.entries.pop(name, None)
            return None
        fingerprint, stats = scanned
        if found is not None and found.fingerprint == fingerprint and not found.unsettled:
            fresh = Entry(fingerprint, found.variants, found.codings, self.clock() + self.ttl)
        else:
            fresh = self._build(name, path, fingerprint, stats)
        if len(self.entries) >= _MAX_ENTRIES and name not in self.entries:
            self.entries.clear()
            self.kept_bytes = 0
        old = self.entries.get(name)
        self.kept_bytes += fresh.kept_bytes - (0 if old is None else old.kept_bytes)
        self.entries[name] = fresh
        return fresh

    def forget(self, name: str) -> None:
        old = self.entries.pop(name, None)
        if old is not None:
            self.kept_bytes -= old.kept_bytes

    def _scan(self, path: str) -> tuple[tuple[Any, ...], list[Any]] | None:
        """The stats an entry is built from: the file (real path, stat) and each
        sibling's (None: absent). Returns their fingerprint (what must not move for the
        entry to stay good) and the stats; None when the name is not a regular file here
        or a sibling is not a plain file (a symlink: the serve core resolves those)."""
        try:
            os_path, st = self.backend.local_stat(path)
        except (OSError, PathTraversalError, UnicodeError, ValueError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        stats: list[Any] = [os_path, st]
        media, coding = _media(path)
        if coding is None and compressible(media):
            for suffix in ENCODING_SUFFIXES.values():
                try:
                    sibling = os.lstat(os_path + suffix)
                except OSError:
                    stats.append(None)
                    continue
                if not stat.S_ISREG(sibling.st_mode):
                    return None
                stats.append(sibling)
        fingerprint = (os_path, *(None if s is None else signature(s) for s in stats[1:]))
        return fingerprint, stats

    def _build(self, name: str, path: str, fingerprint: tuple[Any, ...], stats: list[Any]) -> Entry:
        os_path, st, *sibling_stats = stats
        node = self.make_node(path)
        media, coding = _media(path)
        options = self.options_for(name)
        present = [(c, s) for c, s in zip(ENCODING_SUFFIXES, sibling_stats) if s is not None]
        codings = tuple(c for c, _ in present)
        identity = EntryInfo(path, False, st.st_size, st.st_mtime, local_tag(st))
        resource = describe(
            node, identity, content_encoding=coding, negotiated=bool(codings), media_type=media
        )
        variants: dict[str | None, Variant] = {None: _variant(os_path, st, resource, options)}
        for chosen, sst in present:
            info = EntryInfo(path, False, sst.st_size, sst.st_mtime, local_tag(sst))
            resource = describe(
                node, info, content_encoding=chosen, negotiated=True, media_type=media
            )
            variants[chosen] = _variant(os_path + ENCODING_SUFFIXES[chosen], sst, resource, options)
        unsettled = False
        budget = BODY_BUDGET - self.kept_bytes
        for coding, variant in list(variants.items()):
            size = variant.signature[0]
            if size > BODY_LIMIT or size > budget:
                continue
            if self.wall() - variant.signature[2] / 1e9 < SETTLED:
                unsettled = True
                continue
            body = _read_exactly(variant)
            if body is not None:
                variants[coding] = replace(variant, body=body)
                budget -= size
        return Entry(fingerprint, variants, codings, self.clock() + self.ttl, unsettled)

    # ------------------------------------------------------------------ answers
    def pick(self, name: str, method: str, meta: Mapping[str, Any]) -> tuple[str, Variant] | None:
        """What to answer ``name`` with from the table: ``("304" | "head" | "file",
        variant)``; None when the serve core must decide (see the module doc)."""
        if method not in ("GET", "HEAD"):
            return None
        for field in _SLOW_FIELDS:
            if field in meta:
                return None
        entry = self.entry(name)
        if entry is None:
            return None
        codings = entry.codings
        coding = _choose(meta.get("HTTP_ACCEPT_ENCODING"), codings) if codings else None
        variant = entry.variants[coding]
        inm = meta.get("HTTP_IF_NONE_MATCH")
        if inm is not None:  # the exact current tag; lists, W/ and * go to the core
            return ("304", variant) if inm == variant.etag else None
        if "HTTP_IF_MODIFIED_SINCE" in meta:
            return None
        return ("head" if method == "HEAD" else "file"), variant

    def answer(
        self, name: str, method: str, meta: Mapping[str, Any], asgi: bool = False
    ) -> HttpResponseBase | None:
        """A 304, a HEAD, or the file; None when the serve core must decide.

        Under WSGI the file goes to the server's ``wsgi.file_wrapper`` (``sendfile``).
        With ``asgi`` (called in the event loop: the work is a dict lookup, or a few
        ``stat`` of local files once per TTL) a small file is read at once and sent in one
        message, a larger one streams in chunks read in worker threads.
        """
        for _attempt in range(2):  # a file changed since its entry: rebuilt, once
            picked = self.pick(name, method, meta)
            if picked is None:
                return None
            kind, variant = picked
            if kind == "304":
                return headers_only(304, variant.not_modified)
            if kind == "head":
                return headers_only(200, variant.ok)
            if variant.body is not None:
                return with_body(variant.ok, variant.body)
            handle = self.open(name, variant)
            if handle is None:
                continue
            if not asgi:
                return file_response(variant.ok, handle)
            size = variant.signature[0]
            if size > SMALL_FILE:
                return set_headers(StreamingHttpResponse(AsyncFileBody(handle)), variant.ok)
            with handle:
                body = handle.read(size + 1)
            if len(body) == size:
                return with_body(variant.ok, body)
            self.forget(name)  # written to since it was opened
        return None

    def open(self, name: str, variant: Variant) -> IO[bytes] | None:
        """The variant's file, opened and checked against the stat its headers came from;
        None (and the entry forgotten) when it changed or went away."""
        try:
            handle = open(variant.os_path, "rb")  # noqa: SIM115 - the response closes it
        except OSError:
            self.forget(name)
            return None
        try:
            same = signature(os.fstat(handle.fileno())) == variant.signature
        except OSError:
            same = False
        if not same:
            handle.close()
            self.forget(name)
            return None
        return handle


def _read_exactly(variant: Variant) -> bytes | None:
    """The variant's bytes when the file still is the one its headers describe, else None."""
    try:
        with open(variant.os_path, "rb") as handle:
            if signature(os.fstat(handle.fileno())) != variant.signature:
                return None
            body = handle.read(variant.signature[0] + 1)
    except OSError:
        return None
    return body if len(body) == variant.signature[0] else None


@lru_cache(maxsize=1024)
def _media(path: str) -> tuple[str, str | None]:
    return media_type_of(path.rsplit("/", 1)[-1])


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


def _variant(os_path: str, st: os.stat_result, resource: Any, options: ServeOptions) -> Variant:
    ok = plan_response("GET", {}, resource, options)
    etag = None if resource.etag is None else f'"{resource.etag}"'
    not_modified = ok
    if etag is not None:
        not_modified = plan_response("GET", {"if-none-match": etag}, resource, options)
    return Variant(os_path, signature(st), etag, _store(ok.headers), _store(not_modified.headers))


class AsyncFileBody:
    """A local file as an async iterator: chunks read in worker threads, then closed."""

    def __init__(self, handle: IO[bytes], chunk_size: int = STREAM_CHUNK) -> None:
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
