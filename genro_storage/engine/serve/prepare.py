"""From a node to a response: one stat, a precompressed variant, the delivery policy.

This is the blocking half of serving, shared by ``StorageNode.serve()`` and the WSGI and
ASGI adapters (the ASGI one runs :func:`prepare` in a worker thread, in one hop). It stats
the node once, describes it as a :class:`~genro_storage.http.resource.Resource`, lets the
pure core decide with :func:`~genro_storage.http.core.plan_response`, then applies the
mount's :class:`Delivery` policy. Reading the bytes is
:mod:`genro_storage.engine.serve.body`'s job. The node is any
:class:`~genro_storage.engine.serve.servable.Servable`.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from ...backends.base import EntryInfo
from ...errors import PathTraversalError
from ...fileio import guess_mimetype
from ...http.core import plan_response
from ...http.delivery import OFFLOAD_MODES, Delivery, offload_plan, redirect_plan
from ...http.encoding import ENCODING_SUFFIXES, choose_encoding, media_type_of
from ...http.options import ServeOptions
from ...http.resource import Resource, make_etag
from ...http.response import ResponsePlan
from .body import read_body
from .servable import Servable
from .statcache import StatCache

_Located = tuple[Servable, EntryInfo, Optional[str]]  # node, its stat, its local file
Representation = tuple[
    Optional[Servable], EntryInfo, Optional[str], Optional[os.stat_result]
]  # a file or sibling: node (None: built when chosen), stat, local file, its os.stat
_Found = tuple[EntryInfo, Optional[str], Optional[dict[str, Representation]]]
# a file's stat, its local file, its precompressed siblings (None: not looked for)

__all__ = ["Prepared", "describe", "media_of", "prepare"]

PRELOAD_LIMIT = 64 * 1024
"""Bodies up to this size are read inside :func:`prepare` (one thread hop in ASGI)."""

_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/wasm")


@dataclass(frozen=True)
class Prepared:
    """A decided response: the plan, and where its parts' bytes come from.

    ``node`` is the representation whose bytes the parts index (the ``.br``/``.gz``
    sibling when one was chosen), ``os_path`` its local file if any, ``body`` the whole
    body when it was small enough to read already, ``is_dir`` True when the request named
    a directory (the plan is then a 404 an app may replace with a listing).
    """

    plan: ResponsePlan
    node: Servable | None = None
    os_path: str | None = None
    body: bytes | None = None
    is_dir: bool = False

    @property
    def whole_file(self) -> bool:
        """True for a 200 that sends exactly one file from its first to its last byte."""
        parts = self.plan.parts
        return self.plan.status == 200 and len(parts) == 1 and not self.plan.trailer


def describe(
    node: Servable,
    entry: EntryInfo,
    legacy: bool = False,
    content_encoding: str | None = None,
    negotiated: bool = False,
    media_type: str | None = None,
) -> Resource:
    """The :class:`Resource` for ``node`` with stat ``entry`` (``media_type``: its mimetype).

    The ETag is the backend's MD5 when it stores one, else its own opaque version token
    (an S3 multipart ``...-N`` ETag is one, never taken for an MD5; a local file's is
    :func:`local_tag`), else a stable mtime+size token; ``legacy`` keeps genro-storage
    0.4.2's ``f"{mtime}-{size}"``. Without ``media_type``, the type (and, for ``.svgz``,
    the coding) comes from the name (:func:`~genro_storage.http.encoding.media_type_of`).
    """
    if media_type is None:
        media_type, coded = media_of(node)
        content_encoding = content_encoding or coded
    return _resource(
        entry.size, entry.mtime, entry.md5, entry.etag, legacy, media_type,
        node.basename, content_encoding, negotiated,
    )  # fmt: skip


@lru_cache(maxsize=1024, typed=True)
def _resource(
    size: int,
    mtime: float | None,
    md5: str | None,
    backend_etag: str | None,
    legacy: bool,
    media_type: str,
    filename: str,
    content_encoding: str | None,
    negotiated: bool,
) -> Resource:
    # Memoised: an unchanged file is described by the same (frozen) Resource every time.
    etag: str | None
    if legacy and mtime is not None:
        etag = f"{mtime}-{size}"
    elif mtime is not None and mtime <= 0:
        # The epoch (or before) is no modification date: a file whose mtime is pinned there
        # (reproducible builds, archives) changes without its mtime moving, so neither
        # Last-Modified nor a date precondition may vouch for it (RFC 9110 §8.8.2), and a
        # size-only tag would answer 304 to an edit of the same size: without an MD5 or a
        # version token (a local file has one, :func:`local_tag`) no validator is sent
        # (§8.8.1), and every request gets the file.
        mtime = None
        has_token = md5 is not None or backend_etag is not None
        etag = make_etag(size, None, md5=md5, backend_etag=backend_etag) if has_token else None
    else:
        etag = make_etag(size, mtime, md5=md5, backend_etag=backend_etag)
    return Resource(size, mtime, etag, media_type, filename, content_encoding, negotiated)


_media_type_of = lru_cache(maxsize=1024)(media_type_of)


def media_of(node: Servable) -> tuple[str, str | None]:
    """The Content-Type and Content-Encoding of ``node`` sent as it is (``x.css.gz`` is
    ``application/gzip``, ``x.svgz`` gzip-coded SVG); a node whose ``mimetype`` is not
    the one its name implies (a subclass with its own) keeps it, not coded."""
    mimetype = node.mimetype
    if mimetype == guess_mimetype(node.basename):
        return _media_type_of(node.basename)
    return mimetype, None


def local_tag(st: os.stat_result) -> str:
    """The validator of a local file, from its mtime, size, inode and ``ctime``.

    mtime and size alone miss an edit that keeps both (``touch -r``, ``cp -p``, tools
    that pin mtimes for reproducible builds, mtime 0): the ctime is set by the kernel on
    every write, rename and ``utime`` and cannot be set back, and the inode tells a file
    replaced by rename from the old one. The price: two hosts serving copies of one file
    give different tags (a 200 where a 304 would do, never a stale 304).

    The four numbers (nanoseconds) are hashed to 16 hex digits (BLAKE2b, 64 bits): a tag
    as short as an mtime-size one (it is sent, compared and checked by the HTTP server
    in every conditional request and answer), and as stable across processes.
    """
    return _tag(st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)


_FOUR_NUMBERS = struct.Struct("<qQQq")


@lru_cache(maxsize=1024)
def _tag(mtime_ns: int, size: int, ino: int, ctime_ns: int) -> str:
    # memoised: hashing four numbers costs more than the lookup, once per request
    packed = _FOUR_NUMBERS.pack(mtime_ns, size, ino, ctime_ns)
    return hashlib.blake2b(packed, digest_size=8).hexdigest()


_MISSING = (FileNotFoundError, PathTraversalError, NotADirectoryError, IsADirectoryError)


def _entry(path: str, st: os.stat_result) -> EntryInfo:
    is_dir = stat.S_ISDIR(st.st_mode)
    if is_dir:
        return EntryInfo(path, True, 0, st.st_mtime)
    return EntryInfo(path, False, st.st_size, st.st_mtime, local_tag(st))


def _locate(node: Servable) -> tuple[EntryInfo, str | None, os.stat_result | None] | None:
    """One stat of ``node``: its entry, its local file and that file's ``os.stat`` (both
    None for a remote node); None when it is missing.

    A local file is resolved once (symlinks followed, refused when they leave the mount)
    and stat'ed there, in one ``lstat`` when no symlink is on its way (the backend's
    ``local_stat``); everything else asks the backend.
    """
    try:
        if node.version is None and node.mount_name is not None:
            location = node.location
            found = location.backend.local_stat(location.path)
            if found is not None:
                return _entry(location.path, found[1]), found[0], found[1]
        return node.stat(), None, None
    except _MISSING:
        return None
    except (PermissionError, ConnectionError, TimeoutError):
        raise  # 403; an unreachable remote store is the server's error, not a missing file
    except OSError:
        # ENAMETOOLONG, ELOOP, EINVAL...: nothing can be served under such a name, and a
        # lookup error must not become a 500 that tells the path apart from a missing one
        return None


def _sibling(node: Servable, os_path: str | None, suffix: str) -> Representation | None:
    """The precompressed sibling ``<name><suffix>`` when it is a file.

    Next to a local file (``os_path``, whose name is the node's), one ``access`` (and one
    ``lstat`` when something is there): a regular file there is inside the mount already
    (its directory was resolved with the file). A symlink, a file reached through a
    symlink of another name (``os_path`` None), or a remote mount, goes through the
    backend's own contained stat.
    """
    if os_path is not None:
        # access() raises nothing and copies no stat: the cheap "no" of most requests. It
        # follows symlinks, so it also says no for a dangling one, which is no sibling.
        if not os.access(os_path + suffix, os.F_OK):
            return None
        try:
            st = os.lstat(os_path + suffix)
        except OSError:
            return None
        if stat.S_ISREG(st.st_mode):
            return None, _entry("", st), os_path + suffix, st
        if not stat.S_ISLNK(st.st_mode):
            return None
    sibling = node.parent.child(node.basename + suffix)
    located = _locate(sibling)
    if located is None or located[0].is_dir:
        return None
    return sibling, *located


def compressible(media: str) -> bool:
    """True for the media types whose precompressed siblings are looked for."""
    return media.startswith(_COMPRESSIBLE) or media.endswith(("+xml", "+json"))


def siblings(node: Servable, os_path: str | None) -> dict[str, Representation]:
    """The precompressed siblings of ``node`` that exist: coding -> representation."""
    if os_path is not None and os.path.basename(os_path) != node.basename:
        os_path = None  # reached through a symlink of another name: ask the backend
    found = {}
    for coding, suffix in ENCODING_SUFFIXES.items():
        sibling = _sibling(node, os_path, suffix)
        if sibling is not None:
            found[coding] = sibling
    return found


def sibling_node(node: Servable, coding: str) -> Servable:
    """The node of ``node``'s sibling precompressed with ``coding``."""
    return node.parent.child(node.basename + ENCODING_SUFFIXES[coding])


def _find(
    node: Servable, delivery: Delivery, media: str, coding: str | None = None
) -> _Found | None:
    """What the stats of a request find: the node's entry, its local file and, when the
    delivery serves them, its precompressed siblings (None: not looked for; never for a
    file that is content-coded itself, such as ``.svgz``)."""
    found = _locate(node)
    if found is None:
        return None
    entry, os_path, _ = found
    variants = None
    if (
        not entry.is_dir
        and delivery.precompressed
        and delivery.mode == "stream"
        and coding is None
        and compressible(media)
    ):
        variants = siblings(node, os_path)
    return entry, os_path, variants


def _variant(
    node: Servable,
    found: _Found,
    media: str,
    headers: Mapping[str, str],
    legacy: bool,
    coding: str | None = None,
) -> tuple[_Located, Resource]:
    """The representation to send: a precompressed sibling the client accepts, or the file
    (content-coded with ``coding`` when its name says so, ``.svgz``)."""
    entry, os_path, variants = found
    if not variants:
        resource = describe(node, entry, legacy, content_encoding=coding, media_type=media)
        return (node, entry, os_path), resource
    chosen = choose_encoding(headers.get("accept-encoding"), list(variants))
    if chosen is None:
        resource = describe(node, entry, legacy, negotiated=True, media_type=media)
        return (node, entry, os_path), resource
    built, sibling_entry, sibling_path, _ = variants[chosen]
    resource = describe(
        node, sibling_entry, legacy, content_encoding=chosen, negotiated=True, media_type=media
    )
    # the sibling's node is built only now: most requests never need it
    return (built or sibling_node(node, chosen), sibling_entry, sibling_path), resource


def prepare(
    node: Servable,
    method: str,
    headers: Mapping[str, str],
    options: ServeOptions,
    delivery: Delivery = Delivery(),
    preload: int = PRELOAD_LIMIT,
    stat_cache: StatCache | None = None,
) -> Prepared:
    """Decide the response to ``method`` + ``headers`` (lower-case names) for ``node``.

    Blocking: one stat (plus one per precompressed sibling), and, for bodies up to
    ``preload`` bytes, the read. Missing files, directories and paths refused by the
    backend's containment (symlinks leaving a local mount) all give the core's 404.

    With a ``stat_cache`` (a route's ``cache_stat``) the stats of an existing file are
    kept for its TTL. A body read from a kept stat is checked against the file as opened
    (local files) or for a short read; a mismatch drops the entry and decides again.
    """
    if method not in ("GET", "HEAD") and not options.legacy:
        return Prepared(plan_response(method, headers, None, options))
    if node.version is not None:
        stat_cache = None
    key = node.path or ""
    found = None if stat_cache is None else stat_cache.get(key)
    kept = found is not None
    media, coding = (node.mimetype, None) if options.legacy else media_of(node)
    if found is None:
        found = _find(node, delivery, media, coding)
        if found is None or found[0].is_dir:
            plan = plan_response(method, headers, None, options)
            return Prepared(plan, is_dir=found is not None)
        if stat_cache is not None:
            stat_cache.put(key, found)
    entry, os_path, _ = found
    if delivery.mode in OFFLOAD_MODES and os_path is not None:
        offloaded = offload_plan(key, os_path, describe(node, entry), options, delivery)
        if offloaded is not None:
            return Prepared(offloaded, node, os_path)
    located, resource = _variant(node, found, media, headers, options.legacy, coding)
    plan = plan_response(method, headers, resource, options)
    if delivery.mode == "redirect" and plan.status in (200, 206):
        url = node.url(delivery.expires_in)
        if url:
            return Prepared(redirect_plan(url, method == "HEAD", options))
    chosen, chosen_entry, os_path = located
    if plan.parts and plan.content_length <= preload:
        try:
            body = read_body(plan, chosen, os_path, chosen_entry if kept else None)
        except OSError:
            if stat_cache is None or not kept:
                raise
            stat_cache.forget(key)  # the file changed within the TTL: look again
            return prepare(node, method, headers, options, delivery, preload, stat_cache)
        return Prepared(plan, chosen, os_path, body=body)
    return Prepared(plan, chosen, os_path)
