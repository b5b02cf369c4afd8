"""Version list helpers shared by nodes: ordering, index/date resolution, compaction."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone
from typing import Any

__all__ = ["compact", "latest_etag", "resolve_at_date", "resolve_index", "sort_versions"]


def _when(version: dict[str, Any]) -> datetime:
    value = version.get("last_modified")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.min.replace(tzinfo=timezone.utc)


def sort_versions(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Oldest first."""
    return sorted(versions, key=_when)


def latest_etag(versions: list[dict[str, Any]]) -> str | None:
    for version in versions:
        if version.get("is_latest"):
            return version.get("etag")
    return versions[0].get("etag") if versions else None


def resolve_index(versions: list[dict[str, Any]], index: int, fullpath: str) -> str:
    """Python-style index into the oldest-first list (``-1`` is the newest)."""
    if not versions:
        raise IndexError(f"No versions available for {fullpath}")
    try:
        return str(versions[index]["version_id"])
    except IndexError:
        n = len(versions)
        raise IndexError(
            f"Version index {index} out of range. Available versions: 0 to {n - 1} or -1 to -{n}"
        ) from None


def resolve_at_date(versions: list[dict[str, Any]], when: datetime) -> str | None:
    """The newest version modified at or before ``when`` (naive datetimes are UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    chosen = None
    for version in versions:
        if _when(version) <= when:
            chosen = str(version["version_id"])
    return chosen


def compact(backend: Any, path: str, versions: list[dict[str, Any]], dry_run: bool) -> int:
    """Delete each version whose etag equals the previous one's; return the count."""
    if len(versions) < 2:
        return 0
    ordered = sort_versions(versions)
    marked = [
        newer
        for older, newer in zip(ordered, ordered[1:])
        if newer.get("etag") and newer.get("etag") == older.get("etag")
    ]
    if dry_run:
        return len(marked)
    removed = 0
    for version in marked:
        try:
            backend.delete_version(path, version["version_id"])
            removed += 1
        except Exception as exc:  # reported, not fatal: the others still go
            warnings.warn(
                f"Could not delete version {version['version_id']} of {path}: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )
    return removed
