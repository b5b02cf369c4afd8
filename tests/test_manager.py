"""StorageManager: mounts, node() call forms, relative mounts, permissions, callable paths."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from genro_storage import (
    StorageConfigError,
    StorageManager,
    StorageNotFoundError,
    StoragePermissionError,
)
from genro_storage.backends import LocalStorage


@pytest.mark.parametrize(
    ("args", "fullpath"),
    [
        (("home:docs/a.pdf",), "home:docs/a.pdf"),
        (("home", "docs", "a.pdf"), "home:docs/a.pdf"),
        (("home:docs", "reports", "q.pdf"), "home:docs/reports/q.pdf"),
        (("home",), "home:"),
        (("home:",), "home:"),
        (("home://a//b/",), "home:a/b"),
        (("home:b:c",), "home:b:c"),
    ],
)
def test_node_call_forms(storage: StorageManager, args: tuple[str, ...], fullpath: str) -> None:
    assert storage.node(*args).fullpath == fullpath


def test_node_root_has_empty_path(storage: StorageManager) -> None:
    assert storage.node("home").path == ""


def test_unknown_mount_lists_available(storage: StorageManager) -> None:
    with pytest.raises(
        StorageNotFoundError,
        match=r"Mount point .nope. not found\. Available mounts: home, mem, data",
    ):
        storage.node("nope:x")


def test_empty_mount_name_is_unknown(storage: StorageManager) -> None:
    with pytest.raises(StorageNotFoundError):
        storage.node("")


def test_node_refuses_dotdot_after_mount_lookup(storage: StorageManager) -> None:
    with pytest.raises(StorageNotFoundError):
        storage.node("nope:../x")
    with pytest.raises(ValueError, match="Parent directory traversal"):
        storage.node("home:a/../../etc/passwd")


def test_node_path_parts_must_be_strings(storage: StorageManager) -> None:
    with pytest.raises(TypeError):
        storage.node("home", 3)  # type: ignore[arg-type]


def test_repr_and_introspection() -> None:
    storage = StorageManager()
    assert repr(storage) == "StorageManager(mounts=[none])"
    storage.configure([{"name": "a", "type": "memory"}, {"name": "b", "type": "base64"}])
    assert repr(storage) == "StorageManager(mounts=[a, b])"
    assert storage.has_mount("a") and "a" in storage and not storage.has_mount("z")
    assert list(storage) == ["a", "b"]


def test_reconfiguring_a_name_keeps_its_slot_and_data() -> None:
    storage = StorageManager()
    base = f"keep-{uuid.uuid4().hex}"
    storage.configure(
        [{"name": "a", "type": "memory", "base_path": base}, {"name": "b", "type": "memory"}]
    )
    storage.node("a:f.txt").write("kept")
    storage.configure([{"name": "a", "type": "memory", "base_path": base}])
    assert storage.get_mount_names() == ["a", "b"]
    assert storage.node("a:f.txt").read() == "kept"


def test_add_and_remove_mount() -> None:
    storage = StorageManager()
    storage.add_mount({"name": "x", "type": "memory"})
    assert storage.has_mount("x")
    storage.remove_mount("x")
    assert not storage.has_mount("x")
    with pytest.raises(StorageNotFoundError):
        storage.remove_mount("x")


def test_memory_store_is_shared_between_managers() -> None:
    base = f"shared-{uuid.uuid4().hex}"
    one, two = StorageManager(), StorageManager()
    for manager in (one, two):
        manager.configure([{"name": "m", "type": "memory", "base_path": base}])
    one.node("m:x.txt").write("hello")
    assert two.node("m:x.txt").read() == "hello"


def test_mount_config_returns_a_copy(storage: StorageManager) -> None:
    config = storage.mount_config("mem")
    config["type"] = "changed"
    assert storage.mount_config("mem")["type"] == "memory"


# ---------------------------------------------------------------- relative mounts
def test_relative_mount_acts_on_parent_subpath(storage: StorageManager, home: Path) -> None:
    storage.configure([{"name": "docs", "path": "home:shared/docs"}])
    storage.node("docs:a.txt").write("x")
    assert (home / "shared" / "docs" / "a.txt").read_text() == "x"


def test_relative_mount_needs_existing_parent(storage: StorageManager) -> None:
    with pytest.raises(StorageConfigError, match="Parent mount 'ghost' not found"):
        storage.configure([{"name": "c", "path": "ghost:x"}])


def test_relative_mount_chain_and_empty_subpath(storage: StorageManager, home: Path) -> None:
    storage.configure(
        [
            {"name": "lvl1", "path": "home:one/"},
            {"name": "lvl2", "path": "lvl1:two"},
            {"name": "alias", "path": "home:"},
        ]
    )
    storage.node("lvl2:f.txt").write("deep")
    assert (home / "one" / "two" / "f.txt").read_text() == "deep"
    assert storage.node("alias:one/two/f.txt").read() == "deep"


def test_relative_mount_capabilities_equal_parents(storage: StorageManager) -> None:
    storage.configure([{"name": "r", "path": "mem:sub"}])
    assert storage.node("r:x").capabilities == storage.node("mem:x").capabilities


def test_readonly_relative_mount_reports_readonly(storage: StorageManager) -> None:
    storage.configure([{"name": "r", "path": "mem:sub", "permissions": "readonly"}])
    caps = storage.node("r:x").capabilities
    assert caps.readonly and not caps.write


@pytest.mark.parametrize("level", ["readonly", "readwrite", "delete"])
def test_permission_levels_for_reads(storage: StorageManager, level: str) -> None:
    storage.node("mem:p/f.txt").write("x")
    storage.configure([{"name": "r", "path": "mem:p", "permissions": level}])
    node = storage.node("r:f.txt")
    assert node.read() == "x"
    assert node.exists and node.isfile and node.size == 1
    assert [c.basename for c in storage.node("r:").children()] == ["f.txt"]


def test_readonly_refuses_every_write(storage: StorageManager) -> None:
    storage.node("mem:p/f.txt").write("x")
    storage.configure([{"name": "r", "path": "mem:p", "permissions": "readonly"}])
    node = storage.node("r:f.txt")
    for attempt in (
        lambda: node.write("y"),
        lambda: node.write_bytes(b"y"),
        lambda: storage.node("r:new/deep.txt").write("y"),
        lambda: storage.node("r:d").mkdir(),
        lambda: node.delete(),
        lambda: storage.node("r:ghost.txt").delete(),
        lambda: storage.node("mem:p/f.txt").copy_to(storage.node("r:copy.txt")),
    ):
        with pytest.raises(StoragePermissionError):
            attempt()
    for mode in ("w", "wb", "a", "ab", "x", "r+b", "rb+", "w+"):
        with pytest.raises(StoragePermissionError, match="read-only"):
            node.open(mode)
    with pytest.raises(StoragePermissionError), node.local_path(mode="rw"):
        pass
    assert node.read() == "x"


def test_readonly_unchanged_write_with_skip_returns_false(storage: StorageManager) -> None:
    storage.node("mem:p/f.txt").write("same")
    storage.configure([{"name": "r", "path": "mem:p", "permissions": "readonly"}])
    assert storage.node("r:f.txt").write("same", skip_if_unchanged=True) is False


def test_readwrite_can_write_but_not_delete(storage: StorageManager) -> None:
    storage.configure([{"name": "rw", "path": "mem:q", "permissions": "readwrite"}])
    node = storage.node("rw:f.txt")
    node.write("v")
    with pytest.raises(StoragePermissionError, match=r"delete permission \(current: readwrite\)"):
        node.delete()
    with pytest.raises(StoragePermissionError):
        node.move_to("mem:moved.txt")
    assert node.exists and not storage.node("mem:moved.txt").exists


def test_readonly_mount_can_be_a_copy_source(storage: StorageManager) -> None:
    storage.node("mem:src/a.txt").write("a")
    storage.configure([{"name": "ro", "path": "mem:src", "permissions": "readonly"}])
    storage.node("ro:a.txt").copy_to("home:a.txt")
    assert storage.node("home:a.txt").read() == "a"


def test_permissions_key_on_plain_mount_wraps_it(tmp_path: Path) -> None:
    storage = StorageManager()
    storage.configure(
        [{"name": "l", "type": "local", "path": str(tmp_path), "permissions": "readonly"}]
    )
    with pytest.raises(StoragePermissionError):
        storage.node("l:x.txt").write("x")


def test_permissions_beyond_backend_capabilities_are_refused() -> None:
    with pytest.raises(StorageConfigError, match="does not support delete operations"):
        StorageManager().configure([{"name": "b", "type": "base64", "permissions": "delete"}])


# ---------------------------------------------------------------- callable paths
def test_callable_path_resolves_at_call_time(tmp_path: Path) -> None:
    current = {"user": "alice"}
    storage = StorageManager()
    storage.configure(
        [{"name": "user", "type": "local", "path": lambda: str(tmp_path / current["user"])}]
    )
    storage.node("user:notes.txt").write("alice's")
    current["user"] = "bob"
    storage.node("user:notes.txt").write("bob's")
    assert (tmp_path / "alice" / "notes.txt").read_text() == "alice's"
    assert (tmp_path / "bob" / "notes.txt").read_text() == "bob's"
    backend = storage._mounts["user"]
    assert isinstance(backend, LocalStorage)
    assert backend.base_path == (tmp_path / "bob").resolve()


def test_callable_path_is_not_called_at_configure_time() -> None:
    def boom() -> str:
        raise AssertionError("called too early")

    StorageManager().configure([{"name": "u", "type": "local", "path": boom}])


def test_relative_subpath_leading_slash_stays_inside_parent(storage: StorageManager) -> None:
    storage.configure([{"name": "r", "path": "mem:/sub/"}])
    storage.node("r:f.txt").write("x")
    assert storage.node("mem:sub/f.txt").read() == "x"
