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

On a local mount (``stream`` delivery) the plain requests (GET, HEAD, the revalidation
with the current ETag) are answered from headers decided once per file and kept (see
:mod:`.answers`): a 304 never touches the disk, a 200 hands the file to the server.
"""

from __future__ import annotations

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

from genro_storage import StorageNode
from genro_storage.engine.serve.prepare import Prepared
from genro_storage.errors import StorageError
from genro_storage.http.headers import headers_from_environ, headers_from_scope
from genro_storage.serving import asgi as asgi_adapter
from genro_storage.serving import wsgi as wsgi_adapter
from genro_storage.serving.app import FileServer, Request

from .._bridge import run_asgi, run_wsgi
from . import conf
from .answers import AnswerTable
from .static import HASHED
from .storage import GenroStorage
from .views import _http_scope, _response

__all__ = ["StaticFilesMiddleware"]

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
        manifest = getattr(storage, "hashed_files", None) or {}
        self.hashed = frozenset(str(name) for name in manifest.values())
        self.known = self.hashed | frozenset(str(name) for name in manifest)
        self.table = self._table(options)

    def _table(self, options: dict[str, Any]) -> AnswerTable | None:
        """The precomputed answers, for a local mount served by streaming (else None)."""
        if options["delivery"] != "stream" or options["redirect_to_url"]:
            return None
        manager = conf.get_manager()
        backend = manager.get_backend(self.storage.mount)
        try:
            if backend.os_path("") is None:
                return None
        except (StorageError, OSError, NotImplementedError):
            return None
        mount = self.storage.mount
        routes = {route.prefix: route.options for route in self.server.routes}
        immutable, short = routes["/h"], routes["/s"]
        return AnswerTable(
            backend,
            lambda path: StorageNode(manager, mount, path),
            self.storage.location,
            lambda name: immutable if self.is_immutable(name) else short,
            ttl=float(options["cache_stat"]),
        )

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

    def decide(self, request: HttpRequest, name: str, headers: dict[str, str]) -> Prepared:
        """The serve core's answer for ``name`` (blocking: one stat, maybe a small read)."""
        location = self.storage.location
        route = "/h" if self.is_immutable(name) else "/s"
        path = f"{route}/{location}/{name}" if location else f"{route}/{name}"
        return self.server.get_response(
            Request(method=request.method or "GET", path=path, headers=headers)
        )

    # ------------------------------------------------------------------ sync
    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        table, path = self.table, request.path_info
        if table is not None and path.startswith(self.prefix):
            answer = table.answer(path[len(self.prefix) :], request.method or "", request.META)
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
        if scope is not None:  # a sync middleware in an ASGI server: Django's thread
            from asgiref.sync import async_to_sync

            return _response(async_to_sync(run_asgi)(_responder(prepared), scope))
        return _response(
            run_wsgi(lambda env, sr: wsgi_adapter.send_prepared(prepared, env, sr), request.META)
        )

    # ------------------------------------------------------------------ async
    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        table, path = self.table, request.path_info
        if table is not None and path.startswith(self.prefix):
            answer = table.answer(
                path[len(self.prefix) :], request.method or "", request.META, asgi=True
            )
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
