"""Per-mount network settings of the object stores: retries, timeouts, part sizes.

Every ``s3``, ``gcs`` and ``azure`` mount accepts these keys (all optional):

==================== ======== ===============================================================
key                  default  meaning
==================== ======== ===============================================================
``retries``          4        retries after a transient failure (connection reset or refused,
                              timeout, HTTP 429/500/502/503/504, S3 ``SlowDown``), with
                              exponential backoff and full jitter; 0 disables them
``timeout``          60       seconds without an answer (or a body byte) before a read fails
``connect_timeout``  5        seconds to open a connection
``part_size``        5 MiB    bytes per part of a multipart upload or a ranged download
``part_concurrency`` 2        parts uploaded at once per file (S3: 5, each part read from
                              the file as it is sent; GCS, Azure: memory ``part_size`` x this)
``multipart_threshold`` 200 MiB S3 only: local files up to this size go up in one PUT
                              streamed from disk (flat memory, one request; rclone's
                              ``upload_cutoff``), objects up to it come down in one GET;
                              bigger ones in parts / ranges
``download_concurrency`` 1    S3 (default 5): ranged GETs at once when downloading an
                              object over ``multipart_threshold`` to a local mount, each
                              written in place as it arrives (memory: a few read buffers
                              per range); 1 = one streaming GET. Azure: blocks at once
==================== ======== ===============================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import StorageConfigError

__all__ = ["NETWORK_OPTIONS", "NetworkSettings"]

MiB = 1024 * 1024
NETWORK_OPTIONS = (
    "retries",
    "timeout",
    "connect_timeout",
    "part_size",
    "part_concurrency",
    "download_concurrency",
)


@dataclass(frozen=True)
class NetworkSettings:
    """The validated network settings of one mount."""

    retries: int = 4
    timeout: float = 60.0
    connect_timeout: float = 5.0
    part_size: int = 5 * MiB
    part_concurrency: int = 2
    download_concurrency: int = 1
    multipart_threshold: int = 200 * MiB

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], mount_name: str, min_part_size: int = 0
    ) -> NetworkSettings:
        """Read the keys of :data:`NETWORK_OPTIONS`; a bad value names the mount."""
        values: dict[str, Any] = {}
        for key, kind, low in (
            ("retries", int, 0),
            ("timeout", float, 0.001),
            ("connect_timeout", float, 0.001),
            ("part_size", int, max(1, min_part_size)),
            ("part_concurrency", int, 1),
            ("download_concurrency", int, 1),
            ("multipart_threshold", int, 0),
        ):
            raw = config.get(key)
            if raw is None:
                continue
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise StorageConfigError(
                    f"Mount '{mount_name}': '{key}' must be a number, not {raw!r}"
                )
            if kind is int and raw != int(raw):
                raise StorageConfigError(
                    f"Mount '{mount_name}': '{key}' must be a whole number, not {raw!r}"
                )
            if raw < low:
                raise StorageConfigError(
                    f"Mount '{mount_name}': '{key}' must be at least {low}, not {raw!r}"
                )
            values[key] = kind(raw)
        return cls(**values)
