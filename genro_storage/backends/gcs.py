"""Google Cloud Storage through gcsfs.

``token`` is anything gcsfs accepts: ``'anon'``, ``'google_default'``, ``'cloud'``, a
service-account JSON file path or its parsed dict. Signed URLs need credentials that can
sign (a service account with a private key): an anonymous mount reports
``presigned_urls=False`` and :meth:`GCSBackend.url` raises
:class:`~genro_storage.errors.CapabilityError`, as it does when other credentials
turn out unable to sign.
"""

from __future__ import annotations

import os

# gcsfs 2026.x otherwise probes the Storage Control API over gRPC for every bucket, which
# stalls a minute against emulators and private endpoints. Must be set before the import.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

import json
from typing import Any, TypedDict

from ..capabilities import OBJECT_STORE
from ..errors import CapabilityError, StorageNotFoundError
from ._metadata import check_metadata, check_metadata_size
from .base import EntryInfo
from .fsspec import FsspecBackend

__all__ = ["GCSBackend", "GCSConfig", "create"]

MiB = 1024 * 1024


class GCSConfig(TypedDict, total=False):
    """Options of a ``gcs`` mount (``bucket`` is required)."""

    bucket: str
    prefix: str
    token: Any
    project: str
    endpoint_url: str


class GCSBackend(FsspecBackend):
    """A bucket, or a prefix inside one."""

    default_capabilities = OBJECT_STORE.evolve(append_mode=False)
    block_size = 4 * MiB  # a multiple of 256 KiB, as resumable uploads require
    read_block_size = 2 * MiB
    implicit_dirs = True

    def __init__(
        self,
        fs: Any,
        bucket: str,
        prefix: str = "",
        mount_name: str = "",
        anonymous: bool = False,
    ) -> None:
        prefix = prefix.strip("/")
        caps = self.default_capabilities
        if anonymous:  # no private key, nothing to sign with
            caps = caps.evolve(presigned_urls=False)
        super().__init__(
            fs, f"{bucket}/{prefix}" if prefix else bucket, "gcs", mount_name, capabilities=caps
        )
        self.bucket = bucket

    def translate_error(self, exc: BaseException, path: str) -> BaseException | None:
        if isinstance(exc, FileNotFoundError) and f"b/{self.bucket}/o" in str(exc):
            return StorageNotFoundError(
                f"{self.describe()}: bucket '{self.bucket}' does not exist ({exc})"
            )
        return None

    def list_page(
        self, path: str, cursor: str | None = None, limit: int = 1000
    ) -> tuple[list[EntryInfo], str | None]:
        """One ``objects.list`` request (``delimiter='/'``) per page.

        The cursor carries GCS's page token and the last sub-folder already returned:
        emulators repeat the folders on every page, GCS itself does not.
        """
        full = self._full(path)
        key = full.split("/", 1)[1] if "/" in full else ""
        prefix = f"{key}/" if key else ""
        token, last = json.loads(cursor) if cursor else (None, "")
        seen = str(last)
        params: dict[str, Any] = {
            "prefix": prefix, "delimiter": "/", "maxResults": max(1, min(limit, 1000)),
        }  # fmt: skip
        if token:
            params["pageToken"] = token
        answer = self.fs.call("GET", "b/{}/o", self.bucket, json_out=True, **params)
        base = f"{path}/" if path else ""
        entries = []
        for folder in answer.get("prefixes") or ():
            name = folder[len(prefix) :].rstrip("/")
            if name and name > seen:
                entries.append(EntryInfo(base + name, True, 0))
        for item in answer.get("items") or ():
            name = item["name"][len(prefix) :]
            if name and not name.endswith("/"):
                info = {**item, "type": "file", "size": int(item.get("size") or 0)}
                entries.append(self._entry(info, base + name))
        entries.sort(key=lambda e: e.name)
        if not entries and not cursor and path and not answer.get("items"):
            self.info(path)  # FileNotFoundError for a folder that is not there
        folders = [e.name for e in entries if e.is_dir]
        following = answer.get("nextPageToken")
        after = json.dumps([following, max([seen, *folders])]) if following else None
        return entries, after

    def get_metadata(self, path: str) -> dict[str, str]:
        self._invalidate(path)
        info = self.fs.info(self._full(path))
        return dict(info.get("metadata") or {})

    def set_metadata(self, path: str, metadata: dict[str, str]) -> None:
        """Merge ``metadata`` into the object's custom metadata (one PATCH)."""
        self._check_writable()
        self._check_metadata_args(path, metadata)
        check_metadata(self.describe(), metadata)
        check_metadata_size(self.describe(), {**self.get_metadata(path), **metadata}, 8 * 1024)
        full = self._full(path)
        self.fs.setxattrs(full, **metadata)
        self._invalidate(path)

    def url(self, path: str, expires_in: int = 3600, **kwargs: Any) -> str | None:
        """A V4 signed GET URL valid ``expires_in`` seconds (needs signing credentials)."""
        if not self.capabilities.presigned_urls:
            raise CapabilityError(
                f"{self.describe()}: signed URLs need service-account credentials with a "
                f"private key in 'token' (this mount is anonymous)"
            )
        kwargs.setdefault("version", "v4")
        try:
            return str(self.fs.sign(self._full(path), expiration=expires_in, **kwargs))
        except Exception as exc:
            names = {cls.__name__ for cls in type(exc).__mro__}
            if not names & {"AttributeError", "TypeError", "DefaultCredentialsError"}:
                raise
            raise CapabilityError(
                f"{self.describe()}: signed URLs need service-account credentials with a "
                f"private key in 'token' ({exc})"
            ) from exc


def create(config: dict[str, Any], mount_name: str) -> GCSBackend:
    import gcsfs

    options: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
    for name in ("token", "project", "endpoint_url"):
        if config.get(name) is not None:
            options[name] = config[name]

    def connect() -> Any:
        return gcsfs.GCSFileSystem(**options)

    return GCSBackend(
        connect,
        str(config["bucket"]),
        str(config.get("prefix") or ""),
        mount_name,
        anonymous=config.get("token") == "anon",
    )
