"""Azure Blob Storage through adlfs.

Credentials, in adlfs' order: ``connection_string``; else ``account_name`` with
``account_key`` or ``sas_token``. A container is the mount root; ``prefix`` (an addition
to 0.4.2) roots the mount deeper. Presigned URLs are SAS tokens and need the account key.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ..capabilities import BackendCapabilities
from ..errors import StorageNotFoundError
from .fsspec import FsspecBackend

__all__ = ["AzureBackend", "AzureConfig", "create"]

MiB = 1024 * 1024
_INTERNAL_KEYS = {"is_directory", "hdi_isfolder"}  # adlfs' directory markers


class AzureConfig(TypedDict, total=False):
    """Options of an ``azure`` mount (``container`` and ``account_name`` are required)."""

    container: str
    account_name: str
    account_key: str
    sas_token: str
    connection_string: str
    prefix: str


class AzureBackend(FsspecBackend):
    """A blob container, or a prefix inside one."""

    default_capabilities = BackendCapabilities(
        metadata=True,
        presigned_urls=True,
        public_urls=True,
        copy_optimization=True,
        hash_on_metadata=True,
    )
    block_size = 4 * MiB
    read_block_size = 2 * MiB
    implicit_dirs = True

    def __init__(self, fs: Any, container: str, prefix: str = "", mount_name: str = "") -> None:
        prefix = prefix.strip("/")
        super().__init__(fs, f"{container}/{prefix}" if prefix else container, "az", mount_name)
        self.container = container

    def translate_error(self, exc: BaseException, path: str) -> BaseException | None:
        if "ContainerNotFound" in str(exc) or "container does not exist" in str(exc):
            return StorageNotFoundError(
                f"{self.describe()}: container '{self.container}' does not exist"
            )
        return None

    def get_metadata(self, path: str) -> dict[str, str]:
        info = self.fs.info(self._full(path), refresh=True)
        return {k: v for k, v in (info.get("metadata") or {}).items() if k not in _INTERNAL_KEYS}

    def set_metadata(self, path: str, metadata: dict[str, str]) -> None:
        """Merge ``metadata`` into the blob's (Azure replaces the whole set: read, merge, write)."""
        self._check_writable()
        self._check_metadata_args(path, metadata)
        merged = {**self.get_metadata(path), **metadata}
        self.fs.setxattrs(self._full(path), **merged)
        self._invalidate(path)

    def url(self, path: str, expires_in: int = 3600, **kwargs: Any) -> str | None:
        """A read-only SAS URL valid ``expires_in`` seconds (needs the account key)."""
        return str(self.fs.sign(self._full(path), expiration=expires_in, **kwargs))


def create(config: dict[str, Any], mount_name: str) -> AzureBackend:
    from adlfs import AzureBlobFileSystem

    options: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
    for name in ("account_name", "account_key", "sas_token", "connection_string"):
        if config.get(name) is not None:
            options[name] = config[name]

    def connect() -> Any:
        return AzureBlobFileSystem(**options)

    return AzureBackend(
        connect, str(config["container"]), str(config.get("prefix") or ""), mount_name
    )
