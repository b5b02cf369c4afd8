"""``register_backend()``: a third-party backend type (SQLite rows) used like a built-in one."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.backends import register_backend
from genro_storage.backends.registry import BACKENDS
from genro_storage.errors import MissingDependencyError, StorageConfigError, UnknownBackendError
from tests.thirdparty_backend import SqliteBackend


@pytest.fixture
def registered() -> Iterator[None]:
    register_backend(
        "sqlite", "tests.thirdparty_backend:SqliteBackend", required=["database"], label="SQLite"
    )
    yield
    for name in ("sqlite", "sqlite2", "broken", "needs"):
        BACKENDS.pop(name, None)


@pytest.fixture
def storage(registered: None, tmp_path: Path) -> StorageManager:
    (tmp_path / "disk").mkdir()
    manager = StorageManager()
    manager.configure(
        [
            {"name": "db", "type": "sqlite", "database": str(tmp_path / "files.db")},
            {"name": "disk", "type": "local", "path": str(tmp_path / "disk")},
        ]
    )
    return manager


def test_a_registered_type_works_through_the_node_api(
    storage: StorageManager, tmp_path: Path
) -> None:
    storage.node("db:docs/a.txt").write_text("alpha")
    storage.node("db:docs/sub/b.bin").write_bytes(b"\x00\x01")
    with storage.node("db:docs/c.txt").open("w") as fh:
        fh.write("gamma")

    docs = storage.node("db:docs")
    assert docs.isdir and sorted(c.basename for c in docs.children()) == ["a.txt", "c.txt", "sub"]
    assert storage.node("db:docs/a.txt").read_text() == "alpha"
    assert storage.node("db:docs/sub/b.bin").size == 2
    assert storage.node("db:docs/c.txt").md5hash == hashlib.md5(b"gamma").hexdigest()
    # the bytes are rows of a real SQLite file
    with sqlite3.connect(tmp_path / "files.db") as db:
        rows = dict(db.execute("SELECT path, data FROM files"))
    db.close()
    assert rows["docs/a.txt"] == b"alpha"

    storage.node("db:docs/sub").delete()
    assert not storage.node("db:docs/sub/b.bin").exists


def test_a_registered_type_copies_to_and_from_builtin_backends(storage: StorageManager) -> None:
    storage.node("db:tree/x.txt").write_text("x")
    storage.node("db:tree/y/z.txt").write_text("zz")
    storage.node("db:tree").copy_to(storage.node("disk:tree"))
    assert storage.node("disk:tree/y/z.txt").read_text() == "zz"

    storage.node("disk:tree/x.txt").write_text("changed")
    storage.node("disk:tree/new.txt").write_text("new")
    report = storage.node("disk:tree").sync_to(storage.node("db:tree"), skip="hash")
    assert report.ok and sorted(report.copied) == ["new.txt", "x.txt"], report
    assert storage.node("db:tree/x.txt").read_text() == "changed"


def test_required_keys_are_checked_before_the_factory_is_imported(registered: None) -> None:
    with pytest.raises(
        StorageConfigError, match="SQLite storage 'db' missing required field: 'database'"
    ):
        StorageManager().configure([{"name": "db", "type": "sqlite"}])


def test_registering_an_existing_type_needs_replace(registered: None, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'sqlite' is already registered"):
        register_backend("sqlite", SqliteBackend)
    with pytest.raises(ValueError, match="already registered"):
        register_backend("s3", SqliteBackend)
    spec = register_backend("sqlite", SqliteBackend, required=("database",), replace=True)
    assert spec.factory is SqliteBackend
    manager = StorageManager()
    manager.configure([{"name": "db", "type": "sqlite", "database": str(tmp_path / "d.db")}])
    assert manager.node("db:").isdir


def test_bad_registrations_and_factories_are_refused(registered: None) -> None:
    with pytest.raises(ValueError, match="non-empty name without ':'"):
        register_backend("a:b", SqliteBackend)
    with pytest.raises(TypeError, match="factory must be callable"):
        register_backend("sqlite2", "not_a_reference")
    register_backend("broken", lambda config, mount_name: object())
    with pytest.raises(StorageConfigError, match="'broken' backend type built object"):
        StorageManager().configure([{"name": "b", "type": "broken"}])
    register_backend("needs", SqliteBackend, imports=["genro_no_such_driver"])
    with pytest.raises(MissingDependencyError, match="pip install genro_no_such_driver"):
        StorageManager().configure([{"name": "n", "type": "needs"}])


def test_unregistered_types_are_still_unknown() -> None:
    with pytest.raises(UnknownBackendError, match="Unknown storage type 'sqlite' for mount 'db'"):
        StorageManager().configure([{"name": "db", "type": "sqlite", "database": "x"}])


def test_the_declared_hooks_have_defaults(tmp_path: Path) -> None:
    """A backend that only implements the five primitives still answers every hook."""
    backend = SqliteBackend({"database": str(tmp_path / "h.db")}, "h")
    try:
        assert backend.local_stat("a") is None and backend.max_concurrency is None
        assert not backend.native_async and not backend.path_is_content
        assert backend.translate_error(OSError("x"), "a") is None
        assert backend.public_url("a") is None and backend.transfer_attempts() == 1
        moved: list[str] = []
        with backend.open_write("a.txt", "wb", moved.append) as fh:
            fh.write(b"data")
        assert moved == [] and backend.read_bytes("a.txt") == b"data"
    finally:
        backend.close()


def test_a_relative_mount_answers_the_hooks_as_its_parent() -> None:
    """Retries and public URLs are declared hooks: a relative mount of a GCS bucket has
    the bucket's retries and its unsigned URLs, under its own prefix (no request is sent)."""
    storage = StorageManager()
    storage.configure(
        [
            {"name": "bucket", "type": "gcs", "bucket": "b", "token": "anon", "retries": 2,
             "endpoint_url": "http://127.0.0.1:9"},
            {"name": "media", "path": "bucket:site/media", "permissions": "readonly"},
        ]
    )  # fmt: skip
    parent, child = storage.get_backend("bucket"), storage.get_backend("media")
    assert parent.transfer_attempts() == child.transfer_attempts() == 3
    assert child.public_url("a b.png") == parent.public_url("site/media/a b.png")
    assert child.public_url("a b.png") == "http://127.0.0.1:9/b/site/media/a%20b.png"
    local = StorageManager()
    local.configure([{"name": "m", "type": "memory"}, {"name": "r", "path": "m:x"}])
    assert local.get_backend("r").transfer_attempts() == 1
    assert local.get_backend("r").public_url("a") is None
