"""``StaticFilesMiddleware``: serve ``STATIC_URL`` from the static files storage.

What whitenoise's middleware does, for a :class:`~.static.GenroStaticStorage` (or any
:class:`GenroStorage`) on any mount, through the one serve core every integration uses::

    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "genro_storage.integrations.django.middleware.StaticFilesMiddleware",
        ...
    ]

* hashed names (``app.0123456789ab.css``, or any name in the manifest) are sent with
  ``Cache-Control: max-age=31536000, immutable``; other names with a short ``max-age``;
* the ``.br`` / ``.gz`` siblings ``collectstatic`` wrote are sent to clients that accept
  them, with ``Vary: Accept-Encoding``; ETag, 304, Range and HEAD as everywhere else;
* a name the storage does not have falls through to the rest of the site (a 404 there);
* sync and async: under WSGI it runs in the request thread and a local file goes out
  through the server's ``sendfile``; under ASGI it never blocks the event loop.

``GENRO_STORAGE_STATIC`` (a dict, all keys optional):

=====================  ==========  ====================================================
key                    default     meaning
=====================  ==========  ====================================================
``max_age``            ``60``      seconds unhashed names may be cached
``immutable_max_age``  one year    seconds hashed names may be cached (``immutable``)
``delivery``           ``stream``  ``redirect``: 302 to the object's presigned URL
                                   (object-store mounts; no bytes through Django)
``redirect_to_url``    ``False``   302 to the name's URL on the storage (a CDN
                                   ``base_url`` or ``custom_domain``) instead of
                                   serving; names not in the manifest are looked up
                                   first (a missing one falls through to the site)
``cache_stat``         ``5``       seconds a file's stat is reused (0: every request)
``autorefresh``        ``DEBUG``   stat every request (``cache_stat`` 0): an edited
                                   file shows at once, as whitenoise's
                                   ``WHITENOISE_AUTOREFRESH``
=====================  ==========  ====================================================

On a local mount (``stream`` delivery) GET and HEAD are answered from the serve core's
kept answers (:class:`~genro_storage.serving.hot.HotFiles`, the table every file server
of this package uses): decided once per file and request key (method, the conditional,
``Range`` and ``Accept-Encoding`` values), trusted for ``cache_stat`` seconds, then
checked against the file's stat. The table is filled at start-up from the manifest (every
hashed name, as whitenoise reads its files at start-up) and learns any other name at its
first request; ``collectstatic`` on a running site is followed (see
:meth:`StaticFilesMiddleware.refresh`). A 304 never touches the disk, a 200 hands the
file to the server (:mod:`.responses`).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import (
    ImproperlyConfigured,
    MiddlewareNotUsed,
    SuspiciousFileOperation,
)
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect

from genro_storage.engine.serve.prepare import Prepared
from genro_storage.errors import StorageError
from genro_storage.http.headers import headers_from_environ, headers_from_scope
from genro_storage.serving import asgi as asgi_adapter
from genro_storage.serving import wsgi as wsgi_adapter
from genro_storage.serving.app import FileServer, Request
from genro_storage.serving.hot import HotFiles

from .._bridge import run_asgi, run_wsgi
from . import conf
from .responses import HeaderStores, kept_response
from .static import HASHED
from .storage import GenroStorage
from .views import _http_scope, _response

__all__ = ["KEPT_BODY_LIMIT", "PRELOAD_NAMES", "StaticFilesMiddleware", "active_middleware"]

PRELOAD_NAMES = 1024
"""At most this many names of the manifest are decided at start-up (and after a change)."""
KEPT_BODY_LIMIT = 64 * 1024
"""Files up to this size are kept in memory with their answers (a precompressed bundle)."""
_MAX_TARGETS = 8192
_ACTIVE: list[weakref.ref[StaticFilesMiddleware]] = []


def active_middleware() -> StaticFilesMiddleware | None:
    """The :class:`StaticFilesMiddleware` built last in this process (Django's handler
    builds its middleware chain once), for :class:`~.asgi.StaticFilesASGI`; None if none."""
    found = _ACTIVE[0]() if _ACTIVE else None
    return found


_DEFAULTS: dict[str, Any] = {
    "max_age": 60,
    "immutable_max_age": 365 * 24 * 3600,
    "delivery": "stream",
    "redirect_to_url": False,
    "cache_stat": 5,
    "autorefresh": None,  # None: settings.DEBUG
}


class StaticFilesMiddleware:
    """Answers requests under ``STATIC_URL`` from ``STORAGES["staticfiles"]``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        from django.core.files.storage import storages

        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        storage = storages["staticfiles"]
        if not isinstance(storage, GenroStorage):
            raise MiddlewareNotUsed("STORAGES['staticfiles'] is not a genro-storage storage")
        self.storage: GenroStorage = storage
        self.prefix = urlsplit(str(settings.STATIC_URL or "")).path
        if not self.prefix.startswith("/") or self.prefix == "/":
            raise ImproperlyConfigured(
                "StaticFilesMiddleware needs a STATIC_URL path such as '/static/'"
            )
        if not self.prefix.endswith("/"):
            self.prefix += "/"
        options = {**_DEFAULTS, **(getattr(settings, "GENRO_STORAGE_STATIC", None) or {})}
        unknown = sorted(set(options) - set(_DEFAULTS))
        if unknown:
            raise ImproperlyConfigured(f"GENRO_STORAGE_STATIC: unknown key(s) {unknown}")
        if options["autorefresh"] is None:
            options["autorefresh"] = bool(settings.DEBUG)
        if options["autorefresh"]:
            options["cache_stat"] = 0
        self.options = options
        self.server = self._server(options)
        self.hot = self._hot(options)
        self.stores = HeaderStores()
        location = self.storage.location
        self._base = f"/{location}/" if location else "/"
        self._targets: dict[str, str] = {}
        self.hashed: frozenset[str] = frozenset()
        self.known: frozenset[str] = frozenset()
        self._manifest_state: Any = None
        self._manifest_every = max(float(options["cache_stat"]), 1.0)
        self._manifest_due = 0.0
        self.refresh(force=True)
        _ACTIVE[:] = [weakref.ref(self)]

    def _hot(self, options: dict[str, Any]) -> HotFiles | None:
        """The serve core's kept answers, for a local mount served by streaming."""
        if options["delivery"] != "stream" or options["redirect_to_url"]:
            return None
        backend = conf.get_manager().get_backend(self.storage.mount)
        try:
            if backend.os_path("") is None:
                return None
        except (StorageError, OSError, NotImplementedError):
            return None
        hot = self.server.hot
        if hot is not None:
            hot.body_limit = KEPT_BODY_LIMIT
        return hot

    # ------------------------------------------------------------------ the manifest
    def _manifest_stat(self) -> Any:
        """What tells one state of the manifest file from another (None: none there)."""
        name = getattr(self.storage, "manifest_name", None)
        if not name:
            return None
        try:
            entry = self.storage.node(name).stat()
        except (StorageError, OSError, ValueError, SuspiciousFileOperation):
            return None
        return (entry.size, entry.mtime, entry.etag)

    def refresh(self, force: bool = False) -> bool:
        """Read the manifest again when it changed (``collectstatic`` on a running site):
        its names are then the hashed ones, and the new ones are decided at once (at
        start-up, all of them, up to :data:`PRELOAD_NAMES`), and the stats trusted for
        ``cache_stat`` are taken again (the files it rewrote show at once). Checked at
        most once per ``cache_stat`` seconds (one second with ``autorefresh``). Returns
        True when read.

        The storage's own manifest (what ``{% static %}`` links to) is Django's: it is
        read when the process starts, as with ``ManifestStaticFilesStorage``.
        """
        now = time.monotonic()
        if not force and now < self._manifest_due:
            return False
        self._manifest_due = now + self._manifest_every
        # followed on local mounts only (a stat per cache_stat; remote: none at all)
        state = self._manifest_stat() if self.hot is not None else None
        if not force and state == self._manifest_state:
            return False
        self._manifest_state = state
        manifest: dict[str, Any] = {}
        if force:
            manifest = dict(getattr(self.storage, "hashed_files", None) or {})
        elif state is not None:
            try:
                manifest = dict(self.storage.load_manifest()[0])
            except (StorageError, OSError, ValueError, AttributeError):
                return False
        if not force:  # collectstatic ran: what it rewrote is stat'ed again at once
            self.forget()
        hashed = frozenset(str(name) for name in manifest.values())
        fresh = sorted(hashed - self.hashed)
        self.hashed = hashed
        self.known = hashed | frozenset(str(name) for name in manifest)
        self._targets.clear()
        if self.hot is not None:
            self.preload(fresh[:PRELOAD_NAMES])
        return True

    def preload(self, names: list[str]) -> None:
        """Decide a plain GET of each of ``names`` now, so that the kept answers know the
        files before their first request (names that are not files are skipped)."""
        for name in names:
            try:
                self.server.get_response(Request(method="GET", path=self.target(name)))
            except (StorageError, OSError, ValueError):
                continue

    def _server(self, options: dict[str, Any]) -> FileServer:
        common = {
            "mount": self.storage.mount,
            "precompressed": True,
            "delivery": options["delivery"],
            "cache_stat": int(options["cache_stat"]),
        }
        try:
            return FileServer(
                conf.get_manager(),
                serve={
                    "/s": {**common, "cache_max_age": int(options["max_age"])},
                    "/h": {
                        **common,
                        "cache_max_age": int(options["immutable_max_age"]),
                        "immutable": True,
                    },
                },
            )
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"GENRO_STORAGE_STATIC: {exc}") from exc

    # ------------------------------------------------------------------ decisions
    def name_of(self, request: HttpRequest) -> str | None:
        """The static name ``request`` asks for, or None when it is not a static URL."""
        path = request.path_info if request.path_info.startswith(self.prefix) else request.path
        if not path.startswith(self.prefix) or request.method not in ("GET", "HEAD"):
            return None
        name = path[len(self.prefix) :]
        return name or None

    def is_immutable(self, name: str) -> bool:
        return name in self.hashed or bool(HASHED.search(name))

    def redirect_url(self, name: str) -> str | None:
        """The URL ``redirect_to_url`` sends ``name`` to, None when the storage lacks it.

        The name is already the stored one (hashed, or what ``{% static %}`` gave): its
        URL is taken as it is, without the manifest's hashing (which would refuse a
        hashed name). A name of the manifest needs no lookup; any other costs one stat.
        """
        if name not in self.known:
            try:
                if not self.storage.exists(name):
                    return None
            except (SuspiciousFileOperation, StorageError, ValueError):
                return None
        return str(GenroStorage.url(self.storage, name))

    def target(self, name: str) -> str:
        """The file server's path for ``name``: under ``/h`` (immutable caching) for a
        hashed name, else under ``/s``."""
        found = self._targets.get(name)
        if found is None:
            found = ("/h" if self.is_immutable(name) else "/s") + self._base + name
            if len(self._targets) >= _MAX_TARGETS:
                self._targets.clear()
            self._targets[name] = found
        return found

    def decide(self, request: HttpRequest, name: str, headers: dict[str, str]) -> Prepared:
        """The serve core's answer for ``name`` (blocking: one stat, maybe a small read)."""
        return self.server.get_response(
            Request(method=request.method or "GET", path=self.target(name), headers=headers)
        )

    def kept(self, request: HttpRequest, asgi: bool) -> HttpResponseBase | None:
        """The answer from the kept answers, None when it must be decided (not kept yet,
        another key, not a plain local file...). Non-blocking enough for the event loop:
        a dict lookup, a ``stat`` once per ``cache_stat``, a local read of a small file."""
        hot, path = self.hot, request.path_info
        if hot is None or not path.startswith(self.prefix):
            return None
        method = request.method
        if method != "GET" and method != "HEAD":
            return None
        target = self.target(path[len(self.prefix) :])
        if target not in hot:
            return None
        prepared = hot.answer(target, method, None, HotFiles.environ_key(method, request.META))
        if prepared is None:
            return None
        return self.respond(prepared, asgi)

    def kept_for_scope(self, scope: Any) -> Prepared | None:
        """:meth:`kept` for an ASGI scope, before Django (:class:`~.asgi.StaticFilesASGI`):
        the kept answer, or None (the request then goes to Django)."""
        hot, method = self.hot, scope.get("method")
        if hot is None or (method != "GET" and method != "HEAD"):
            return None
        path, root = scope.get("path") or "", scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root) :]
        if not path.startswith(self.prefix):
            return None
        target = self.target(path[len(self.prefix) :])
        if target not in hot:
            return None
        headers: Iterable[tuple[bytes, bytes]] = scope.get("headers") or ()
        key = HotFiles.scope_key(method, headers)
        return None if key is None else hot.answer(target, method, None, key)

    @property
    def manifest_due(self) -> float:
        """The ``time.monotonic()`` from which :meth:`refresh` looks at the manifest."""
        return self._manifest_due

    def respond(self, prepared: Prepared, asgi: bool) -> HttpResponseBase | None:
        """``prepared`` as a Django response, None when it goes the usual way."""
        response = kept_response(prepared, self.stores(prepared.plan), asgi)
        if response is None and prepared.os_path is not None and prepared.whole_file:
            self.forget()  # its file changed since it was decided: no trusted stat
        return response

    def forget(self) -> None:
        """Drop the trust in kept stats (a file changed within ``cache_stat``)."""
        for route in self.server.routes:
            if route.stat_cache is not None:
                route.stat_cache.clear()

    # ------------------------------------------------------------------ sync
    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        if self.hot is not None and self._manifest_due <= time.monotonic():
            self.refresh()
        asgi = getattr(request, "scope", None) is not None  # a sync middleware under ASGI
        answer = self.kept(request, asgi)
        if answer is not None:
            return answer
        name = self.name_of(request)
        if name is None:
            return self.get_response(request)
        if self.options["redirect_to_url"]:
            target = self.redirect_url(name)
            return self.get_response(request) if target is None else HttpResponseRedirect(target)
        scope = _http_scope(request)
        headers = headers_from_scope(scope) if scope else headers_from_environ(request.META)
        prepared = self.decide(request, name, headers)
        if prepared.plan.status == 404:
            return self.get_response(request)
        if self.hot is not None:
            answer = self.respond(prepared, asgi)
            if answer is not None:
                return answer
        if scope is not None:  # a sync middleware in an ASGI server: Django's thread
            from asgiref.sync import async_to_sync

            return _response(async_to_sync(run_asgi)(_responder(prepared), scope))
        return _response(
            run_wsgi(lambda env, sr: wsgi_adapter.send_prepared(prepared, env, sr), request.META)
        )

    # ------------------------------------------------------------------ async
    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if self.hot is not None and self._manifest_due <= time.monotonic():
            await asgi_adapter.run_sync(self.refresh)
        answer = self.kept(request, asgi=True)
        if answer is not None:
            return answer
        name = self.name_of(request)
        if name is None:
            return await self.get_response(request)
        if self.options["redirect_to_url"]:
            target = await asgi_adapter.run_sync(self.redirect_url, name)
            if target is None:
                return await self.get_response(request)
            return HttpResponseRedirect(target)
        scope = _http_scope(request)
        headers = headers_from_scope(scope) if scope else headers_from_environ(request.META)
        prepared = await asgi_adapter.run_sync(self.decide, request, name, headers)
        if prepared.plan.status == 404:
            return await self.get_response(request)
        if self.hot is not None:
            answer = self.respond(prepared, asgi=scope is not None)
            if answer is not None:
                return answer
        if scope is None:  # async middleware under WSGI (tests): no loop to stream on
            return _response(
                run_wsgi(
                    lambda env, sr: wsgi_adapter.send_prepared(prepared, env, sr), request.META
                )
            )
        return _response(await run_asgi(_responder(prepared), scope))


def _responder(prepared: Prepared) -> Any:
    async def respond(scope: Any, receive: Any, send: Any) -> None:
        await asgi_adapter.send_prepared(prepared, scope, receive, send)

    return respond
