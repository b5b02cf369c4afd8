"""Azure Blob Storage through adlfs.

Credentials, in adlfs' order: ``connection_string``; else ``account_name`` with
``account_key`` or ``sas_token``. A container is the mount root; ``prefix`` (an addition
to 0.4.2) roots the mount deeper. Presigned URLs are SAS tokens signed with the account
key: a mount without one (SAS-only credentials) reports ``presigned_urls=False`` and
:meth:`AzureBackend.url` raises :class:`~genro_storage.errors.CapabilityError`.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any
from urllib.parse import quote

from ..capabilities import OBJECT_STORE
from ..errors import CapabilityError, StorageNotFoundError
from ._errors import chain_text, classify
from ._metadata import check_metadata, check_metadata_size
from ._objectparams import parse_object_parameters
from ._requestlog import azure_request_hook, log_retry
from ._retry import backoff_seconds
from ._transfer import NetworkSettings
from .base import EntryInfo
from .fsspec import FsspecBackend

__all__ = ["AzureBackend", "create"]

MiB = 1024 * 1024
_INTERNAL_KEYS = {"is_directory", "hdi_isfolder"}  # adlfs' directory markers


class AzureBackend(FsspecBackend):
    """A blob container, or a prefix inside one."""

    default_capabilities = OBJECT_STORE
    block_size = 4 * MiB
    read_block_size = 2 * MiB
    implicit_dirs = True
    native_download = True  # adlfs get_file: download_blob, parallel above its threshold
    batch_transfers = True

    def __init__(
        self,
        fs: Any,
        container: str,
        prefix: str = "",
        mount_name: str = "",
        can_sign: bool = True,
    ) -> None:
        prefix = prefix.strip("/")
        caps = self.default_capabilities
        if not can_sign:  # no account key: nothing to sign a SAS with
            caps = caps.evolve(presigned_urls=False)
        root = f"{container}/{prefix}" if prefix else container
        super().__init__(fs, root, "az", mount_name, capabilities=caps)
        self.container = container
        self._container_seen = False

    def download_options(self) -> dict[str, Any]:
        """Blocks of ``part_size``, ``download_concurrency`` of them at once."""
        return {"max_concurrency": self.network.download_concurrency if self.network else 1}

    def _put_kwargs(self, full: str, content_type: str | None = None) -> dict[str, Any]:
        params = self.object_parameters
        kwargs: dict[str, Any] = {"content_settings": params.for_object(full, content_type)}
        if params.metadata:
            kwargs["metadata"] = dict(params.metadata)
        return kwargs

    def _uploads_in_batch(self, os_path: str) -> bool:
        # every upload carries metadata (the source mtime), which adlfs' pipe_file would
        # drop: _pipe writes through a handle, so uploads keep the worker threads
        return False

    def pipes_natively(self) -> bool:
        # with metadata, _pipe writes through a handle (below): not one pipe_file
        return super().pipes_natively() and not self.object_parameters.metadata

    def _pipe(self, full: str, data: bytes, kwargs: dict[str, Any]) -> None:
        if "metadata" not in kwargs:
            super()._pipe(full, data, kwargs)
            return
        # adlfs's pipe_file sets metadata itself: a write handle takes the mount's
        kwargs = dict(kwargs)
        mode = "xb" if kwargs.pop("mode", "") == "create" else "wb"
        # a handle commits a block list, for which Azure computes no Content-MD5 (a single
        # Put Blob gets one): send it, so listings keep the MD5 that skip='hash' compares
        settings = dict(kwargs.get("content_settings") or {})
        settings["content_md5"] = bytearray(hashlib.md5(data).digest())
        kwargs["content_settings"] = settings
        with self.fs.open(full, mode, **kwargs) as fh:
            fh.write(data)

    def translate_error(self, exc: BaseException, path: str) -> BaseException | None:
        text = chain_text(exc)  # adlfs re-raises ContainerNotFound as a FileNotFoundError
        missing = "ContainerNotFound" in text or "container does not exist" in text
        if not missing and isinstance(exc, FileNotFoundError) and path:
            # a blob lookup (HEAD) carries no error body: ask once whether the container
            # is there, so a misspelt container is not reported as a missing file
            missing = self._container_missing()
        if missing:
            return StorageNotFoundError(
                f"{self.describe()}: container '{self.container}' does not exist"
            )
        return None

    def _container_missing(self) -> bool:
        """True only when the server says the container does not exist (cached once seen)."""
        if self._container_seen:
            return False
        try:
            self.fs.info(self.container, refresh=True)
        except FileNotFoundError:
            return True
        except Exception:  # cannot tell: report the original error
            return False
        self._container_seen = True
        return False

    def list_page(
        self, path: str, cursor: str | None = None, limit: int = 1000
    ) -> tuple[list[EntryInfo], str | None]:
        """One List Blobs request (``delimiter='/'``) per page; the cursor is Azure's
        continuation marker."""
        from fsspec.asyn import sync

        full = self._full(path)
        key = full.split("/", 1)[1] if "/" in full else ""
        prefix = f"{key}/" if key else ""
        size = max(1, min(limit, 1000))

        async def one_page() -> tuple[list[Any], str | None]:
            client = self.fs.service_client.get_container_client(self.container)
            walk = client.walk_blobs(name_starts_with=prefix, delimiter="/", results_per_page=size)
            pages = walk.by_page(continuation_token=cursor)
            async for page in pages:
                return [item async for item in page], pages.continuation_token
            return [], None

        items, following = sync(self.fs.loop, one_page)
        base = f"{path}/" if path else ""
        entries = []
        for item in items:
            name = item.name[len(prefix) :]
            if type(item).__name__ == "BlobPrefix":
                if name.strip("/"):
                    entries.append(EntryInfo(base + name.rstrip("/"), True, 0))
                continue
            if not name or name.endswith("/"):
                continue
            settings = getattr(item, "content_settings", None)
            raw_md5 = getattr(settings, "content_md5", None)
            modified = getattr(item, "last_modified", None)
            entries.append(
                EntryInfo(
                    base + name,
                    False,
                    int(item.size or 0),
                    modified.timestamp() if modified is not None else None,
                    str(item.etag or "").strip('"') or None,
                    bytes(raw_md5).hex() if raw_md5 and len(raw_md5) == 16 else None,
                )
            )
        entries.sort(key=lambda e: e.name)
        if not entries and not cursor and path:
            self.info(path)  # FileNotFoundError for a folder that is not there
        return entries, following or None

    def get_metadata(self, path: str) -> dict[str, str]:
        info = self.fs.info(self._full(path), refresh=True)
        return {k: v for k, v in (info.get("metadata") or {}).items() if k not in _INTERNAL_KEYS}

    def set_metadata(self, path: str, metadata: dict[str, str]) -> None:
        """Merge ``metadata`` into the blob's (Azure replaces the whole set: read, merge, write).

        Keys must be C# identifiers and values printable ASCII (``ValueError`` otherwise,
        before any request); Azure compares keys case-insensitively.
        """
        self.check_write_allowed()
        self._check_metadata_args(path, metadata)
        check_metadata(self.describe(), metadata, keys="identifier", ascii_values=True)
        merged = {**self.get_metadata(path), **metadata}
        check_metadata_size(self.describe(), merged, 8 * 1024)
        try:
            self.fs.setxattrs(self._full(path), **merged)
        except FileNotFoundError as exc:
            # adlfs turns every failure of this call into FileNotFoundError: give the
            # real one (refused credentials, server gone, a rejected value) its own type
            cause = exc.__cause__
            if cause is None or classify(cause) == "not_found":
                raise
            if classify(cause) is not None:
                raise cause from None
            raise ValueError(f"{self.describe()}: the server refused the metadata ({cause})") from (
                cause
            )
        self._invalidate(path)

    def url(self, path: str, expires_in: int = 3600, **kwargs: Any) -> str | None:
        """A read-only SAS URL valid ``expires_in`` seconds (needs the account key)."""
        if not self.capabilities.presigned_urls:
            raise CapabilityError(
                f"{self.describe()}: SAS URLs are signed with the account key, and this "
                f"mount has none (give 'account_key' or a connection string with AccountKey)"
            )
        return str(self.fs.sign(self._full(path), expiration=expires_in, **kwargs))

    def public_url(self, path: str) -> str:
        """The blob's unsigned URL (readable when the container allows public access)."""
        account = getattr(self.fs, "account_url", None) or self.fs.service_client.url
        account = str(account).split("?", 1)[0].rstrip("/")
        key = self._full(path).split("/", 1)[1] if "/" in self._full(path) else ""
        return f"{account}/{self.container}/{quote(key)}"


def create(config: dict[str, Any], mount_name: str) -> AzureBackend:
    network = NetworkSettings.from_config(config, mount_name)
    options: dict[str, Any] = {
        "skip_instance_cache": True,
        "use_listings_cache": False,
        "connection_timeout": network.connect_timeout,
        "read_timeout": network.timeout,
        "max_concurrency": max(network.part_concurrency, network.download_concurrency),
        "genro_attempts": network.retries + 1,
        "genro_part_size": network.part_size,
        "genro_mount": mount_name,
    }
    for name in ("account_name", "account_key", "sas_token", "connection_string"):
        if config.get(name) is not None:
            options[name] = config[name]
    filesystem = _filesystem_class()

    def connect() -> Any:
        return filesystem(**options)

    backend = AzureBackend(
        connect,
        str(config["container"]),
        str(config.get("prefix") or ""),
        mount_name,
        can_sign=_has_account_key(config),
    )
    backend.network = network  # the engine reads the retries
    backend.object_parameters = parse_object_parameters(config.get("object_parameters"), mount_name)
    return backend


_FS_CLASS: Any = None


def _filesystem_class() -> Any:
    """adlfs' filesystem whose blob client retries as the mount says (azure-core's
    default: 10 retries, backoff up to 2 minutes; ~86 s on an unreachable endpoint)."""
    global _FS_CLASS
    if _FS_CLASS is not None:
        return _FS_CLASS
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob.aio import ExponentialRetry

    class LoggedRetry(ExponentialRetry):
        """azure-storage's retry policy, with a DEBUG line per retry it decides."""

        def __init__(self, mount_name: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.mount_name = mount_name

        def increment(
            self, settings: Any, request: Any, response: Any = None, error: Any = None
        ) -> bool:
            again = bool(super().increment(settings, request, response=response, error=error))
            if again:
                # settings is the request's own: concurrent requests share the policy
                settings["genro_wait"] = backoff_seconds(settings["count"])
                http = getattr(response, "http_response", response)  # either is passed
                status = getattr(http, "status_code", None)
                reason = f"HTTP {status}" if status else type(error).__name__
                log_retry(
                    self.mount_name,
                    "az",
                    settings["count"],
                    reason,
                    self.get_backoff_time(settings),
                )
            return again

        def get_backoff_time(self, settings: Any) -> float:
            # azure-storage waits initial_backoff + increment_base**n from the first retry
            # on (1.6 s with 0.1 and 1.5); here the mounts' one policy (_retry)
            return float(settings.get("genro_wait", 0.0))

    class GenroAzureBlobFileSystem(AzureBlobFileSystem):
        def __init__(
            self,
            *args: Any,
            genro_attempts: int = 5,
            genro_part_size: int = MiB,
            genro_mount: str = "",
            **kwargs: Any,
        ) -> None:
            self.genro_attempts = genro_attempts
            self.genro_part_size = genro_part_size
            self.genro_mount = genro_mount
            super().__init__(*args, **kwargs)

        def do_connect(self) -> None:
            super().do_connect()
            client: Any = getattr(self, "service_client")  # noqa: B009 - set by adlfs
            self.service_client = type(client)(
                account_url=client.url,
                credential=client.credential,
                # azure-storage's own policy class (it ignores azure-core's retry_backoff_*),
                # its waits those of _retry.backoff_seconds
                retry_policy=LoggedRetry(self.genro_mount, retry_total=self.genro_attempts - 1),
                # download in part_size pieces (azure's first GET is 32 MiB by default)
                max_single_get_size=self.genro_part_size,
                max_chunk_get_size=self.genro_part_size,
                # one DEBUG line per HTTP request (each attempt) on the genro_storage logger
                raw_request_hook=azure_request_hook(self.genro_mount),
                **self._timeout_kwargs,
            )

    _FS_CLASS = GenroAzureBlobFileSystem
    return _FS_CLASS


def _has_account_key(config: dict[str, Any]) -> bool:
    """Whether the credentials include the account key (what signs a blob SAS).

    Mirrors adlfs: a connection string (from the config or the environment) wins, and
    only its ``AccountKey`` signs; otherwise ``account_key`` or its environment variable.
    """
    connection_string = config.get("connection_string") or os.getenv(
        "AZURE_STORAGE_CONNECTION_STRING"
    )
    if connection_string:
        fields = dict(
            item.split("=", 1) for item in str(connection_string).split(";") if "=" in item
        )
        return bool({k.lower(): v for k, v in fields.items()}.get("accountkey"))
    return bool(config.get("account_key") or os.getenv("AZURE_STORAGE_ACCOUNT_KEY"))
