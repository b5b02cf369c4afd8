"""The file server both apps share: routes, path containment, signatures, listings.

:class:`FileServer` turns a :class:`Request` into a
:class:`~genro_storage.engine.serve.prepare.Prepared` response with blocking calls only;
``genro_storage.serving.wsgi_app.WSGIApp`` and ``genro_storage.serving.asgi_app.ASGIApp``
add the I/O edge (a WSGI callable, an ASGI callable running :meth:`get_response` in a
worker thread). Override the small methods (:meth:`lookup`, :meth:`get_node`,
:meth:`check_access`, :meth:`get_response`) to change one decision.

Refusals: a path that tries to leave its mount (``..``, ``%2e%2e``, ``%2f``, ``%5c``,
backslashes, NUL, Windows device names, symlinks out of a local mount) gets the same 404
as a missing file, so the answer never tells what exists outside the mount. A private
route answers 403 to a missing, tampered or expired signature.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Union
from urllib.parse import quote

from ..backends.base import EntryInfo
from ..engine.serve.prepare import Prepared, prepare
from ..errors import PathTraversalError
from ..http.delivery import simple_plan
from ..http.headers import normalize_headers
from ..http.options import ServeOptions
from ..http.signing import sign_path, verify
from ..manager import StorageManager
from ..node import StorageNode
from ..paths import from_url_path
from .hot import HotFiles
from .listing import inside_mount, listing_plan, wants_json
from .routes import Route, load_app_config, parse_routes

__all__ = ["FileServer", "Request"]

_HOOKS = ("lookup", "check_access", "get_node", "get_response")

StorageSource = Union[StorageManager, list[Any], str, "os.PathLike[str]"]
_PLAIN = ServeOptions()


_MEMO_PATH_CHARS = 1024  # longer paths are checked every time: the memo stays small


def _contained(path: str) -> str:
    """``from_url_path(quote(path))``: the mount path of a decoded request path.

    Pure, so memoised for the paths a site serves again and again; a refusal raises and
    is not kept.
    """
    if len(path) > _MEMO_PATH_CHARS:
        return from_url_path(quote(path, safe="/"))
    return _contained_memo(path)


@lru_cache(maxsize=1024)
def _contained_memo(path: str) -> str:
    return from_url_path(quote(path, safe="/"))


def canonical_path(path: str) -> str | None:
    """``path`` with empty segments collapsed (``//`` is ``/``); None when a segment is
    ``.`` or ``..``.

    Routes are looked up, signatures checked and files found on this one spelling, so
    ``/files//privdir/doc.txt`` meets the private route ``/files/privdir`` like
    ``/files/privdir/doc.txt`` does, instead of the public ``/files`` one. A trailing
    slash is kept (it tells a listing's links apart).
    """
    if "//" not in path and "/." not in path:
        return path  # the common case: nothing to do
    segments = [s for s in path.split("/") if s]
    if any(s in (".", "..") for s in segments):
        return None
    joined = "/" + "/".join(segments)
    return joined + "/" if segments and path.endswith("/") else joined


def _keepable(route: Route) -> bool:
    """True for a route whose answers :class:`HotFiles` may keep (plain, streamed)."""
    return not route.index and not route.private and route.delivery.mode == "stream"


@dataclass(frozen=True)
class Request:
    """What the file server needs from an HTTP request.

    ``path`` is the decoded path inside the app (``/files/a b.txt``); ``raw_path`` the
    request target's path as sent, still percent-encoded, when the server provides it;
    ``root`` where the app is mounted (``SCRIPT_NAME`` / ``root_path``), for links.
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    raw_path: str | None = None
    root: str = ""


class FileServer:
    """Serve mounts under URL prefixes (see :mod:`genro_storage.serving.routes`).

    Args:
        storage: a :class:`StorageManager`, a list of mount dicts, or the path of a
            YAML/JSON file holding either a mounts list or ``{mounts: [...], serve: {...}}``.
        serve: the ``serve`` mapping (prefix -> mount or options); overrides the file's.
            None (and none in the file) serves every mount under ``/<name>``.
    """

    def __init__(self, storage: StorageSource, serve: Mapping[str, Any] | None = None) -> None:
        if isinstance(storage, (str, os.PathLike)):
            mounts, file_serve = load_app_config(storage)
            storage = mounts
            serve = file_serve if serve is None else serve
        if isinstance(storage, list):
            manager = StorageManager(env=False)
            manager.configure(storage)
            storage = manager
        if not isinstance(storage, StorageManager):
            raise TypeError(f"storage must be a StorageManager, a list or a path: {storage!r}")
        self.storage = storage
        self.routes: list[Route] = parse_routes(serve, storage.get_mount_names())
        # decided answers for plain local routes (serving/hot.py); a subclass overriding
        # a decision hook gets none: its hook must see every request
        overridden = any(getattr(type(self), n) is not getattr(FileServer, n) for n in _HOOKS)
        self.hot: HotFiles | None = None if overridden else HotFiles(storage)

    # ------------------------------------------------------------------ decisions
    def lookup(self, path: str) -> tuple[Route, str] | None:
        """The route serving ``path`` and the rest of the path (still unchecked)."""
        for route in self.routes:  # longest prefix first
            if path == route.prefix or path.startswith(route.prefix + "/"):
                return route, path[len(route.prefix) :]
        return None

    def check_access(self, route: Route, request: Request) -> bool:
        """False when a private route's signature is missing, tampered or expired."""
        return not route.private or verify(request.path, request.query, route.secrets)

    def get_node(self, route: Route, rest: str, request: Request) -> StorageNode:
        """The node for ``rest``; raises PathTraversalError when it tries to leave the mount.

        Both the raw request target and the decoded path go through the one containment
        function, :func:`genro_storage.paths.from_url_path`.
        """
        raw = request.raw_path
        if raw is not None and ("%" in raw or "\\" in raw):  # else it equals the decoded path
            from_url_path(raw)
        relative = _contained(rest)
        try:  # ``relative`` is normalised already: node() would only do it again
            return StorageNode(self.storage, route.mount, relative)
        except KeyError:  # the mount was removed since: node() raises the proper error
            return self.storage.node(f"{route.mount}:{relative}")

    def get_response(self, request: Request) -> Prepared:
        """The response to ``request`` (blocking: stats, listings, small reads)."""
        hot = self.hot
        asked = request.path
        method = request.method
        raw = request.raw_path
        plain = (
            hot is not None
            and (method == "GET" or method == "HEAD")
            and (raw is None or ("%" not in raw and "\\" not in raw))
        )
        key: tuple[Any, ...] = ()
        if plain:
            assert hot is not None
            # one spelling of the names for the key and the decision alike
            headers = normalize_headers(request.headers)
            if headers is not request.headers:
                request = replace(request, headers=headers)
            key = hot.key(method, headers)
            kept = hot.answer(asked, method, headers, key)
            if kept is not None:
                return kept
        head = method == "HEAD"
        path = canonical_path(request.path)
        if path is None:  # a dot segment: refused like every other escape attempt
            return Prepared(simple_plan(404, "Not Found", _PLAIN, head))
        if path != request.path:
            request = replace(request, path=path)
        match = self.lookup(path)
        if match is None:
            if request.path in ("", "/") and any(r.index for r in self.routes):
                return Prepared(self._landing(request, head))
            return Prepared(simple_plan(404, "Not Found", _PLAIN, head))
        route, rest = match
        options = route.options
        try:
            node = self.get_node(route, rest, request)
        except (PathTraversalError, UnicodeError):  # UnicodeError: not UTF-8 once decoded
            return Prepared(simple_plan(404, "Not Found", options, head))
        if not self.check_access(route, request):
            return Prepared(simple_plan(403, "Forbidden", options, head))
        if plain and path == asked and _keepable(route):
            assert hot is not None
            learned = hot.learn(path, route, node, method, request.headers, key)
            if learned is not None:
                return learned
        try:
            prepared = prepare(
                node, request.method, request.headers, options, route.delivery,
                stat_cache=route.stat_cache,
            )  # fmt: skip
        except PermissionError:
            return Prepared(simple_plan(403, "Forbidden", options, head))
        if prepared.is_dir and route.index:
            try:
                return Prepared(self._listing(route, node, request, head))
            except PermissionError:
                return Prepared(simple_plan(403, "Forbidden", options, head))
            except (ConnectionError, TimeoutError):
                raise  # an unreachable remote store is the server's error
            except OSError:  # gone since its stat, or unreadable: as if missing, never a 500
                return Prepared(simple_plan(404, "Not Found", options, head))
        return prepared

    def sign(self, path: str, expires_in: int = 3600, now: float | None = None) -> str:
        """``path?expires=...&signature=...`` for a private route's ``path`` (app-relative)."""
        import time

        match = self.lookup(path)
        if match is None or not match[0].private:
            raise ValueError(f"{path!r} is not under a private route")
        expires = int((time.time() if now is None else now) + expires_in)
        return f"{path}?{sign_path(path, match[0].secrets[0], expires)}"

    # ------------------------------------------------------------------ listings
    def _listing(self, route: Route, node: StorageNode, request: Request, head: bool) -> Any:
        backend = self.storage.get_backend(route.mount)
        entries = inside_mount(backend, backend.list_detail(node.path or ""))
        path = request.path
        base = "" if path.endswith("/") else path.rsplit("/", 1)[-1] + "/"
        signer = self._link_signer(route, request)
        return listing_plan(
            entries,
            request.root + path,
            quote(base),
            has_parent=bool(node.path),
            as_json=wants_json(request.query, request.headers.get("accept")),
            head=head,
            options=route.options,
            link_query=signer,
        )

    def _link_signer(self, route: Route, request: Request) -> Callable[[str], str] | None:
        """For private listings: sign each file link with the listing's own expiry."""
        if not route.private:
            return None
        from urllib.parse import parse_qs

        expires = int(parse_qs(request.query)["expires"][0])
        folder = request.path.rstrip("/")
        return lambda name: "?" + sign_path(f"{folder}/{name}", route.secrets[0], expires)

    def _landing(self, request: Request, head: bool) -> Any:
        """At ``/``, when no route serves it: the routes, as a directory listing."""
        entries = [EntryInfo(r.prefix.lstrip("/"), True, 0) for r in self.routes if r.prefix]
        as_json = wants_json(request.query, request.headers.get("accept"))
        return listing_plan(
            entries, request.root + "/", "", has_parent=False, as_json=as_json, head=head,
            options=_PLAIN,
        )  # fmt: skip
