"""0.4.2 compatibility, docs/versioning.md:
versioning (version lists, index/date resolution, snapshots, compaction).

Uses the in-test versioned backend of conftest.py for the version-aware paths; the
embedded backends (local, memory, base64) are checked as non-versioned.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from genro_storage import StorageManager, StorageNode

from .conftest import T0, VersionedMemory


def write_versions(storage: StorageManager, *texts: str) -> StorageNode:
    node = storage.node("ver:doc.txt")
    for text in texts:
        node.write(text)
    return node


# ================================================================ non-versioned backends
@pytest.mark.parametrize("mount", ["home", "mem"])
def test_non_versioned_backends(storage: StorageManager, mount: str) -> None:
    node = storage.node(f"{mount}:f.txt")
    node.write("x")
    assert node.versions == [] and node.version_count == 0
    assert storage.node(f"{mount}:missing").versions == []
    with pytest.raises(IndexError, match=f"No versions available for {mount}:f.txt"):
        node._resolve_version_index(-1)
    assert node._resolve_version_at_date(datetime.now()) is None
    for dry_run in (False, True):
        with pytest.raises(PermissionError, match=f"^{mount} backend does not support versioning"):
            node.compact_versions(dry_run=dry_run)


def test_base64_is_not_versioned(storage: StorageManager) -> None:
    node = storage.node("data:aGk=")
    assert node.versions == [] and node.version_count == 0
    with pytest.raises(PermissionError, match="does not support versioning"):
        node.open(version=-1)


# ================================================================ version lists
def test_versions_are_sorted_oldest_first_with_documented_keys(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    node = write_versions(storage, "one", "two", "three")
    versions = node.versions
    assert node.version_count == 3
    assert [v["size"] for v in versions] == [3, 3, 5]
    assert [v["is_latest"] for v in versions] == [False, False, True]
    assert set(versions[0]) == {"version_id", "is_latest", "last_modified", "size", "etag"}
    stamps = [v["last_modified"] for v in versions]
    assert stamps == sorted(stamps) and all(s.tzinfo is not None for s in stamps)


@pytest.mark.parametrize("error", [OSError("denied"), RuntimeError("client error")])
def test_listing_errors_give_an_empty_list(
    storage: StorageManager,
    versioned: VersionedMemory,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    node = write_versions(storage, "one")

    def fail(path: str) -> list:
        raise error

    monkeypatch.setattr(versioned, "get_versions", fail)
    assert node.versions == [] and node.version_count == 0


# ================================================================ resolution helpers
def test_index_resolution(storage: StorageManager, versioned: VersionedMemory) -> None:
    node = write_versions(storage, "a", "b", "c")
    ids = [v["version_id"] for v in node.versions]
    assert node._resolve_version_index(0) == ids[0]
    assert node._resolve_version_index(-1) == ids[-1]
    assert node._resolve_version_index(-3) == ids[0]
    for bad in (3, -4):
        with pytest.raises(
            IndexError,
            match=rf"Version index {bad} out of range\. Available versions: 0 to 2 or -1 to -3",
        ):
            node._resolve_version_index(bad)


def test_date_resolution(storage: StorageManager, versioned: VersionedMemory) -> None:
    node = write_versions(storage, "a", "b", "c")  # at T0+1h, +2h, +3h
    ids = [v["version_id"] for v in node.versions]
    assert node._resolve_version_at_date(T0) is None
    assert node._resolve_version_at_date(T0 + timedelta(hours=1)) == ids[0]
    assert node._resolve_version_at_date(T0 + timedelta(hours=2, minutes=59)) == ids[1]
    naive = (T0 + timedelta(hours=2)).replace(tzinfo=None)  # naive datetimes are UTC
    assert node._resolve_version_at_date(naive) == ids[1]
    later_zone = timezone(timedelta(hours=5))
    assert node._resolve_version_at_date((T0 + timedelta(hours=7)).astimezone(later_zone)) == ids[2]


# ================================================================ snapshots
def test_snapshot_reads_that_version(storage: StorageManager, versioned: VersionedMemory) -> None:
    write_versions(storage, "first", "second", "third")
    assert storage.node("ver:doc.txt", version=0).read() == "first"
    assert storage.node("ver:doc.txt", version=-2).read("rb") == b"second"
    version_id = storage.node("ver:doc.txt").versions[-1]["version_id"]
    assert storage.node("ver:doc.txt", version=version_id).read() == "third"
    with storage.node("ver:doc.txt", version=0).open() as fh:
        assert fh.read() == "first"
    with storage.node("ver:doc.txt", version=0).local_path() as local, open(local) as fh:
        assert fh.read() == "first"


def test_snapshot_refuses_writes(storage: StorageManager, versioned: VersionedMemory) -> None:
    write_versions(storage, "first", "second")
    snapshot = storage.node("ver:doc.txt", version=0)
    for attempt in (
        lambda: snapshot.write("x"),
        lambda: snapshot.write(b"x", "wb"),
        lambda: snapshot.open("w"),
        lambda: snapshot.open("ab"),
        lambda: snapshot.local_path("rw").__enter__(),
    ):
        with pytest.raises(ValueError, match="Cannot write to versioned snapshot"):
            attempt()
    assert storage.node("ver:doc.txt").read() == "second"


def test_restoring_a_snapshot_creates_a_new_version(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    node = write_versions(storage, "good", "bad")
    node.write(storage.node("ver:doc.txt", version=0).read())
    assert node.read() == "good" and node.version_count == 3


def test_snapshot_parent_and_child_drop_the_version(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    snapshot = storage.node("ver:dir/doc.txt", version=0)
    assert snapshot.parent._version is None
    assert snapshot.parent.child("doc.txt")._version is None


def test_snapshot_md5hash_hashes_the_snapshot(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    # Listed deviation: 0.4.2 returned the current object's hash on a snapshot [Q]
    import hashlib

    write_versions(storage, "first", "second")
    snapshot = storage.node("ver:doc.txt", version=0)
    assert snapshot.md5hash == hashlib.md5(b"first").hexdigest()


# ================================================================ compact_versions
@pytest.mark.parametrize(
    ("texts", "removed", "left"),
    [
        ("AABBA", 2, "ABA"),
        ("AABA", 1, "ABA"),
        ("ABC", 0, "ABC"),
        ("A", 0, "A"),
        ("AAAA", 3, "A"),
    ],
)
def test_compact_versions(
    storage: StorageManager, versioned: VersionedMemory, texts: str, removed: int, left: str
) -> None:
    node = write_versions(storage, *texts)
    assert node.compact_versions(dry_run=True) == removed
    assert node.version_count == len(texts)  # dry run deletes nothing
    assert node.compact_versions() == removed
    remaining = [storage.node("ver:doc.txt", version=v["version_id"]).read() for v in node.versions]
    assert "".join(remaining) == left


def test_compact_versions_with_no_versions(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    assert storage.node("ver:never-written").compact_versions() == 0


def test_compact_versions_failures_warn_and_are_not_counted(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    node = write_versions(storage, "A", "A", "A")
    versioned.fail_deletes.add(node.versions[1]["version_id"])
    with pytest.warns(RuntimeWarning, match="cannot delete"):
        assert node.compact_versions() == 1
    assert node.version_count == 2


def test_compact_versions_on_a_snapshot_is_refused(
    storage: StorageManager, versioned: VersionedMemory
) -> None:
    write_versions(storage, "A", "A")
    with pytest.raises(PermissionError, match=r"^ver backend does not support versioning"):
        storage.node("ver:doc.txt", version=0).compact_versions(dry_run=True)


def test_copying_a_snapshot_copies_that_version(storage, versioned) -> None:
    node = storage.node("ver:doc.txt")
    node.write("first")
    node.write("second")
    storage.node("ver:doc.txt", version=0).copy_to("mem:restored.txt")
    assert storage.node("mem:restored.txt").read() == "first"
