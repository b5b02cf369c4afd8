"""0.4.2 compatibility, docs/configuration.md:
StorageManager (constructor, configure, mount dicts, relative mounts,
permissions, callable local paths, node())."""

from __future__ import annotations

import inspect
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from genro_storage import (
    StorageConfigError,
    StorageManager,
    StorageNode,
    StorageNotFoundError,
    StoragePermissionError,
)
from genro_storage.backends import LocalStorage, StorageBackend
from genro_storage.backends.memory import MemoryBackend
from genro_storage.capabilities import BackendCapabilities

ALL_TYPES = [
    "local",
    "memory",
    "base64",
    "s3",
    "gcs",
    "azure",
    "http",
    "smb",
    "sftp",
    "zip",
    "tar",
    "git",
    "github",
    "webdav",
    "libarchive",
]


def mem(name: str, base: str | None = None) -> dict[str, Any]:
    return {"name": name, "type": "memory", "base_path": base or f"m-{uuid.uuid4().hex}"}


# ================================================================ constructor, introspection
def test_constructor_takes_no_arguments_and_starts_empty() -> None:
    storage = StorageManager()
    assert storage.get_mount_names() == [] and storage._mounts == {}
    with pytest.raises(TypeError):
        StorageManager({"name": "x"})  # type: ignore[call-arg]


def test_method_signatures() -> None:
    def params(func: Any) -> list[str]:
        return list(inspect.signature(func).parameters)

    assert params(StorageManager.configure) == ["self", "source"]
    node_sig = inspect.signature(StorageManager.node).parameters
    assert node_sig["mount_or_path"].default is None
    assert node_sig["path_parts"].kind is inspect.Parameter.VAR_POSITIONAL
    assert node_sig["version"].default is None
    assert node_sig["version"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params(StorageManager.iternode) == ["self", "nodes"]
    assert params(StorageManager.diffnode) == ["self", "node1", "node2"]
    assert params(StorageManager.get_mount_names) == ["self"]
    assert params(StorageManager.has_mount) == ["self", "name"]


def test_get_mount_names_keeps_first_configuration_order() -> None:
    storage = StorageManager()
    storage.configure([mem("b"), mem("a")])
    storage.configure([mem("c")])
    storage.configure([mem("a")])  # re-configuring keeps the slot
    assert storage.get_mount_names() == ["b", "a", "c"]
    assert isinstance(storage.get_mount_names(), list)


def test_has_mount_and_repr() -> None:
    storage = StorageManager()
    assert storage.has_mount("a") is False
    storage.configure([mem("a")])
    assert storage.has_mount("a") is True
    assert repr(storage) == "StorageManager(mounts=[a])"


def test_mounts_dict_holds_one_backend_per_mount(storage: StorageManager) -> None:
    assert list(storage._mounts) == ["home", "mem", "data"]
    assert all(isinstance(b, StorageBackend) for b in storage._mounts.values())
    assert isinstance(storage._mounts["home"], LocalStorage)
    assert storage.node("home:x")._backend is storage._mounts["home"]


# ================================================================ configure(source)
@pytest.mark.parametrize("source", [{"name": "a", "type": "memory"}, ({"name": "a"},), None, 1.5])
def test_configure_rejects_other_source_types(source: Any) -> None:
    with pytest.raises(TypeError):
        StorageManager().configure(source)


def test_configure_accepts_pathlib_path(tmp_path: Path) -> None:
    # 0.5 differs: 0.4.2 raised TypeError for pathlib.Path; accepted here
    cfg = tmp_path / "m.yaml"
    cfg.write_text("- name: a\n  type: memory\n")
    storage = StorageManager()
    storage.configure(cfg)
    assert storage.get_mount_names() == ["a"]


@pytest.mark.parametrize("name", ["m.JSON", "m.Json"])
def test_json_suffix_is_case_insensitive(tmp_path: Path, name: str) -> None:
    cfg = tmp_path / name
    cfg.write_text(json.dumps([{"name": "a", "type": "memory"}]))
    storage = StorageManager()
    storage.configure(str(cfg))
    assert storage.has_mount("a")


def test_missing_config_file_message_starts_as_documented(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        StorageManager().configure(str(tmp_path / "absent.json"))
    assert not isinstance(info.value, StorageConfigError)
    assert str(info.value).startswith("Configuration file not found")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.txt", "[]", "Unsupported configuration file format"),
        ("m.yaml", "- [unclosed", "Failed to parse YAML file"),
        ("m.json", "{not json", "Failed to parse JSON file"),
        ("m.json", '{"name": "a"}', "Configuration must be a list of mount configs, got dict"),
        ("m.yml", "", "Configuration must be a list of mount configs, got NoneType"),
        ("m.json", '"text"', "Configuration must be a list of mount configs, got str"),
    ],
)
def test_config_file_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    cfg = tmp_path / name
    cfg.write_text(text)
    with pytest.raises(StorageConfigError, match=message):
        StorageManager().configure(str(cfg))


def test_failed_configure_is_all_or_nothing(tmp_path: Path) -> None:
    # 0.5 differs: 0.4.2 kept the mounts validated before the failure; we apply none of them
    storage = StorageManager()
    storage.configure([mem("keep")])
    kept = storage._mounts["keep"]
    with pytest.raises(StorageConfigError):
        storage.configure([mem("keep"), mem("new"), {"name": "bad", "type": "nope"}])
    assert storage.get_mount_names() == ["keep"]
    assert storage._mounts["keep"] is kept
    cfg = tmp_path / "m.yaml"
    cfg.write_text("- {name: other, type: memory}\n- {name: broken, type: local}\n")
    with pytest.raises(StorageConfigError):
        storage.configure(str(cfg))
    assert storage.get_mount_names() == ["keep"]


def test_configure_accumulates_and_replaces() -> None:
    base = f"r-{uuid.uuid4().hex}"
    storage = StorageManager()
    storage.configure([mem("a", base)])
    storage.node("a:f.txt").write("data")
    first = storage._mounts["a"]
    storage.configure([mem("b")])
    storage.configure([mem("a", base)])
    assert storage.get_mount_names() == ["a", "b"]
    assert storage._mounts["a"] is not first
    assert storage.node("a:f.txt").read() == "data"  # replacing does not touch stored data


def test_same_name_twice_in_one_call_is_refused() -> None:
    # 0.4.2 let the last one win silently; issue 11 refuses it (nothing is applied)
    storage = StorageManager()
    with pytest.raises(StorageConfigError, match="Mount 'x' is defined twice"):
        storage.configure([{"name": "x", "type": "memory"}, {"name": "x", "type": "base64"}])
    assert storage.get_mount_names() == []


def test_relative_mount_may_use_a_parent_from_the_same_call() -> None:
    storage = StorageManager()
    storage.configure([mem("parent"), {"name": "child", "path": "parent:sub"}])
    storage.node("child:f").write("x")
    assert storage.node("parent:sub/f").read() == "x"


# ================================================================ mount dicts
@pytest.mark.parametrize("entry", [{"type": "memory"}, {"name": "", "type": "memory"}])
def test_missing_name(entry: dict) -> None:
    with pytest.raises(StorageConfigError, match="missing required field: 'name'"):
        StorageManager().configure([entry])


@pytest.mark.parametrize(
    "extra",
    [{"type": "s3"}, {"type": "nope"}, {"type": "local"}, {"protocol": "s3"}, {}],
)
def test_a_path_with_colon_is_a_relative_mount_whatever_type_says(
    storage: StorageManager, extra: dict
) -> None:
    storage.configure([{"name": "rel", "path": "mem:sub", **extra}])
    storage.node("rel:f.txt").write("through parent")
    assert storage.node("mem:sub/f.txt").read() == "through parent"


def test_windows_style_local_path_is_not_a_relative_mount(tmp_path: Path) -> None:
    # 0.5 fixes the 0.4.2 quirk that read 'C:\\data' as parent mount 'C'
    storage = StorageManager()
    storage.configure([mem("C")])
    for path in ("C:\\data", "C:/data"):
        with pytest.raises(ValueError, match="absolute") as info:
            storage.configure([{"name": "w", "type": "local", "path": path}])
        assert "Parent mount" not in str(info.value)


def test_single_letter_mount_stays_usable_as_relative_parent() -> None:
    # only a local mount's path is read as a Windows path: a relative entry (no type)
    # on a one-letter parent mount keeps working as in 0.4.2
    storage = StorageManager()
    storage.configure([mem("C")])
    storage.configure([{"name": "sub", "path": "C:/data"}])
    assert storage.get_mount_names() == ["C", "sub"]


def test_missing_type_names_the_mount() -> None:
    with pytest.raises(StorageConfigError) as info:
        StorageManager().configure([{"name": "nameless-type"}])
    message = str(info.value)
    assert "nameless-type" in message
    assert message.index("nameless-type") < message.index("missing required field: 'type'")


def test_protocol_is_a_synonym_of_type() -> None:
    # 0.5 differs: 0.4.2 had no 'protocol' key; accepted here as a synonym of 'type'
    storage = StorageManager()
    storage.configure([{"name": "p", "protocol": "base64"}])
    assert storage.node("p:aGk=").read() == "hi"


def test_unknown_type_message_lists_the_fifteen_types() -> None:
    with pytest.raises(StorageConfigError) as info:
        StorageManager().configure([{"name": "m", "type": "ftp"}])
    message = str(info.value)
    assert message.startswith("Unknown storage type 'ftp' for mount 'm'")
    listed = message.split("Unknown storage type 'ftp' for mount 'm'", 1)[1]
    for known in ALL_TYPES:
        assert known in listed


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "local"}, "Local storage 'm' missing required field: 'path'"),
        ({"type": "s3"}, "S3 storage 'm' missing required field: 'bucket'"),
        ({"type": "azure", "container": "c"}, "missing required field: 'account_name'"),
        ({"type": "sftp", "username": "u"}, "missing required field: 'host'"),
        ({"type": "smb", "share": "s"}, "missing required field: 'host'"),
        ({"type": "github", "repo": "r"}, "missing required field: 'org'"),
    ],
)
def test_missing_key_messages_and_order(config: dict, message: str) -> None:
    with pytest.raises(StorageConfigError, match=message):
        StorageManager().configure([{"name": "m", **config}])


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "s3", "permissions": "bogus"}, "missing required field: 'bucket'"),
        ({"type": "ftp", "permissions": "bogus"}, "Unknown storage type 'ftp'"),
        ({"type": "memory", "permissions": "bogus"}, "Invalid permissions 'bogus'"),
    ],
)
def test_keys_and_type_are_checked_before_permissions(config: dict, message: str) -> None:
    with pytest.raises(StorageConfigError, match=message):
        StorageManager().configure([{"name": "m", **config}])


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"name": "m", "type": "memory", "colour": "blue"}, "colour"),
        ({"name": "l", "type": "local", "path": "/tmp", "base_path": "/elsewhere"}, "base_path"),
        ({"name": "b", "type": "base64", "anything": True}, "anything"),
        ({"name": "r", "path": "mem:sub", "bucket": "b"}, "bucket"),
    ],
)
def test_unknown_keys_are_refused(entry: dict, key: str) -> None:
    # 0.4.2 ignored them silently, so a typo ('regoin') went unnoticed; issue 11
    storage = StorageManager()
    storage.configure([mem("mem")])
    with pytest.raises(StorageConfigError, match=f"Mount '{entry['name']}': unknown key '{key}'"):
        storage.configure([entry])


# ================================================================ backend types
def test_local_path_may_be_a_callable(tmp_path: Path) -> None:
    storage = StorageManager()
    storage.configure([{"name": "l", "type": "local", "path": lambda: str(tmp_path)}])
    storage.node("l:f").write("x")
    assert (tmp_path / "f").read_text() == "x"


def test_memory_base_path_default_root_and_isolation() -> None:
    base = f"iso-{uuid.uuid4().hex}"
    storage = StorageManager()
    storage.configure(
        [
            {"name": "root", "type": "memory"},
            {"name": "a", "type": "memory", "base_path": base},
            {"name": "a2", "type": "memory", "base_path": f"/{base}/"},
            mem("other"),
        ]
    )
    storage.node("a:f.txt").write("in a")
    assert storage.node("a2:f.txt").read() == "in a"  # same base_path, same files
    assert not storage.node("other:f.txt").exists
    assert storage.node(f"root:{base}/f.txt").read() == "in a"  # root mount is '/'


def test_memory_store_is_process_wide_and_survives_reconfiguration() -> None:
    base = f"pw-{uuid.uuid4().hex}"
    first = StorageManager()
    first.configure([mem("m", base)])
    first.node("m:kept.txt").write("kept")
    second = StorageManager()
    second.configure([mem("elsewhere", base)])
    assert second.node("elsewhere:kept.txt").read() == "kept"


def test_base64_type_needs_no_keys() -> None:
    storage = StorageManager()
    storage.configure([{"name": "b", "type": "base64"}])
    assert storage.node("b:aGk=").read() == "hi"


# ================================================================ relative mounts
def test_parent_not_found_lists_quoted_names_or_none(storage: StorageManager) -> None:
    with pytest.raises(StorageConfigError) as info:
        storage.configure([{"name": "c", "path": "ghost:x"}])
    message = str(info.value)
    assert message.startswith("Parent mount 'ghost' not found")
    assert "'home', 'mem', 'data'" in message
    with pytest.raises(StorageConfigError, match=r"Parent mount 'ghost' not found.*none"):
        StorageManager().configure([{"name": "c", "path": "ghost:x"}])


def test_relative_subpath_empty_and_trailing_slash(storage: StorageManager) -> None:
    storage.configure([{"name": "same", "path": "mem:"}, {"name": "trail", "path": "mem:a/b/"}])
    storage.node("trail:f.txt").write("x")
    assert storage.node("same:a/b/f.txt").read() == "x"
    assert storage.node("mem:a/b/f.txt").read() == "x"


def test_relative_permissions_default_to_delete(storage: StorageManager) -> None:
    storage.configure([{"name": "r", "path": "mem:d"}])
    storage.node("r:f").write("x")
    storage.node("r:f").delete()
    assert not storage.node("mem:d/f").exists


def test_relative_invalid_permissions_lists_valid_values(storage: StorageManager) -> None:
    with pytest.raises(StorageConfigError) as info:
        storage.configure([{"name": "r", "path": "mem:d", "permissions": "write"}])
    message = str(info.value)
    assert message.startswith("Invalid permissions 'write' for mount 'r'")
    for level in ("readonly", "readwrite", "delete"):
        assert level in message


def test_relative_mount_does_not_check_parent_capabilities(storage: StorageManager) -> None:
    # [Q] kept: a relative mount may claim 'delete' on a parent that cannot delete
    storage.configure([{"name": "r", "path": "data:", "permissions": "delete"}])
    assert storage.has_mount("r")


def test_relative_chain_acts_on_the_root_parent(storage: StorageManager, home: Path) -> None:
    storage.configure(
        [
            {"name": "l1", "path": "home:one", "permissions": "delete"},
            {"name": "l2", "path": "l1:two", "permissions": "readwrite"},
            {"name": "l3", "path": "l2:three", "permissions": "readonly"},
        ]
    )
    storage.node("l2:three/f.txt").write("deep")
    assert (home / "one" / "two" / "three" / "f.txt").read_text() == "deep"
    assert storage.node("l3:f.txt").read() == "deep"
    assert [n.basename for n in storage.node("l3:").children()] == ["f.txt"]
    with pytest.raises(StoragePermissionError):
        storage.node("l3:f.txt").write("no")
    with pytest.raises(StoragePermissionError):
        storage.node("l2:three/f.txt").delete()


def test_relative_capabilities(storage: StorageManager) -> None:
    storage.configure(
        [
            {"name": "full", "path": "mem:x"},
            {"name": "ro", "path": "mem:x", "permissions": "readonly"},
            {"name": "rw", "path": "mem:x", "permissions": "readwrite"},
        ]
    )
    parent = storage.node("mem:").capabilities
    assert storage.node("full:").capabilities == parent  # unchanged, equal objects
    ro = storage.node("ro:").capabilities
    # 0.5 differs: a readonly mount reports readonly (0.4.2 reported the parent's flags)
    assert ro.readonly is True and ro.write is False and ro.delete is False
    assert ro.read and ro.list_dir and ro.temporary == parent.temporary
    rw = storage.node("rw:").capabilities
    assert rw.write is True and rw.readonly is False and rw.delete is False


# ================================================================ permissions
LEVELS = ["readonly", "readwrite", "delete"]


@pytest.fixture
def perm(storage: StorageManager) -> StorageManager:
    """Mounts ``readonly``, ``readwrite``, ``delete`` over mem:perm (a file and a dir)."""
    storage.node("mem:perm/f.txt").write("content")
    storage.node("mem:perm/dir/inner.txt").write("inner")
    storage.configure([{"name": lvl, "path": "mem:perm", "permissions": lvl} for lvl in LEVELS])
    return storage


READ_OPERATIONS = {
    "exists": lambda n: n.exists,
    "isfile": lambda n: n.isfile,
    "isdir": lambda n: n.parent.isdir,
    "size": lambda n: n.size,
    "mtime": lambda n: n.mtime,
    "read": lambda n: n.read(),
    "read-rb": lambda n: n.read("rb"),
    "open-r": lambda n: n.open("r").close(),
    "open-rb": lambda n: n.open("rb").close(),
    "children": lambda n: n.parent.children(),
    "md5hash": lambda n: n.md5hash,
    "get_metadata": lambda n: n.get_metadata(),
    "versions": lambda n: n.versions,
    "version_count": lambda n: n.version_count,
    "url": lambda n: n.url(),
    "internal_url": lambda n: n.internal_url(),
    "local_path-r": lambda n: n.local_path("r").__enter__(),
    "copy-source": lambda n: n.copy_to(f"mem:copies/{uuid.uuid4().hex}"),
    "to_base64": lambda n: n.to_base64(),
    "zip": lambda n: n.zip(),
}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("operation", list(READ_OPERATIONS))
def test_read_operations_are_allowed_at_every_level(
    perm: StorageManager, level: str, operation: str
) -> None:
    READ_OPERATIONS[operation](perm.node(f"{level}:f.txt"))


WRITE_OPERATIONS = {
    "write": lambda n: n.write("new"),
    "write-wb": lambda n: n.write(b"new", "wb"),
    "write-nested": lambda n: n.parent.child("a/b/c.txt").write("new"),
    "mkdir": lambda n: n.parent.child("newdir").mkdir(),
    "local_path-w": lambda n: n.local_path("w").__enter__(),
    "local_path-rw": lambda n: n.local_path("rw").__enter__(),
    "call-argument": lambda n: n.call("true", n),
    "copy-destination": lambda n: n._manager.node("mem:perm/f.txt").copy_to(n),
    "tree-copy-destination": lambda n: n._manager.node("mem:perm/dir").copy_to(n.parent),
    "fill-skip-unchanged-different": lambda n: n.write("different", skip_if_unchanged=True),
}
WRITE_MODES = ["w", "wb", "a", "ab", "r+", "rb+", "w+", "wb+", "a+", "ab+"]


@pytest.mark.parametrize("operation", list(WRITE_OPERATIONS))
def test_write_operations_denied_on_readonly(perm: StorageManager, operation: str) -> None:
    with pytest.raises(StoragePermissionError, match="Mount is read-only"):
        WRITE_OPERATIONS[operation](perm.node("readonly:f.txt"))
    assert perm.node("mem:perm/f.txt").read() == "content"


@pytest.mark.parametrize("level", ["readwrite", "delete"])
@pytest.mark.parametrize("operation", list(WRITE_OPERATIONS))
def test_write_operations_allowed_with_write_permission(
    perm: StorageManager, level: str, operation: str
) -> None:
    WRITE_OPERATIONS[operation](perm.node(f"{level}:f.txt"))


@pytest.mark.parametrize("mode", [*WRITE_MODES, "x", "r+b", "xb"])
def test_readonly_refuses_every_writing_open_mode(perm: StorageManager, mode: str) -> None:
    # 0.5 differs: 0.4.2 left modes outside its list ('x', 'r+b'...) unchecked
    with pytest.raises(StoragePermissionError, match="Mount is read-only"):
        perm.node("readonly:new.txt").open(mode)


@pytest.mark.parametrize("mode", WRITE_MODES)
def test_write_modes_allowed_with_write_permission(storage: StorageManager, mode: str) -> None:
    # on a local parent: the memory driver itself lacks some '+' modes
    storage.configure([{"name": "lrw", "path": "home:p", "permissions": "readwrite"}])
    node = storage.node("lrw:f.txt")
    node.write("x")
    with node.open(mode) as fh:
        fh.write(b"y" if "b" in mode else "y")
    assert node.read() in ("y", "xy", "yx")


def test_set_metadata_denied_on_readonly_then_backend_decides(perm: StorageManager) -> None:
    with pytest.raises(StoragePermissionError, match="Mount is read-only"):
        perm.node("readonly:f.txt").set_metadata({"a": "b"})
    with pytest.raises(PermissionError, match="does not support metadata"):
        perm.node("readwrite:f.txt").set_metadata({"a": "b"})


DELETE_OPERATIONS = {
    "delete-file": lambda n: n.delete(),
    "delete-dir": lambda n: n.parent.child("dir").delete(),
    "delete-missing": lambda n: n.parent.child("ghost").delete(),
    "delete-version": lambda n: n._backend.delete_version(n.path, "v1"),
    "move-source": lambda n: n.move_to(f"mem:moved/{uuid.uuid4().hex}"),
}


@pytest.mark.parametrize("level", ["readonly", "readwrite"])
@pytest.mark.parametrize("operation", list(DELETE_OPERATIONS))
def test_delete_operations_need_delete_permission(
    perm: StorageManager, level: str, operation: str
) -> None:
    with pytest.raises(StoragePermissionError) as info:
        DELETE_OPERATIONS[operation](perm.node(f"{level}:f.txt"))
    assert f"does not have delete permission (current: {level})" in str(info.value)
    assert perm.node("mem:perm/f.txt").read() == "content"
    assert perm.node("mem:perm/dir/inner.txt").exists


def test_move_checks_delete_permission_before_copying(perm: StorageManager) -> None:
    # 0.5 differs: 0.4.2 copied first and left the copy behind when the delete was refused
    target = perm.node("mem:moved/never.txt")
    with pytest.raises(StoragePermissionError):
        perm.node("readwrite:f.txt").move_to(target)
    assert not target.exists


def test_delete_level_allows_everything(perm: StorageManager) -> None:
    node = perm.node("delete:f.txt")
    node.move_to("delete:g.txt")
    assert node.fullpath == "delete:g.txt" and node.read() == "content"
    node.delete()
    perm.node("delete:dir").delete()
    assert perm.node("mem:perm").children() == []


def test_readonly_skip_if_unchanged_identical_returns_false(perm: StorageManager) -> None:
    # [Q] kept: an unchanged write on a readonly mount reports False instead of raising
    assert perm.node("readonly:f.txt").write("content", skip_if_unchanged=True) is False


class _FakeReadonly(MemoryBackend):
    default_capabilities = BackendCapabilities(
        write=False, delete=False, mkdir=False, readonly=True
    )


class _FakeNoWrite(MemoryBackend):
    default_capabilities = BackendCapabilities(write=False, delete=False)


class _FakeNoDelete(MemoryBackend):
    default_capabilities = BackendCapabilities(delete=False)


@pytest.mark.parametrize(
    ("cls", "level", "fragments"),
    [
        (_FakeReadonly, "readwrite", ["read-only", "'fake'", "readwrite"]),
        (_FakeReadonly, "delete", ["read-only", "'fake'", "delete"]),
        (_FakeNoWrite, "readwrite", ["does not support write operations", "'fake'"]),
        (_FakeNoDelete, "delete", ["does not support delete operations", "'fake'"]),
    ],
)
def test_configure_time_permission_checks(
    monkeypatch: pytest.MonkeyPatch, cls: type, level: str, fragments: list[str]
) -> None:
    import genro_storage.manager as manager_module

    monkeypatch.setattr(
        manager_module, "create_backend", lambda options, name: cls(f"f-{uuid.uuid4().hex}", name)
    )
    with pytest.raises(StorageConfigError) as info:
        StorageManager().configure([{"name": "fake", "type": "memory", "permissions": level}])
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("cls", "accepted"),
    [(_FakeReadonly, ["readonly"]), (_FakeNoDelete, ["readonly", "readwrite"])],
)
def test_configure_time_permission_checks_accept_what_fits(
    monkeypatch: pytest.MonkeyPatch, cls: type, accepted: list[str]
) -> None:
    import genro_storage.manager as manager_module

    monkeypatch.setattr(
        manager_module, "create_backend", lambda options, name: cls(f"f-{uuid.uuid4().hex}", name)
    )
    for level in accepted:
        StorageManager().configure([{"name": "fake", "type": "memory", "permissions": level}])


@pytest.mark.parametrize(
    ("level", "ok"), [("readonly", True), ("readwrite", True), ("delete", False)]
)
def test_base64_permission_levels(level: str, ok: bool) -> None:
    # 0.5 differs: base64 reports writable, so it accepts 'readwrite' (0.4.2: 'readonly' only)
    storage = StorageManager()
    entry = {"name": "b", "type": "base64", "permissions": level}
    if ok:
        storage.configure([entry])
    else:
        with pytest.raises(StorageConfigError, match="does not support delete operations"):
            storage.configure([entry])


def test_permissions_key_without_it_there_is_no_layer(tmp_path: Path) -> None:
    storage = StorageManager()
    storage.configure(
        [
            {"name": "plain", "type": "local", "path": str(tmp_path)},
            {"name": "wrapped", "type": "local", "path": str(tmp_path), "permissions": "delete"},
        ]
    )
    assert isinstance(storage._mounts["plain"], LocalStorage)
    assert not isinstance(storage._mounts["wrapped"], LocalStorage)
    storage.node("wrapped:f").write("x")
    storage.node("wrapped:f").delete()


# ================================================================ callable paths
def test_callable_path_called_on_every_operation(tmp_path: Path) -> None:
    calls: list[int] = []

    def root() -> str:
        calls.append(1)
        return str(tmp_path / "root")

    storage = StorageManager()
    storage.configure([{"name": "u", "type": "local", "path": root}])
    assert calls == []
    node = storage.node("u:a/b.txt")
    assert calls == []
    node.write("x")  # the root does not exist yet: writes create it
    after_write = len(calls)
    assert after_write >= 1
    assert node.read() == "x"
    assert len(calls) > after_write


def test_callable_result_not_checked_for_existence(tmp_path: Path) -> None:
    storage = StorageManager()
    storage.configure([{"name": "u", "type": "local", "path": lambda: tmp_path / "missing"}])
    node = storage.node("u:f.txt")
    assert node.exists is False
    with pytest.raises(FileNotFoundError):
        node.read()


def test_callable_base_path_is_a_resolved_path(tmp_path: Path) -> None:
    storage = StorageManager()
    storage.configure([{"name": "u", "type": "local", "path": lambda: str(tmp_path / "x" / "..")}])
    base = storage.node("u:")._backend.base_path  # type: ignore[union-attr]
    assert isinstance(base, Path) and base == tmp_path.resolve()


# ================================================================ node()
@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("home:./a/./b.txt",), "./a/./b.txt"),  # '.' segments kept as-is [Q]
        (("home:with space/é ü.txt",), "with space/é ü.txt"),
        (("home:a", "b/c", "d"), "a/b/c/d"),
        (("home:", "", "x"), "x"),
        (("home:/lead/", "/x/"), "lead/x"),
        (("home",), ""),
    ],
)
def test_node_path_joining(storage: StorageManager, args: tuple[str, ...], path: str) -> None:
    node = storage.node(*args)
    assert node.path == path
    assert node.fullpath == f"home:{path}"


@pytest.mark.parametrize(
    "args", [("home:..",), ("home:a/..",), ("home", "a", "..", "b"), ("home:a", "../b")]
)
def test_dotdot_anywhere_is_refused(storage: StorageManager, args: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match=r"Parent directory traversal \(\.\.\) is not supported"):
        storage.node(*args)


def test_node_split_at_first_colon(storage: StorageManager) -> None:
    node = storage.node("home:b:c")
    assert node._mount_name == "home" and node.path == "b:c"


def test_unknown_mount_message(storage: StorageManager) -> None:
    with pytest.raises(StorageNotFoundError) as info:
        storage.node("nope", "x")
    assert str(info.value) == "Mount point 'nope' not found. Available mounts: home, mem, data"


def test_version_is_keyword_only(storage: StorageManager) -> None:
    with pytest.raises(TypeError):
        storage.node("mem:f", 1)  # type: ignore[arg-type]
    node = storage.node("mem:f", version=-1)
    assert isinstance(node, StorageNode) and node.fullpath == "mem:f"


def test_node_without_arguments_is_the_dummy_node(storage: StorageManager) -> None:
    dummy = storage.node()
    assert isinstance(dummy, StorageNode)
    assert dummy.fullpath == "None:" and dummy.path is None
