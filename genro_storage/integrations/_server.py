"""The file server every framework integration serves through, and how it is configured.

The integrations route ``<prefix>/<mount>/<path>`` to the framework, then hand the request
to one :class:`~genro_storage.serving.app.FileServer` (serve-apps' shared file server:
containment, signatures, listings, delivery) whose routes are ``/<mount>``. Each
integration reads the same ``serve`` shape from its framework's settings::

    {"media": {}, "private": {"private": True}, "static": {"cache_max_age": 86400}}

keys per mount as in :mod:`genro_storage.serving.routes` (``private``, ``cache_max_age``,
``immutable``, ``download``, ``index``, ``delivery``, ``expires_in``, ``headers``...), or a
list of mount names served with the defaults. A mount that is not listed is never served
(404), so adding a mount never publishes it by accident. A private mount without its own
secret is signed with the integration's signing secret.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from genro_storage import StorageManager
from genro_storage.errors import StorageConfigError
from genro_storage.http.signing import sign_path
from genro_storage.serving.app import FileServer, Request

__all__ = [
    "FileServer",
    "Request",
    "is_served",
    "make_server",
    "mount_request",
    "raw_path_of",
    "sign_query",
]

_SECRET_KEYS = ("secret", "secrets", "secret_env")


def make_server(
    manager: StorageManager,
    serve: Any,
    *,
    setting: str,
    secrets: Sequence[str] = (),
    error: type[Exception] = StorageConfigError,
) -> FileServer:
    """A :class:`FileServer` with one route ``/<mount>`` per entry of ``serve``.

    Raises ``error`` (the framework's configuration exception) naming ``setting`` when an
    entry is invalid or names a mount that is not configured.
    """
    routes: dict[str, Any] = {}
    for mount, spec in _entries(serve, setting, error).items():
        spec = dict(spec)
        if "mount" in spec:
            raise error(f"{setting}[{mount!r}]: 'mount' is the key itself, remove it")
        if spec.get("private") and not any(k in spec for k in _SECRET_KEYS):
            if not secrets:
                raise error(f"{setting}[{mount!r}]: private needs a signing secret")
            spec["secrets"] = list(secrets)
        routes[f"/{mount}"] = {"mount": mount, **spec}
    try:
        return FileServer(manager, serve=routes)
    except (StorageConfigError, ValueError, TypeError) as exc:
        raise error(f"{setting}: {exc}") from exc


def _entries(serve: Any, setting: str, error: type[Exception]) -> dict[str, Mapping[str, Any]]:
    if serve is None:
        return {}
    if isinstance(serve, str):
        serve = [name.strip() for name in serve.split(",") if name.strip()]
    if not isinstance(serve, Mapping):
        if not isinstance(serve, Sequence):
            raise error(f"{setting} must be a dict {{mount: options}} or a list of mount names")
        serve = dict.fromkeys(serve)
    entries: dict[str, Mapping[str, Any]] = {}
    for mount, spec in serve.items():
        if spec is None or spec is True:
            spec = {}
        if not isinstance(mount, str) or "/" in mount or not mount:
            raise error(f"{setting}: {mount!r} is not a mount name")
        if not isinstance(spec, Mapping):
            raise error(f"{setting}[{mount!r}] must be a dict of options, got {spec!r}")
        entries[mount] = spec
    return entries


def mount_request(
    method: str,
    mount: str,
    path: str,
    *,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    root: str = "",
    raw_path: str | None = None,
) -> Request:
    """The file server's :class:`Request` for ``mount`` and a decoded ``path`` in it.

    ``method`` is passed on as the client sent it (methods are case-sensitive, RFC 9110
    §9.1: ``get`` is not ``GET`` and gets the 405 the apps answer), so give the request's
    own method, not a framework's upper-cased copy. ``root`` is where the framework
    mounted the serve endpoint (for listing links); ``raw_path`` the request target's
    path still percent-encoded (:func:`raw_path_of`), so that an encoded separator or dot
    (``%2f``, ``%2e``) is refused as the apps refuse it, though the framework decoded it.
    """
    return Request(
        method=method,
        path=f"/{mount}/{path}",
        query=query,
        headers=dict(headers or {}),
        raw_path=raw_path,
        root=root,
    )


def raw_path_of(environ_or_scope: Mapping[str, Any]) -> str | None:
    """The percent-encoded path of the request target, from a WSGI environ (``RAW_URI``
    or ``REQUEST_URI``: gunicorn, werkzeug, uWSGI, mod_wsgi) or an ASGI scope
    (``raw_path``); None when the server does not give it."""
    raw = environ_or_scope.get("raw_path")
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).decode("latin-1").split("?", 1)[0]
    uri = environ_or_scope.get("RAW_URI") or environ_or_scope.get("REQUEST_URI")
    return urlsplit(uri).path if isinstance(uri, str) and uri else None


def sign_query(server: FileServer, mount: str, path: str, expires_in: int) -> str | None:
    """``expires=...&signature=...`` for ``mount:path`` when its route is private, else None."""
    for route in server.routes:
        if route.mount == mount and route.prefix == f"/{mount}":
            if not route.private:
                return None
            expires = int(time.time()) + int(expires_in)
            return sign_path(f"/{mount}/{path}", route.secrets[0], expires)
    return None


def is_served(server: FileServer, mount: str) -> bool:
    """True when ``mount`` has a route on ``server``."""
    return any(route.prefix == f"/{mount}" for route in server.routes)
