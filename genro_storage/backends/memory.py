"""In-memory backend (fsspec's process-wide memory store), for tests and scratch data."""

from __future__ import annotations

from typing import Any

import fsspec

from ..capabilities import BackendCapabilities
from .fsspec import FsspecBackend

__all__ = ["MemoryBackend"]


class MemoryBackend(FsspecBackend):
    """Files in fsspec's memory store, shared by every memory mount in the process.

    Mounts with different ``base_path`` values see different trees. Modification times are
    real (the time of the last write), so ETags of unchanged files are stable.
    """

    default_capabilities = BackendCapabilities(copy_optimization=True, temporary=True)

    def __init__(self, base_path: str = "", mount_name: str = "", **_: Any) -> None:
        root = "/" + base_path.strip("/") if base_path.strip("/") else "/"
        super().__init__(fsspec.filesystem("memory"), root, "memory", mount_name)


def create(config: dict[str, Any], mount_name: str) -> MemoryBackend:
    return MemoryBackend(config.get("base_path") or "", mount_name)
