"""From a node to a response: one stat, a precompressed variant, the delivery policy.

This is the blocking half of serving, shared by the WSGI and ASGI adapters (the ASGI one
runs :func:`prepare` in a worker thread, in one hop). It stats the node once, describes it
as a :class:`~genro_storage.serving.resource.Resource`, lets the pure core decide with
:func:`~genro_storage.serving.core.plan_response`, then applies the mount's
:class:`Delivery` policy. Reading the bytes is :mod:`genro_storage.serving.body`'s job.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional
from urllib.parse import quote

from ..backends.base import EntryInfo
from ..errors import PathTraversalError
from .core import plan_response
from .encoding import ENCODING_SUFFIXES, choose_encoding
from .options import ServeOptions
from .plan import ResponsePlan
from .resource import Resource, make_etag

if TYPE_CHECKING:
    from ..node import StorageNode

_Located = tuple["StorageNode", EntryInfo, Optional[str]]  # node, its stat, its local file

__all__ = ["DELIVERY_MODES", "Delivery", "Prepared", "describe", "prepare", "simple_plan"]

PRELOAD_LIMIT = 64 * 1024
"""Bodies up to this size are read inside :func:`prepare` (one thread hop in ASGI)."""

DELIVERY_MODES = ("stream", "redirect", "x-accel-redirect", "x-sendfile")
_OFFLOAD = ("x-accel-redirect", "x-sendfile")
# Headers a front server keeps from our answer when it serves the file itself.
_OFFLOAD_KEPT = ("Content-Type", "Content-Disposition", "Cache-Control")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/wasm")


@dataclass(frozen=True)
class Delivery:
    """How a mount's bytes reach the client.

    Attributes:
        mode: ``stream`` (through the app), ``redirect`` (302 to ``node.url(expires_in)``,
            a presigned URL on S3/GCS/Azure; streams when the backend has none),
            ``x-accel-redirect`` (nginx) or ``x-sendfile`` (Apache, lighttpd): the front
            server sends the local file (streams for non-local mounts).
        expires_in: lifetime in seconds of presigned redirect URLs.
        accel_prefix: the nginx ``internal`` location that maps to the mount root.
        precompressed: look for ``.br``/``.gz`` siblings of text-like files.
    """

    mode: str = "stream"
    expires_in: int = 3600
    accel_prefix: str = "/_protected/"
    precompressed: bool = True

    def __post_init__(self) -> None:
        if self.mode not in DELIVERY_MODES:
            raise ValueError(f"delivery must be one of {', '.join(DELIVERY_MODES)}: {self.mode!r}")
        if isinstance(self.expires_in, bool) or not isinstance(self.expires_in, int):
            raise ValueError(f"expires_in must be an int of seconds, got {self.expires_in!r}")
        if self.expires_in <= 0:
            raise ValueError(f"expires_in must be > 0, got {self.expires_in}")
        if not (self.accel_prefix.startswith("/") and self.accel_prefix.endswith("/")):
            raise ValueError(f"accel_prefix must start and end with '/': {self.accel_prefix!r}")


@dataclass(frozen=True)
class Prepared:
    """A decided response: the plan, and where its parts' bytes come from.

    ``node`` is the representation whose bytes the parts index (the ``.br``/``.gz``
    sibling when one was chosen), ``os_path`` its local file if any, ``body`` the whole
    body when it was small enough to read already, ``is_dir`` True when the request named
    a directory (the plan is then a 404 an app may replace with a listing).
    """

    plan: ResponsePlan
    node: StorageNode | None = None
    os_path: str | None = None
    body: bytes | None = None
    is_dir: bool = False

    @property
    def whole_file(self) -> bool:
        """True for a 200 that sends exactly one file from its first to its last byte."""
        parts = self.plan.parts
        return self.plan.status == 200 and len(parts) == 1 and not self.plan.trailer


def simple_plan(
    status: int, message: str, options: ServeOptions, head: bool = False, *extra: tuple[str, str]
) -> ResponsePlan:
    """A short ``text/plain`` answer (403, 404, redirects) with the configured extra headers."""
    body = message.encode("utf-8")
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *extra,
        ("X-Content-Type-Options", "nosniff"),
        *options.extra_headers,
    ]
    return ResponsePlan(status, headers, body=b"" if head else body)


def describe(
    node: StorageNode,
    entry: EntryInfo,
    legacy: bool = False,
    content_encoding: str | None = None,
    negotiated: bool = False,
) -> Resource:
    """The :class:`Resource` for ``node`` with stat ``entry``.

    The ETag is the backend's MD5 when it stores one, else its own opaque version token
    (an S3 multipart ``...-N`` ETag is one, never taken for an MD5), else a stable
    mtime+size token; ``legacy`` keeps genro-storage 0.4.2's ``f"{mtime}-{size}"``.
    """
    if legacy and entry.mtime is not None:
        etag = f"{entry.mtime}-{entry.size}"
    else:
        etag = make_etag(entry.size, entry.mtime, md5=entry.md5, backend_etag=entry.etag)
    return Resource(
        size=entry.size,
        mtime=entry.mtime,
        etag=etag,
        content_type=node.mimetype,
        filename=node.basename,
        content_encoding=content_encoding,
        negotiated=negotiated,
    )


_MISSING = (FileNotFoundError, PathTraversalError, NotADirectoryError, IsADirectoryError)


def _entry(path: str, st: os.stat_result) -> EntryInfo:
    is_dir = stat.S_ISDIR(st.st_mode)
    return EntryInfo(path, is_dir, 0 if is_dir else st.st_size, st.st_mtime)


def _locate(node: StorageNode) -> tuple[EntryInfo, str | None] | None:
    """One stat of ``node`` and its local file (None if remote); None when it is missing.

    A local file is resolved once (``node.os_path``: symlinks followed, refused when they
    leave the mount) and stat'ed there; everything else asks the backend.
    """
    try:
        os_path = node.os_path if node.version is None else None
        if os_path is None:
            return node.stat(), None
        return _entry(node.path or "", os.stat(os_path)), os_path
    except _MISSING:
        return None


def _sibling(node: StorageNode, os_path: str | None, suffix: str) -> _Located | None:
    """The precompressed sibling ``<name><suffix>`` when it is a file."""
    sibling = node.parent.child(node.basename + suffix)
    if os_path is not None:
        try:
            st = os.lstat(os_path + suffix)
        except OSError:
            return None
        if stat.S_ISREG(st.st_mode):  # a plain file in a directory already contained
            return sibling, _entry(sibling.path or "", st), os_path + suffix
        if not stat.S_ISLNK(st.st_mode):
            return None
    located = _locate(sibling)  # remote, or a symlink: the backend's contained stat
    if located is None or located[0].is_dir:
        return None
    return sibling, located[0], located[1]


def _variant(
    located: _Located, headers: Mapping[str, str], legacy: bool
) -> tuple[_Located, Resource]:
    """The representation to send: a precompressed sibling the client accepts, or the file."""
    node, entry, os_path = located
    media_type = node.mimetype
    if not media_type.startswith(_COMPRESSIBLE) and not media_type.endswith(("+xml", "+json")):
        return located, describe(node, entry, legacy)
    found = {}
    for coding, suffix in ENCODING_SUFFIXES.items():
        sibling = _sibling(node, os_path, suffix)
        if sibling is not None:
            found[coding] = sibling
    if not found:
        return located, describe(node, entry, legacy)
    chosen = choose_encoding(headers.get("accept-encoding"), list(found))
    if chosen is None:
        return located, describe(node, entry, legacy, negotiated=True)
    variant = found[chosen]
    resource = describe(node, variant[1], legacy, content_encoding=chosen, negotiated=True)
    return variant, resource


def prepare(
    node: StorageNode,
    method: str,
    headers: Mapping[str, str],
    options: ServeOptions,
    delivery: Delivery = Delivery(),
    preload: int = PRELOAD_LIMIT,
) -> Prepared:
    """Decide the response to ``method`` + ``headers`` (lower-case names) for ``node``.

    Blocking: one stat (plus one per precompressed sibling), and, for bodies up to
    ``preload`` bytes, the read. Missing files, directories and paths refused by the
    backend's containment (symlinks leaving a local mount) all give the core's 404.
    """
    if method not in ("GET", "HEAD") and not options.legacy:
        return Prepared(plan_response(method, headers, None, options))
    found = _locate(node)
    if found is None or found[0].is_dir:
        plan = plan_response(method, headers, None, options)
        return Prepared(plan, is_dir=found is not None)
    entry, os_path = found
    if delivery.mode in _OFFLOAD and os_path is not None:
        offloaded = _offload(node, entry, os_path, options, delivery)
        if offloaded is not None:
            return offloaded
    located: _Located = (node, entry, os_path)
    if delivery.precompressed and delivery.mode == "stream":
        located, resource = _variant(located, headers, options.legacy)
    else:
        resource = describe(node, entry, options.legacy)
    plan = plan_response(method, headers, resource, options)
    if delivery.mode == "redirect" and plan.status in (200, 206):
        url = node.url(delivery.expires_in)
        if url:
            return Prepared(_redirect(url, method == "HEAD", options))
    chosen, _, os_path = located
    prepared = Prepared(plan, chosen, os_path)
    if plan.parts and plan.content_length <= preload:
        from .body import read_all

        return Prepared(plan, chosen, os_path, body=read_all(prepared))
    return prepared


def _redirect(url: str, head: bool, options: ServeOptions) -> ResponsePlan:
    # The URL expires: no cache may keep the redirect (RFC 9111 §5.2.2.5).
    extra = (("Location", url), ("Cache-Control", "no-store"))
    return simple_plan(302, f"Found: {url}", options, head, *extra)


def _offload(
    node: StorageNode, entry: EntryInfo, os_path: str, options: ServeOptions, delivery: Delivery
) -> Prepared | None:
    """Hand a local file to the front server, which then does Range and validators itself.

    Preconditions are not evaluated here: the front server compares the client's
    validators with its own ETag/Last-Modified, which are the ones the client has seen.
    """
    full = plan_response("GET", {}, describe(node, entry), options)
    kept = [(k, v) for k, v in full.headers if k in _OFFLOAD_KEPT]
    if delivery.mode == "x-accel-redirect":
        target = delivery.accel_prefix + quote(node.path or "", safe="/")
        kept.append(("X-Accel-Redirect", target))
    elif _CONTROL.search(os_path):
        return None  # a header cannot carry it: stream instead
    else:
        # PEP 3333: header values are latin-1 str; the server sends the path's UTF-8 bytes.
        kept.append(("X-Sendfile", os_path.encode("utf-8", "surrogateescape").decode("latin-1")))
    kept.extend(options.extra_headers)
    return Prepared(ResponsePlan(200, kept), node, os_path)
