"""Version list helpers: ordering, index and date resolution, compaction counting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from genro_storage.engine.versioning import (
    latest_etag,
    resolve_at_date,
    resolve_index,
    sort_versions,
)

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def versions(*etags: str) -> list[dict]:
    return [
        {
            "version_id": f"v{i}",
            "etag": e,
            "last_modified": T0 + timedelta(hours=i),
            "is_latest": i == len(etags) - 1,
            "size": 1,
        }
        for i, e in enumerate(etags)
    ]


def test_sort_is_oldest_first() -> None:
    vs = versions("a", "b", "c")
    assert [v["version_id"] for v in sort_versions(list(reversed(vs)))] == ["v0", "v1", "v2"]


@pytest.mark.parametrize(("index", "expected"), [(0, "v0"), (-1, "v2"), (1, "v1"), (-3, "v0")])
def test_resolve_index(index: int, expected: str) -> None:
    assert resolve_index(versions("a", "b", "c"), index, "s3:f") == expected


def test_resolve_index_errors() -> None:
    with pytest.raises(IndexError, match="No versions available for s3:f"):
        resolve_index([], 0, "s3:f")
    with pytest.raises(IndexError, match="0 to 2 or -1 to -3"):
        resolve_index(versions("a", "b", "c"), 5, "s3:f")


def test_resolve_at_date_naive_is_utc() -> None:
    vs = versions("a", "b", "c")
    assert resolve_at_date(vs, datetime(2025, 1, 1, 1, 30)) == "v1"
    assert resolve_at_date(vs, T0 - timedelta(seconds=1)) is None
    assert resolve_at_date(vs, T0 + timedelta(days=1)) == "v2"


def test_latest_etag_prefers_is_latest() -> None:
    assert latest_etag(versions("a", "b")) == "b"
    assert latest_etag([]) is None


@pytest.mark.parametrize(("etags", "expected"), [("AABBA", 2), ("AABA", 1), ("A", 0), ("ABC", 0)])
def test_compact_dry_run_counts(etags: str, expected: int) -> None:
    from genro_storage.engine.versioning import compact

    assert compact(None, "f", versions(*etags), dry_run=True) == expected
