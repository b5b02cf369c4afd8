"""Starlette / FastAPI: a mountable storage app, its routes, a dependency, an upload helper.

::

    from starlette.applications import Starlette
    from starlette.routing import Mount
    from genro_storage.integrations.starlette import StarletteStorage

    storage = StarletteStorage.from_config()          # GENRO_STORAGE_* from the environment
    app = Starlette(routes=[Mount("/files", app=storage, name="files")])
    storage.install(app)                              # app.state.genro_storage, for get_manager

``storage`` is an ASGI app (mount it), ``storage.routes`` a list of Starlette routes (put
them in any ``Router``/``Mount(routes=...)``) and ``storage.router`` a ``Router``. Every
request goes to the shared file server (:mod:`genro_storage.serving.app`), answered by the
ASGI adapter: ETag, 304, Range, HEAD, signed links for private mounts, no blocking call on
the event loop.

Configuration (:meth:`StarletteStorage.from_config`, a Starlette ``Config`` or the
environment):

================================  ======================================================
``GENRO_STORAGE_MOUNTS``          a YAML/JSON file path, or a JSON list of mount dicts
``GENRO_STORAGE_SERVE``           mount names separated by commas, or a JSON object
                                  ``{mount: options}`` (options as in
                                  :mod:`genro_storage.serving.routes`)
``GENRO_STORAGE_SIGNING_SECRET``  key for ``private`` mounts
``GENRO_STORAGE_URL_EXPIRE``      lifetime in seconds of signed links (3600)
================================  ======================================================
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any, Union
from urllib.parse import quote

from genro_storage.errors import missing_extra

try:
    from starlette.config import Config
    from starlette.datastructures import UploadFile
    from starlette.requests import Request
    from starlette.routing import BaseRoute, Route, Router
    from starlette.types import Receive, Scope, Send
except ImportError as _exc:  # name the extra that fixes it
    raise missing_extra(_exc, "starlette", "genro_storage.integrations.starlette") from _exc

from genro_storage import StorageManager, StorageNode
from genro_storage.errors import StorageConfigError
from genro_storage.fileio import CHUNK_SIZE
from genro_storage.http.headers import headers_from_scope
from genro_storage.serving import asgi as asgi_adapter

from ._server import is_served, make_server, mount_request, raw_path_of, sign_query

__all__ = ["StarletteStorage", "get_async_manager", "get_manager", "save_upload"]

STATE_KEY = "genro_storage"
Mounts = Union[StorageManager, list[Any], str, "os.PathLike[str]"]


class StarletteStorage:
    """Mounts served under one route ``/{mount}/{path}``.

    Args:
        mounts: a :class:`StorageManager`, a list of mount dicts, or a YAML/JSON path.
        serve: ``{mount: options}`` or mount names; other mounts answer 404.
        signing_secret: key (or keys, newest first) for ``private`` mounts.
        url_expire: lifetime in seconds of the links :meth:`url_for` signs.
        name: the route name, for ``request.url_for(name, mount=..., path=...)``.
    """

    def __init__(
        self,
        mounts: Mounts,
        *,
        serve: Any = None,
        signing_secret: str | Sequence[str] | None = None,
        url_expire: int = 3600,
        name: str = "genro_storage",
    ) -> None:
        if isinstance(mounts, StorageManager):
            manager = mounts
        else:
            manager = StorageManager(env=False)
            manager.configure(os.fspath(mounts) if isinstance(mounts, os.PathLike) else mounts)
        secrets = [signing_secret] if isinstance(signing_secret, str) else signing_secret
        self.manager = manager
        self.server = make_server(
            manager, serve, setting="GENRO_STORAGE_SERVE", secrets=list(secrets or ())
        )
        self.url_expire = url_expire
        self.name = name
        self.routes: list[BaseRoute] = [
            # methods=None: every method reaches the file server, which answers 405 to
            # anything but GET and HEAD (lower-case ``get`` included, RFC 9110 §9.1)
            Route("/{mount}/{path:path}", endpoint=_Endpoint(self), methods=None, name=name)
        ]
        self.router = Router(routes=self.routes)

    @classmethod
    def from_config(cls, config: Config | None = None, **kwargs: Any) -> StarletteStorage:
        """Build from ``GENRO_STORAGE_*`` in a Starlette ``Config`` (default: the environment)."""
        config = config or Config()
        mounts = config("GENRO_STORAGE_MOUNTS", default=None)
        if not mounts:
            raise StorageConfigError(
                "GENRO_STORAGE_MOUNTS is not set: a YAML/JSON file path or a JSON list of mounts"
            )
        serve = config("GENRO_STORAGE_SERVE", default=None)
        secret = config("GENRO_STORAGE_SIGNING_SECRET", default=None)
        return cls(
            _json_or_text(mounts),
            serve=_json_or_text(serve) if serve else None,
            signing_secret=str(secret) if secret else None,
            url_expire=config("GENRO_STORAGE_URL_EXPIRE", cast=int, default=3600),
            **kwargs,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.router(scope, receive, send)

    # ------------------------------------------------------------------ helpers
    def install(self, app: Any) -> None:
        """Keep this object in ``app.state.genro_storage`` (for :func:`get_manager`)."""
        setattr(app.state, STATE_KEY, self)

    def get_manager(self) -> StorageManager:
        """FastAPI dependency: ``manager: StorageManager = Depends(storage.get_manager)``."""
        return self.manager

    def url_for(
        self,
        request: Request,
        target: StorageNode | str,
        *,
        name: str | None = None,
        expires_in: int | None = None,
    ) -> str:
        """The URL of a node (or ``'mount:path'``), signed on private mounts.

        ``name`` is the route's full name when it sits in a named ``Mount``
        (``"files:genro_storage"``); it defaults to this storage's route name, then to
        ``"<mount name>:<route name>"`` for the first named Mount of ``request.app``
        serving this storage.
        """
        node = self.manager.node(target) if isinstance(target, str) else target
        mount, path = node.mount_name or "", node.path or ""
        if not is_served(self.server, mount):
            raise ValueError(f"mount {mount!r} is not in GENRO_STORAGE_SERVE")
        # Starlette does not percent-encode path parameters; the server decodes them back
        quoted = quote(path, safe="/")
        url = str(request.url_for(name or self._route_name(request), mount=mount, path=quoted))
        query = sign_query(self.server, mount, path, expires_in or self.url_expire)
        return f"{url}?{query}" if query else url

    def _route_name(self, request: Request) -> str:
        for route in getattr(request.app, "routes", ()):
            if getattr(route, "name", None) and getattr(route, "app", None) is self:
                return f"{route.name}:{self.name}"
        return self.name


class _Endpoint:
    """The ASGI endpoint of the route: the file server decides, the ASGI adapter sends."""

    def __init__(self, storage: StarletteStorage) -> None:
        self.storage = storage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = scope["path_params"]
        mount, path = params["mount"], params["path"]
        full = Request(scope).url.path
        suffix = f"/{mount}/{path}"
        file_request = mount_request(
            scope["method"],
            mount,
            path,
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers_from_scope(scope),
            root=full[: -len(suffix)] if full.endswith(suffix) else "",
            raw_path=raw_path_of(scope),
        )
        prepared = await asgi_adapter.run_sync(self.storage.server.get_response, file_request)
        await asgi_adapter.send_prepared(prepared, scope, receive, send)


def get_manager(request: Request) -> StorageManager:
    """FastAPI dependency: the manager of the storage :meth:`StarletteStorage.install`-ed."""
    storage = getattr(request.app.state, STATE_KEY, None)
    if storage is None:
        raise RuntimeError("call storage.install(app) to use get_manager as a dependency")
    return storage.manager  # type: ignore[no-any-return]


def get_async_manager(request: Request) -> Any:
    """FastAPI dependency: an ``AsyncStorageManager`` over the installed storage's manager
    (awaitable node methods for ``async def`` endpoints)."""
    from genro_storage.aio import AsyncStorageManager

    return AsyncStorageManager(get_manager(request))


async def save_upload(upload: UploadFile, node: Any, chunk_size: int = CHUNK_SIZE) -> StorageNode:
    """Stream an ``UploadFile`` into ``node`` (inside it, under the upload's base name, when
    ``node`` is an existing directory). ``node`` is a ``StorageNode`` or an
    ``AsyncStorageNode``. Runs in a worker thread, ``chunk_size`` bytes at a time; returns
    the (sync) node written."""
    node = getattr(node, "sync_node", node)  # AsyncStorageNode wraps a StorageNode
    await upload.seek(0)

    def write() -> StorageNode:
        target: StorageNode = node
        if node.exists and node.isdir:
            name = PurePosixPath((upload.filename or "").replace("\\", "/")).name
            if name in ("", ".", ".."):
                raise ValueError(f"upload has no usable file name: {upload.filename!r}")
            target = node.child(name)
        target.write_stream(
            iter(lambda: upload.file.read(chunk_size), b""),
            content_type=upload.content_type or None,
        )
        return target

    result: StorageNode = await asgi_adapter.run_sync(write)
    return result


def _json_or_text(value: str) -> Any:
    """The parsed JSON when ``value`` looks like a JSON list or object, else ``value``."""
    if value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise StorageConfigError(f"invalid JSON in GENRO_STORAGE_* setting: {exc}") from exc
    return value
