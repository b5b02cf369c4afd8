"""WebDAV servers (Nextcloud, ownCloud, Apache mod_dav, WsgiDAV...) through webdav4.

Uploads are spooled to a temporary file (memory up to one block, then disk) and sent
with one PUT when the handle is closed; an error in the ``with`` block sends nothing.
"""

from __future__ import annotations

from typing import Any

from ..capabilities import BackendCapabilities
from ..errors import StorageNotFoundError
from ._requestlog import httpx_event_hooks
from .fsspec import FsspecBackend

__all__ = ["WebDAVBackend", "create"]


class WebDAVBackend(FsspecBackend):
    """A collection on a WebDAV server (``path`` inside ``url``, default its root)."""

    default_capabilities = BackendCapabilities(atomic_operations=False)
    block_size = 1024 * 1024

    def translate_error(self, exc: BaseException, path: str) -> BaseException | None:
        response = getattr(exc, "response", None)
        if getattr(response, "status_code", None) == 409:
            # RFC 4918 §9.7.1 (PUT) and §9.3.1 (MKCOL): 409 Conflict = the parent
            # collection does not exist
            parent = f"'{path.rsplit('/', 1)[0]}'" if "/" in path else "the mount root"
            return StorageNotFoundError(
                f"{self.describe()}: cannot write '{path}': its parent collection "
                f"({parent}) does not exist on the server ({exc})"
            )
        return None

    def close(self) -> None:
        """Close the HTTP connections too (httpx keeps them open until collected, which
        warns ``ResourceWarning: unclosed socket``); the mount reconnects when used again."""
        fs = self._fs
        super().close()
        http = getattr(getattr(fs, "client", None), "http", None)
        if http is not None and self._factory is not None:
            http.close()
            self._fs = None  # a later call reconnects

    def _replace(self, temp: str, full: str) -> None:
        # fsspec's mv() sends MOVE with "Overwrite: F": an existing target answers 412
        self.fs.client.move(self.fs._strip_protocol(temp), self.fs._strip_protocol(full), True)


def create(config: dict[str, Any], mount_name: str) -> WebDAVBackend:
    from webdav4.fsspec import WebdavFileSystem

    # one DEBUG line per HTTP request on the genro_storage logger
    options: dict[str, Any] = {
        "event_hooks": httpx_event_hooks(mount_name, "webdav"),
        "skip_instance_cache": True,  # its own client: close() closes it
    }
    if config.get("username") is not None and config.get("password") is not None:
        options["auth"] = (config["username"], config["password"])
    if config.get("token"):
        options["headers"] = {"Authorization": f"Bearer {config['token']}"}
    if config.get("cert") is not None:
        options["cert"] = config["cert"]
    if config.get("verify_ssl") is not None:
        options["verify"] = bool(config["verify_ssl"])
    base_url = str(config["url"]).rstrip("/")

    def connect() -> Any:
        return WebdavFileSystem(base_url, **options)

    return WebDAVBackend(connect, str(config.get("path") or "").strip("/"), "webdav", mount_name)
