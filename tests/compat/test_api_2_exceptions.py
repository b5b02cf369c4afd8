"""0.4.2 compatibility, docs/api.md (Errors):
the exception tree and which exception each failure surfaces as.

Rule checked throughout: where 0.4.2 raised a builtin, we may raise a ``Storage*``
subclass of it (``except FileNotFoundError`` still catches it); where 0.4.2 raised a
``Storage*`` class, we must raise that class.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from genro_storage import (
    StorageConfigError,
    StorageError,
    StorageManager,
    StorageNotFoundError,
    StoragePermissionError,
)


def test_tree_shape() -> None:
    assert StorageError.__bases__ == (Exception,)
    assert StorageNotFoundError.__mro__[1:3] == (StorageError, FileNotFoundError)
    assert StoragePermissionError.__mro__[1:3] == (StorageError, PermissionError)
    assert StorageConfigError.__mro__[1:3] == (StorageError, ValueError)


def test_exceptions_take_a_message() -> None:
    for cls in (StorageError, StorageNotFoundError, StoragePermissionError, StorageConfigError):
        assert str(cls("boom")) == "boom"


# ---------------------------------------------------------------- Storage* classes
@pytest.mark.parametrize(
    "config",
    [
        {"type": "memory"},  # no name
        {"name": "x"},  # no type
        {"name": "x", "type": "nope"},
        {"name": "x", "type": "s3"},
        {"name": "x", "type": "memory", "permissions": "all"},
        {"name": "x", "path": "ghost:sub"},
        {"name": "x", "type": "base64", "permissions": "delete"},
    ],
)
def test_config_failures_are_storage_config_errors(config: dict) -> None:
    with pytest.raises(StorageConfigError):
        StorageManager().configure([config])


def test_config_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "m.ini"
    bad.write_text("x")
    with pytest.raises(StorageConfigError):
        StorageManager().configure(str(bad))
    broken = tmp_path / "m.json"
    broken.write_text("[")
    with pytest.raises(StorageConfigError):
        StorageManager().configure(str(broken))


def test_unknown_mount_is_storage_not_found(storage: StorageManager) -> None:
    storage.node("mem:f.txt").write("x")
    with pytest.raises(StorageNotFoundError):
        storage.node("nope:f.txt")
    with pytest.raises(StorageNotFoundError):
        storage.node("mem:f.txt").copy_to("nope:f.txt")
    with pytest.raises(StorageNotFoundError):
        storage.node("mem:f.txt").move_to("nope:f.txt")
    assert storage.node("mem:f.txt").exists  # the failed move left the source alone


def test_permission_layer_raises_storage_permission_error(storage: StorageManager) -> None:
    storage.configure(
        [
            {"name": "ro", "path": "mem:p", "permissions": "readonly"},
            {"name": "rw", "path": "mem:p", "permissions": "readwrite"},
        ]
    )
    with pytest.raises(StoragePermissionError):
        storage.node("ro:f").write("x")
    with pytest.raises(StoragePermissionError):
        storage.node("rw:f").delete()


# ---------------------------------------------------------------- builtins (or subclasses)
def test_missing_file_is_file_not_found(storage: StorageManager) -> None:
    for mount in ("home", "mem"):
        with pytest.raises(FileNotFoundError):
            storage.node(f"{mount}:ghost.txt").read()


def test_missing_config_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        StorageManager().configure(str(tmp_path / "none.yaml"))


def test_invalid_base64_is_file_not_found(storage: StorageManager) -> None:
    with pytest.raises(FileNotFoundError):
        storage.node("data:***").read()


def test_base64_refusals_are_permission_errors(storage: StorageManager) -> None:
    node = storage.node(f"data:{base64.b64encode(b'x').decode()}")
    for attempt in (node.delete, node.mkdir, lambda: node.local_path("w").__enter__()):
        with pytest.raises(PermissionError):
            attempt()


def test_unsupported_features_are_permission_errors(storage: StorageManager) -> None:
    node = storage.node("home:f.txt")
    node.write("x")
    with pytest.raises(PermissionError):
        node.set_metadata({"a": "b"})
    with pytest.raises(PermissionError):
        node.open(version=0)
    with pytest.raises(PermissionError):
        node.compact_versions()


def test_value_errors(storage: StorageManager) -> None:
    with pytest.raises(ValueError):
        storage.node("home:../x")
    with pytest.raises(ValueError):
        storage.node("home:f").read("rt")
    with pytest.raises(ValueError):
        storage.node("home:f").write("x", "a")
    storage.node("home:d/f").write("x")
    with pytest.raises(ValueError):
        _ = storage.node("home:d").size
    with pytest.raises(ValueError):
        storage.iternode().write("x")


def test_other_builtins(storage: StorageManager) -> None:
    storage.node("home:d").mkdir()
    with pytest.raises(FileExistsError):
        storage.node("home:d").mkdir()
    with pytest.raises(IsADirectoryError):
        storage.node("home:d").read()
    with pytest.raises(TypeError):
        storage.node("home:f").write(b"x", "w")
    with pytest.raises(IndexError):
        storage.node("home:f")._resolve_version_index(0)
    with pytest.raises(subprocess.CalledProcessError):
        storage.node("home:f").call(sys.executable, "-c", "raise SystemExit(1)")


def test_missing_driver_is_import_error_at_configure_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)
    with pytest.raises(ImportError):
        StorageManager().configure([{"name": "s", "type": "s3", "bucket": "b"}])
