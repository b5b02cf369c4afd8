"""Flask extension: mounts from the app config, a blueprint serving them, upload helper.

::

    from flask import Flask
    from genro_storage.integrations.flask import GenroStorage, save_upload

    storage = GenroStorage()

    def create_app():
        app = Flask(__name__)
        app.config["GENRO_STORAGE_MOUNTS"] = [
            {"name": "uploads", "type": "local", "path": "/srv/up"},
        ]
        app.config["GENRO_STORAGE_SERVE"] = {"uploads": {}}
        storage.init_app(app)
        return app

Config keys:

==================================  =====================================================
``GENRO_STORAGE_MOUNTS``            list of mount dicts, or a YAML/JSON file path (required)
``GENRO_STORAGE_SERVE``             ``{mount: options}`` or a list of mount names: what the
                                    blueprint serves (options as in
                                    :mod:`genro_storage.serving.routes`: ``private``,
                                    ``cache_max_age``, ``download``, ``index``...); others 404
``GENRO_STORAGE_URL_PREFIX``        where the blueprint is registered (``"/files"``); None
                                    registers no blueprint
``GENRO_STORAGE_SIGNING_SECRET``    key (or list, newest first) for ``private`` mounts;
                                    defaults to one derived from ``SECRET_KEY``
``GENRO_STORAGE_URL_EXPIRE``        lifetime in seconds of signed links (3600)
==================================  =====================================================

State lives in ``app.extensions["genro_storage"]``: one extension object serves any number
of apps. ``url_for("genro_storage.serve", mount=..., path=...)`` works like any endpoint;
:meth:`GenroStorage.url_for` (also the template global ``genro_storage_url``) signs links
of private mounts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from genro_storage.errors import missing_extra

try:
    from flask import Blueprint, Flask, Response, current_app, request
    from flask import url_for as flask_url_for
except ImportError as _exc:  # name the extra that fixes it
    raise missing_extra(_exc, "flask", "genro_storage.integrations.flask") from _exc
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from genro_storage import StorageManager, StorageNode
from genro_storage.errors import StorageConfigError
from genro_storage.fileio import CHUNK_SIZE
from genro_storage.http.headers import headers_from_environ
from genro_storage.serving import wsgi as wsgi_adapter

from ._bridge import run_wsgi
from ._server import (
    FileServer,
    is_served,
    make_server,
    mount_request,
    raw_path_of,
    sign_query,
)

__all__ = ["GenroStorage", "StorageState", "blueprint", "save_upload"]

EXTENSION_KEY = "genro_storage"

blueprint = Blueprint("genro_storage", __name__)


@dataclass
class StorageState:
    """What :meth:`GenroStorage.init_app` keeps in ``app.extensions["genro_storage"]``."""

    manager: StorageManager
    server: FileServer
    url_expire: int


class GenroStorage:
    """The extension: ``GenroStorage(app)`` or ``storage.init_app(app)`` in a factory."""

    def __init__(self, app: Flask | None = None, manager: StorageManager | None = None) -> None:
        self._manager = manager
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the ``GENRO_STORAGE_*`` keys, configure the mounts, register the blueprint."""
        config = app.config
        manager = self._manager
        if manager is None:
            mounts = config.get("GENRO_STORAGE_MOUNTS")
            if mounts is None:
                raise StorageConfigError(
                    "GENRO_STORAGE_MOUNTS is not set: a list of mount dicts or a YAML/JSON path"
                )
            manager = StorageManager(env=False)
            manager.configure(list(mounts) if isinstance(mounts, tuple) else mounts)
        server = make_server(
            manager,
            config.get("GENRO_STORAGE_SERVE"),
            setting="GENRO_STORAGE_SERVE",
            secrets=_secrets(app),
        )
        app.extensions[EXTENSION_KEY] = StorageState(
            manager, server, int(config.get("GENRO_STORAGE_URL_EXPIRE", 3600))
        )
        prefix = config.get("GENRO_STORAGE_URL_PREFIX", "/files")
        if prefix is not None:
            app.register_blueprint(blueprint, url_prefix=prefix)
        app.add_template_global(self.url_for, "genro_storage_url")

    # ------------------------------------------------------------------ per-app state
    @staticmethod
    def state(app: Flask | None = None) -> StorageState:
        """The current (or given) app's state; RuntimeError if init_app was not called."""
        app = app or current_app
        try:
            return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
        except KeyError:
            raise RuntimeError("GenroStorage.init_app(app) was not called for this app") from None

    @property
    def manager(self) -> StorageManager:
        """The current app's :class:`StorageManager`."""
        return self.state().manager

    def node(self, *args: Any, **kwargs: Any) -> StorageNode:
        """``manager.node(...)`` of the current app."""
        return self.manager.node(*args, **kwargs)

    def url_for(
        self,
        target: StorageNode | str,
        *,
        expires_in: int | None = None,
        _external: bool = False,
    ) -> str:
        """The blueprint URL of a node (or ``'mount:path'``), signed on private mounts.

        Raises ``ValueError`` when the mount is not in ``GENRO_STORAGE_SERVE``.
        """
        state = self.state()
        node = state.manager.node(target) if isinstance(target, str) else target
        mount, path = node.mount_name or "", node.path or ""
        if not is_served(state.server, mount):
            raise ValueError(f"mount {mount!r} is not in GENRO_STORAGE_SERVE")
        url = flask_url_for("genro_storage.serve", mount=mount, path=path, _external=_external)
        query = sign_query(state.server, mount, path, expires_in or state.url_expire)
        return f"{url}?{query}" if query else url


def _secrets(app: Flask) -> list[str]:
    configured = app.config.get("GENRO_STORAGE_SIGNING_SECRET")
    if configured:
        return [configured] if isinstance(configured, str) else [str(s) for s in configured]
    secret_key = app.config.get("SECRET_KEY")
    if not secret_key:
        return []
    key = secret_key if isinstance(secret_key, bytes) else str(secret_key).encode("utf-8")
    return [hmac.new(key, b"genro_storage.signed-url", hashlib.sha256).hexdigest()]


# merge_slashes=False: werkzeug would otherwise answer ``a//b`` (and a decoded ``a%2fb``)
# with its own 308 before the file server could refuse the encoded separator (404).
@blueprint.route("/<mount>/<path:path>", methods=["GET", "HEAD"], merge_slashes=False)
def serve(mount: str, path: str) -> Response:
    """Serve ``mount:path`` through the shared file server (404 for unlisted mounts)."""
    state = GenroStorage.state()
    environ = request.environ
    suffix = f"/{mount}/{path}"
    root = request.path[: -len(suffix)] if request.path.endswith(suffix) else ""
    file_request = mount_request(
        environ.get("REQUEST_METHOD", "GET"),  # as sent: werkzeug upper-cases its copy
        mount,
        path,
        query=environ.get("QUERY_STRING", ""),
        headers=headers_from_environ(environ),
        root=root,
        raw_path=raw_path_of(environ),
    )
    prepared = state.server.get_response(file_request)
    # The server's own wsgi.file_wrapper stays in place, and direct_passthrough hands
    # its object back untouched, so gunicorn can sendfile() a whole local file.
    captured = run_wsgi(
        lambda env, sr: wsgi_adapter.send_prepared(prepared, env, sr),
        environ,
        keep_file_wrapper=True,
    )
    response = current_app.response_class(
        captured.body, status=f"{captured.status} {captured.reason}", direct_passthrough=True
    )
    response.headers.clear()  # drop Flask's default Content-Type: the adapter sets its own
    for name, value in captured.headers:
        response.headers.add(name, value)
    return response


def save_upload(
    upload: FileStorage, node: StorageNode, chunk_size: int = CHUNK_SIZE
) -> StorageNode:
    """Stream a werkzeug ``FileStorage`` (``request.files[...]``) into ``node``.

    When ``node`` is an existing directory the file goes inside it, under the upload's
    ``secure_filename``. Returns the node written. The upload is read ``chunk_size`` bytes
    at a time, never as a whole.
    """
    if node.exists and node.isdir:
        name = secure_filename(upload.filename or "")
        if not name:
            raise ValueError(f"upload has no usable file name: {upload.filename!r}")
        node = node.child(name)
    node.write_stream(_chunks(upload.stream, chunk_size), content_type=upload.mimetype or None)
    return node


def _chunks(stream: IO[bytes], chunk_size: int) -> Iterator[bytes]:
    while chunk := stream.read(chunk_size):
        yield chunk
