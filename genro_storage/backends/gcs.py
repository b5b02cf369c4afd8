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
from typing import Any
from urllib.parse import quote

from ..capabilities import OBJECT_STORE
from ..errors import CapabilityError, StorageConnectionError, StorageNotFoundError
from ._metadata import check_metadata, check_metadata_size
from ._objectparams import parse_object_parameters
from ._requestlog import aiohttp_trace
from ._transfer import NetworkSettings
from .base import EntryInfo
from .fsspec import FsspecBackend

__all__ = ["GCSBackend", "create"]

MiB = 1024 * 1024


class GCSBackend(FsspecBackend):
    """A bucket, or a prefix inside one."""

    default_capabilities = OBJECT_STORE.evolve(append_mode=False)
    block_size = 4 * MiB  # a multiple of 256 KiB, as resumable uploads require
    read_block_size = 2 * MiB
    implicit_dirs = True
    native_download = True  # gcsfs get_file: one streaming GET
    batch_transfers = True

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
        if isinstance(exc, ChunkAnswerLost):
            return StorageConnectionError(f"{self.describe()}: {exc}; the upload must start again")
        if "upload_id=" in str(exc) and isinstance(exc, FileNotFoundError):
            # the server finished or dropped the resumable session while the answer was
            # lost on the way: the upload as a whole can be tried again
            return StorageConnectionError(
                f"{self.describe()}: the resumable upload session was lost ({exc})"
            )
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
        self.check_write_allowed()
        self._check_metadata_args(path, metadata)
        check_metadata(self.describe(), metadata)
        check_metadata_size(self.describe(), {**self.get_metadata(path), **metadata}, 8 * 1024)
        full = self._full(path)
        self.fs.setxattrs(full, **metadata)
        self._invalidate(path)

    def _put_kwargs(self, full: str, content_type: str | None = None) -> dict[str, Any]:
        params = self.object_parameters
        headers = params.for_object(full, content_type)
        kwargs: dict[str, Any] = {"content_type": headers.pop("content_type")}
        if headers:
            kwargs["fixed_key_metadata"] = headers
        if params.metadata:
            kwargs["metadata"] = dict(params.metadata)
        return kwargs

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

    def public_url(self, path: str) -> str:
        """The object's unsigned URL (readable when the bucket or object is public)."""
        base = str(getattr(self.fs, "_location", None) or "https://storage.googleapis.com")
        key = self._full(path).split("/", 1)[1] if "/" in self._full(path) else ""
        return f"{base.rstrip('/')}/{self._full('').split('/', 1)[0]}/{quote(key)}"


def create(config: dict[str, Any], mount_name: str) -> GCSBackend:
    import aiohttp

    network = NetworkSettings.from_config(config, mount_name)
    timeout = aiohttp.ClientTimeout(
        total=None, connect=network.connect_timeout, sock_read=network.timeout
    )
    options: dict[str, Any] = {
        "skip_instance_cache": True,
        "use_listings_cache": False,
        "requests_timeout": timeout,
        "genro_attempts": network.retries + 1,
        "genro_mount": mount_name,
        # one DEBUG line per HTTP request on the genro_storage logger
        "session_kwargs": {"trace_configs": [aiohttp_trace(mount_name, "gcs")]},
    }
    for name in ("token", "project", "endpoint_url"):
        if config.get(name) is not None:
            options[name] = config[name]
    filesystem = _filesystem_class()

    def connect() -> Any:
        return filesystem(**options)

    backend = GCSBackend(
        connect,
        str(config["bucket"]),
        str(config.get("prefix") or ""),
        mount_name,
        anonymous=config.get("token") == "anon",
    )
    backend.network = network  # the engine reads the retries
    backend.object_parameters = parse_object_parameters(config.get("object_parameters"), mount_name)
    return backend


_FS_CLASS: Any = None


class ChunkAnswerLost(OSError):
    """A chunk of a resumable upload was sent and its answer lost (a connection cut or
    timed out after the request went out): the server may hold the chunk or not.

    Sending it again as it was is what gcsfs does, and a server that appends what it
    gets stores it twice: fake-gcs-server does (fsouza/fake-gcs-server#2056, #2354), and
    a 12 MiB file came back 16 MiB. The GCS way to resume, asking the server what it
    holds (``Content-Range: bytes */*``), makes fake-gcs-server finalise the object
    truncated (#1362). So the upload is given up instead, with nothing published: the
    copy engine starts the file again from its source (:class:`StorageConnectionError`
    is transient), and a stream written with ``open('wb')`` fails, leaving the old
    object. A chunk that got an HTTP error, or whose connection never opened, did not
    reach the server and is sent again as before."""


def _is_resumable_chunk(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a request sends a chunk of a resumable upload (gcsfs' ``upload_chunk``: a
    POST to the session URL with ``Content-Range``)."""
    if len(args) < 2 or str(args[0]).upper() not in ("POST", "PUT"):
        return False
    headers = kwargs.get("headers") or {}
    return "upload_id=" in str(args[1]) and "Content-Range" in headers


def _answer_lost(exc: BaseException) -> bool:
    """Whether the request may have reached the server (everything but a refused or
    failed connection, and an HTTP status, which is an answer)."""
    import aiohttp

    unsent = (
        aiohttp.ClientConnectorError,
        aiohttp.ClientResponseError,
        getattr(aiohttp, "ConnectionTimeoutError", aiohttp.ClientConnectorError),  # 3.10+
    )
    return not isinstance(exc, unsent)


def _filesystem_class() -> Any:
    """gcsfs' filesystem with the mount's retries instead of gcsfs' fixed six attempts
    (whose backoff reaches 16 s and makes an unreachable endpoint take ~34 s), for its
    requests and its downloads to a file."""
    global _FS_CLASS
    if _FS_CLASS is not None:
        return _FS_CLASS
    import asyncio

    import aiohttp
    import gcsfs
    from gcsfs.retry import HttpError, is_retriable

    from ._retry import async_retrying

    # gcsfs wraps these in its own loop of six attempts (waits of 1-2 s, 2-3 s...)
    raw_request = gcsfs.GCSFileSystem._request.__wrapped__
    raw_get_file = gcsfs.GCSFileSystem._get_file_request.__wrapped__
    raw_get_file_concurrent = gcsfs.GCSFileSystem._get_file_concurrent.__wrapped__

    def transient(exc: BaseException) -> bool:
        if isinstance(exc, HttpError):
            return exc.code != 404 and bool(is_retriable(exc))
        if isinstance(exc, aiohttp.ClientResponseError):
            return exc.status in (408, 429, 500, 502, 503, 504)
        return isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError)) or bool(
            is_retriable(exc)
        )

    class GenroGCSFileSystem(gcsfs.GCSFileSystem):
        def __init__(
            self, *args: Any, genro_attempts: int = 5, genro_mount: str = "", **kwargs: Any
        ) -> None:
            super().__init__(*args, **kwargs)
            self.genro_attempts = genro_attempts
            self.genro_label = f"mount '{genro_mount}' (gcs): " if genro_mount else ""

        async def _request(self, *args: Any, **kwargs: Any) -> Any:
            chunk = _is_resumable_chunk(args, kwargs)
            retrying = async_retrying(self.genro_attempts, transient, self.genro_label)
            async for attempt in retrying:
                with attempt:
                    try:
                        return await raw_request(self, *args, **kwargs)
                    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                        if chunk and _answer_lost(exc):
                            raise ChunkAnswerLost(
                                "a chunk of a resumable upload was sent and its answer "
                                f"lost ({exc!r})"
                            ) from exc
                        raise

        async def _retried(self, raw: Any, *args: Any, **kwargs: Any) -> Any:
            retrying = async_retrying(self.genro_attempts, transient, self.genro_label)
            async for attempt in retrying:
                with attempt:
                    return await raw(self, *args, **kwargs)

        async def _get_file_request(self, *args: Any, **kwargs: Any) -> Any:
            return await self._retried(raw_get_file, *args, **kwargs)

        async def _get_file_concurrent(self, *args: Any, **kwargs: Any) -> Any:
            # not retried as a whole: each request it makes is
            return await raw_get_file_concurrent(self, *args, **kwargs)

    _FS_CLASS = GenroGCSFileSystem
    return _FS_CLASS
