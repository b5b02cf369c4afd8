"""0.4.2 compatibility, docs/architecture.md and docs/backends.md:
the backend layer reached through ``manager._mounts`` and ``node._backend``
(local, memory, base64 and relative wrappers)."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.backends import Base64Backend, LocalStorage, StorageBackend
from genro_storage.capabilities import BackendCapabilities

MEMBERS = [
    "capabilities",
    "exists",
    "is_file",
    "is_dir",
    "size",
    "mtime",
    "open",
    "read_bytes",
    "read_text",
    "write_bytes",
    "write_text",
    "delete",
    "list_dir",
    "mkdir",
    "copy",
    "get_hash",
    "get_metadata",
    "set_metadata",
    "get_versions",
    "open_version",
    "delete_version",
    "url",
    "internal_url",
    "local_path",
    "close",
]

FILE_BACKENDS = ["home", "mem", "rel", "wrapped"]


@pytest.fixture
def mounts(storage: StorageManager) -> StorageManager:
    storage.configure(
        [
            {"name": "rel", "path": "home:relroot"},
            {"name": "wrapped", "type": "memory", "permissions": "delete"},
        ]
    )
    return storage


@pytest.fixture(params=FILE_BACKENDS)
def backend(request: pytest.FixtureRequest, mounts: StorageManager) -> StorageBackend:
    return mounts._mounts[request.param]


def test_backend_is_reachable_from_manager_and_node(mounts: StorageManager) -> None:
    for name in ("home", "mem", "data", "rel", "wrapped"):
        backend = mounts._mounts[name]
        assert isinstance(backend, StorageBackend)
        assert mounts.node(f"{name}:x")._backend is backend
        for member in MEMBERS:
            assert hasattr(backend, member), (name, member)
        assert isinstance(backend.capabilities, BackendCapabilities)


def test_capabilities_is_a_property() -> None:
    for cls in (StorageBackend, LocalStorage, Base64Backend):
        assert isinstance(inspect.getattr_static(cls, "capabilities"), property)


def test_abstract_base_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        StorageBackend()  # type: ignore[abstract]


@pytest.mark.parametrize(
    ("method", "defaults"),
    [
        ("open", {"mode": "rb"}),
        ("read_text", {"encoding": "utf-8"}),
        ("write_text", {"encoding": "utf-8"}),
        ("delete", {"recursive": False}),
        ("mkdir", {"parents": False, "exist_ok": False}),
        ("open_version", {"mode": "rb"}),
        ("url", {"expires_in": 3600}),
        ("internal_url", {"nocache": False}),
        ("local_path", {"mode": "r"}),
    ],
)
def test_documented_defaults(method: str, defaults: dict[str, Any]) -> None:
    for cls in (StorageBackend, LocalStorage, Base64Backend):
        params = inspect.signature(getattr(cls, method)).parameters
        for name, value in defaults.items():
            assert params[name].default == value, (cls.__name__, method, name)


def test_state_members(backend: StorageBackend) -> None:
    assert backend.write_bytes("s/f.bin", b"12345") is None
    assert backend.exists("s/f.bin") is True and backend.exists("s/none") is False
    assert backend.is_file("s/f.bin") and not backend.is_file("s") and not backend.is_file("s/x")
    assert backend.is_dir("s") and not backend.is_dir("s/f.bin") and not backend.is_dir("s/x")
    assert backend.size("s/f.bin") == 5 and isinstance(backend.size("s/f.bin"), int)
    assert isinstance(backend.mtime("s/f.bin"), float)
    with pytest.raises(FileNotFoundError):
        backend.size("s/none")
    with pytest.raises(FileNotFoundError):
        backend.mtime("s/none")


def test_content_members(backend: StorageBackend) -> None:
    assert backend.write_text("t/a.txt", "àé", encoding="latin-1") is None
    assert backend.read_bytes("t/a.txt") == b"\xe0\xe9"
    assert backend.read_text("t/a.txt", encoding="latin-1") == "àé"
    with backend.open("t/a.txt") as fh:
        assert fh.read() == b"\xe0\xe9"  # binary by default
    with backend.open("t/w.bin", "wb") as fh:
        fh.write(b"w")
    assert backend.read_bytes("t/w.bin") == b"w"


def test_tree_members(backend: StorageBackend) -> None:
    backend.mkdir("a/b/c", parents=True)
    backend.mkdir("a/b/c", exist_ok=True)
    with pytest.raises(FileExistsError):
        backend.mkdir("a/b/c")
    with pytest.raises(FileNotFoundError):
        backend.mkdir("x/y")
    backend.write_bytes("a/f.txt", b"x")
    assert sorted(backend.list_dir("a")) == ["b", "f.txt"]
    backend.delete("a/f.txt")
    backend.delete("a/f.txt")  # idempotent
    backend.delete("a", recursive=True)
    assert not backend.exists("a")


def test_local_delete_of_non_empty_dir_needs_recursive(mounts: StorageManager) -> None:
    backend = mounts._mounts["home"]
    backend.write_bytes("full/f", b"x")
    with pytest.raises(ValueError):
        backend.delete("full")
    assert backend.exists("full/f")


@pytest.mark.parametrize("target", ["home", "mem", "rel"])
def test_copy_returns_none_for_path_backends(
    backend: StorageBackend, mounts: StorageManager, target: str
) -> None:
    backend.write_bytes("c/src.txt", b"copy")
    dest = mounts._mounts[target]
    assert backend.copy("c/src.txt", dest, "c/dst.txt") is None
    assert dest.read_bytes("c/dst.txt") == b"copy"


def test_copy_into_base64_returns_the_new_path(
    backend: StorageBackend, mounts: StorageManager
) -> None:
    backend.write_bytes("c/src.txt", b"inline")
    assert backend.copy("c/src.txt", mounts._mounts["data"], "") == "aW5saW5l"


def test_optional_members_on_non_versioned_backends(backend: StorageBackend) -> None:
    backend.write_bytes("o/f.txt", b"x")
    assert backend.get_hash("o/f.txt") is None
    assert backend.get_metadata("o/f.txt") == {}
    with pytest.raises(PermissionError, match="does not support metadata"):
        backend.set_metadata("o/f.txt", {"a": "b"})
    assert backend.get_versions("o/f.txt") == []
    with pytest.raises(PermissionError):
        backend.open_version("o/f.txt", "v1")
    with pytest.raises(PermissionError, match="does not support version deletion"):
        backend.delete_version("o/f.txt", "v1")
    assert backend.url("o/f.txt") is None and backend.url("o/f.txt", 10, x=1) is None
    assert backend.internal_url("o/f.txt") is None
    assert backend.internal_url("o/f.txt", nocache=True) is None


def test_local_path_is_a_context_manager(backend: StorageBackend) -> None:
    backend.write_bytes("lp/f.txt", b"x")
    manager = backend.local_path("lp/f.txt")
    assert isinstance(manager, contextlib.AbstractContextManager)
    with manager as local:
        assert isinstance(local, str) and Path(local).read_bytes() == b"x"


def test_base64_backend_members() -> None:
    backend = Base64Backend()
    assert backend.exists("aGk=") and backend.is_file("aGk=") and not backend.is_dir("aGk=")
    assert not backend.exists("") and not backend.exists("@@")
    assert backend.size("aGk=") == 2 and isinstance(backend.mtime("aGk="), float)
    assert backend.read_text("aGk=") == "hi"
    assert backend.write_bytes("", b"hi") == "aGk="
    assert backend.write_text("", "hé", encoding="latin-1") == "aOk="
    assert backend.get_hash("aGk=") == hashlib.md5(b"hi").hexdigest()
    with pytest.raises(ValueError, match="no directory structure"):
        backend.list_dir("")
    with pytest.raises(PermissionError):
        backend.delete("aGk=")
    with pytest.raises(PermissionError):
        backend.mkdir("x")
    with pytest.raises(PermissionError, match="does not support version deletion"):
        backend.delete_version("aGk=", "v")
    assert backend.get_versions("aGk=") == []
    assert backend.url("aGk=") is None
    with backend.open("aGk=") as fh:
        assert fh.read() == b"hi"


def test_local_base_path(tmp_path: Path) -> None:
    backend = LocalStorage(str(tmp_path / "." / ""))
    assert isinstance(backend.base_path, Path) and backend.base_path == tmp_path.resolve()


def test_close(mounts: StorageManager) -> None:
    for name in ("rel", "wrapped"):
        mounts._mounts[name].close()
    mounts.node("home:after-close.txt").write("ok")
    mounts.node("rel:after-close.txt").write("ok")
    assert mounts.node("home:relroot/after-close.txt").read() == "ok"


def test_node_version_helpers_exist(storage: StorageManager) -> None:
    node = storage.node("mem:f")
    assert callable(node._resolve_version_index) and callable(node._resolve_version_at_date)
