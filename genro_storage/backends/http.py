"""Read-only mounts over plain HTTP(S) through fsspec's ``http`` driver (aiohttp).

Files are fetched with ranged GETs (the server must honour ``Range`` for seeks and
``read_range``). Listing parses the server's HTML index page (nginx ``autoindex``,
Apache ``Indexes``...): without one a directory lists as empty. ``url()`` is the plain
public URL of the file.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from ..capabilities import READ_ONLY
from ._requestlog import aiohttp_trace
from .base import EntryInfo, StorageBackend
from .fsspec import FsspecBackend, info_mtime

__all__ = ["HTTPBackend", "create"]


class HTTPBackend(FsspecBackend):
    """Everything below ``base_url``, read-only."""

    # listings only where the server renders an index page
    default_capabilities = READ_ONLY.evolve(list_dir=False, public_urls=True)
    block_size = 1024 * 1024

    def _full(self, path: str) -> str:
        # '#', '?' and '%' in names must not reach the URL parser raw
        return f"{self.root}/{quote(path)}" if path else self.root

    def _name(self, info_name: str) -> str:
        return unquote(info_name).rstrip("/")

    def _entry(self, info: dict[str, Any], path: str | None = None) -> EntryInfo:
        # a directory answers with its index page, after a redirect to the URL with "/"
        is_dir = str(info.get("url") or info.get("name", "")).endswith("/")
        return EntryInfo(
            path=self._rel(info["name"]) if path is None else path,
            is_dir=is_dir,
            size=0 if is_dir else int(info.get("size") or 0),
            mtime=info_mtime(info),
            etag=str(info["ETag"]).strip('"') if info.get("ETag") else None,
        )

    def info(self, path: str) -> EntryInfo:
        return self._entry(self.fs.info(self._full(path)), path)

    def list_detail(self, path: str) -> list[EntryInfo]:
        full = self._full(path)
        prefix = f"{path}/" if path else ""
        out = []
        for item in self.fs.ls(full + "/", detail=True):
            name = self._name(item["name"]).rsplit("/", 1)[-1]
            child = prefix + name
            if item.get("type") == "directory":
                out.append(EntryInfo(child, True, 0))
            else:  # index pages give no sizes: one HEAD per file
                out.append(self.info(child))
        return out

    # index pages, one folder at a time (fsspec's find() would crawl the whole site)
    walk_files = StorageBackend.walk_files

    def read_bytes(self, path: str) -> bytes:
        return bytes(self.fs.cat_file(self._full(path)))

    def url(self, path: str, expires_in: int = 3600, **kwargs: Any) -> str | None:
        """The public URL of ``path`` (percent-encoded)."""
        return self._full(path)


def create(config: dict[str, Any], mount_name: str) -> HTTPBackend:
    from fsspec.implementations.http import HTTPFileSystem

    # one DEBUG line per HTTP request on the genro_storage logger
    client_kwargs: dict[str, Any] = {"trace_configs": [aiohttp_trace(mount_name, "http")]}
    if config.get("headers"):
        client_kwargs["headers"] = dict(config["headers"])
    options: dict[str, Any] = {"skip_instance_cache": True, "client_kwargs": client_kwargs}

    def connect() -> Any:
        return HTTPFileSystem(**options)

    return HTTPBackend(connect, str(config["base_url"]).rstrip("/"), "http", mount_name)
