"""The backend layer reached through ``manager._mounts``, incl. relative wrappers."""

from __future__ import annotations

import pytest

from genro_storage import StorageManager, StoragePermissionError
from genro_storage.backends import RelativeMountBackend, StorageBackend

BACKENDS = ["home", "mem", "rel"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, storage: StorageManager) -> StorageBackend:
    storage.configure([{"name": "rel", "path": "mem:relroot"}])
    return storage._mounts[request.param]


def test_read_write_and_state(backend: StorageBackend) -> None:
    assert backend.write_text("d/a.txt", "héllo") is None
    assert backend.read_text("d/a.txt") == "héllo"
    assert backend.write_bytes("d/b.bin", b"\x00\x01") is None
    assert backend.read_bytes("d/b.bin") == b"\x00\x01"
    assert backend.exists("d/a.txt") and backend.is_file("d/a.txt") and backend.is_dir("d")
    assert not backend.is_file("d") and not backend.is_dir("d/a.txt")
    assert backend.size("d/b.bin") == 2 and backend.mtime("d/b.bin") > 0
    assert sorted(backend.list_dir("d")) == ["a.txt", "b.bin"]
    assert sorted(e.name for e in backend.list_detail("d")) == ["a.txt", "b.bin"]
    with backend.open("d/a.txt", "rb") as fh:
        assert fh.read() == "héllo".encode()
    assert backend.read_range("d/a.txt", 0, 1) == b"h"


def test_delete_is_idempotent(backend: StorageBackend) -> None:
    backend.write_bytes("x.bin", b"1")
    backend.delete("x.bin")
    backend.delete("x.bin")
    assert not backend.exists("x.bin")


def test_mkdir_and_recursive_delete(backend: StorageBackend) -> None:
    backend.mkdir("a/b", parents=True)
    with pytest.raises(FileExistsError):
        backend.mkdir("a/b")
    backend.mkdir("a/b", exist_ok=True)
    backend.write_bytes("a/b/f", b"x")
    backend.delete("a", recursive=True)
    assert not backend.exists("a")


def test_copy_between_backends(storage: StorageManager, backend: StorageBackend) -> None:
    backend.write_bytes("c/src.txt", b"copy me")
    target = storage._mounts["home"]
    assert backend.copy("c/src.txt", target, "copied/dst.txt") is None
    assert target.read_bytes("copied/dst.txt") == b"copy me"


def test_optional_features_defaults(backend: StorageBackend) -> None:
    backend.write_bytes("f.txt", b"x")
    assert backend.get_hash("f.txt") is None
    assert backend.get_metadata("f.txt") == {}
    assert backend.get_versions("f.txt") == []
    with pytest.raises(PermissionError, match="does not support versioning"):
        backend.open_version("f.txt", "v1")
    with pytest.raises(PermissionError, match="does not support version deletion"):
        backend.delete_version("f.txt", "v1")
    assert backend.url("f.txt") is None and backend.internal_url("f.txt") is None
    with backend.local_path("f.txt") as local, open(local, "rb") as fh:
        assert fh.read() == b"x"
    assert backend.compute_md5("f.txt") == "9dd4e461268c8034f5c8564e155c67a6"


def test_relative_close_keeps_parent_usable(storage: StorageManager) -> None:
    storage.configure([{"name": "rel", "path": "mem:r"}])
    rel = storage._mounts["rel"]
    assert isinstance(rel, RelativeMountBackend)
    rel.close()
    storage.node("mem:still.txt").write("ok")
    assert storage.node("mem:still.txt").read() == "ok"


def test_relative_walk_and_detail_paths_are_mount_relative(storage: StorageManager) -> None:
    storage.node("mem:base/sub/a.txt").write("a")
    storage.configure([{"name": "rel", "path": "mem:base"}])
    rel = storage._mounts["rel"]
    assert [e.path for e in rel.walk_files("") if not e.is_dir] == ["sub/a.txt"]
    assert [e.path for e in rel.list_detail("sub")] == ["sub/a.txt"]
    assert rel.info("sub/a.txt").path == "sub/a.txt"


def test_relative_readonly_wrapper_blocks_backend_writes(storage: StorageManager) -> None:
    storage.configure([{"name": "ro", "path": "mem:ro", "permissions": "readonly"}])
    rel = storage._mounts["ro"]
    for attempt in (
        lambda: rel.write_bytes("x", b"1"),
        lambda: rel.write_text("x", "1"),
        lambda: rel.write_stream("x", [b"1"]),
        lambda: rel.mkdir("d"),
        lambda: rel.set_metadata("x", {}),
        lambda: rel.delete("x"),
        lambda: rel.delete_version("x", "v"),
        lambda: rel.server_side_copy("a", "b"),
        lambda: rel.open("x", "wb"),
        lambda: rel.check_write_allowed(),
        lambda: rel.check_delete_allowed(),
    ):
        with pytest.raises(StoragePermissionError):
            attempt()


def test_base64_backend_layer_returns_new_paths(storage: StorageManager) -> None:
    backend = storage._mounts["data"]
    assert backend.write_bytes("", b"hi") == "aGk="
    assert backend.write_text("", "hi") == "aGk="
    assert backend.copy("aGk=", storage._mounts["mem"], "from64") is None
    assert storage.node("mem:from64").read() == "hi"
