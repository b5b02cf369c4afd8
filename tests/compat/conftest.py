"""Fixtures for the 0.4.2 compatibility suite (tests/compat).

``versioned`` adds a mount ``ver`` backed by an in-test versioned memory backend, so the
version-aware paths of open() and versions (index/date resolution, snapshots, compaction,
``skip_if_unchanged`` on versioned backends) run without an S3 server.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime, timedelta, timezone
from typing import IO, Any

import pytest

from genro_storage import StorageManager
from genro_storage.backends.memory import MemoryBackend
from genro_storage.capabilities import BackendCapabilities

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


class VersionedMemory(MemoryBackend):
    """Memory backend keeping every write as an S3-like version (for tests only)."""

    default_capabilities = BackendCapabilities(
        versioning=True, version_listing=True, version_access=True, temporary=True
    )

    def __init__(self, base_path: str, mount_name: str) -> None:
        super().__init__(base_path, mount_name)
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.data: dict[str, bytes] = {}
        self.clock = T0
        self.fail_deletes: set[str] = set()

    def _record(self, path: str, data: bytes) -> None:
        versions = self.history.setdefault(path, [])
        for version in versions:
            version["is_latest"] = False
        self.clock += timedelta(hours=1)
        version_id = f"v{sum(len(v) for v in self.history.values())}"
        self.data[version_id] = data
        versions.append(
            {
                "version_id": version_id,
                "is_latest": True,
                "last_modified": self.clock,
                "size": len(data),
                "etag": hashlib.md5(data).hexdigest(),
            }
        )

    def write_bytes(self, path: str, data: bytes) -> None:
        super().write_bytes(path, data)
        self._record(path, data)

    def write_stream(self, path: str, chunks: Any) -> None:
        data = b"".join(chunks)
        self.write_bytes(path, data)

    def get_versions(self, path: str) -> list[dict[str, Any]]:
        # newest first, as S3 lists them: the node must sort oldest first
        return [dict(v) for v in reversed(self.history.get(path, []))]

    def open_version(self, path: str, version_id: str, mode: str = "rb") -> IO[Any]:
        if version_id not in self.data:
            raise FileNotFoundError(f"no version {version_id}")
        return io.BytesIO(self.data[version_id])

    def delete_version(self, path: str, version_id: str) -> None:
        if version_id in self.fail_deletes:
            raise OSError(f"cannot delete {version_id}")
        self.history[path] = [v for v in self.history[path] if v["version_id"] != version_id]


@pytest.fixture
def versioned(storage: StorageManager) -> VersionedMemory:
    """Mount ``ver`` on ``storage``: a versioned backend (see :class:`VersionedMemory`)."""
    backend = VersionedMemory(f"ver-{uuid.uuid4().hex}", "ver")
    storage._mounts["ver"] = backend
    return backend
