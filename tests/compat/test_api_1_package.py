"""0.4.2 compatibility, docs/api.md:
the package surface (top-level names, import paths, distribution)."""

from __future__ import annotations

import importlib
import sys
import typing
from enum import Enum
from pathlib import Path

import pytest

import genro_storage

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def project_table() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads(PYPROJECT.read_text())["project"]


def test_version_is_this_projects_own_string() -> None:
    # 0.5 overrides 0.4.2's stale '0.4.0': __version__ is ours and matches the distribution
    project = project_table()
    assert isinstance(genro_storage.__version__, str)
    assert genro_storage.__version__ == project["version"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("StorageManager", type),
        ("StorageNode", type),
        ("SkipStrategy", type),
        ("StorageError", type),
        ("StorageNotFoundError", type),
        ("StoragePermissionError", type),
        ("StorageConfigError", type),
    ],
)
def test_top_level_names(name: str, kind: type) -> None:
    assert name in genro_storage.__all__
    assert isinstance(getattr(genro_storage, name), kind)


def test_skip_strategy_is_a_str_enum() -> None:
    assert issubclass(genro_storage.SkipStrategy, str)
    assert issubclass(genro_storage.SkipStrategy, Enum)


def test_async_names_exist_and_are_classes_or_none() -> None:
    manager, node = genro_storage.AsyncStorageManager, genro_storage.AsyncStorageNode
    assert (manager is None) == (node is None)
    assert manager is None or isinstance(manager, type)


def test_async_names_are_none_without_asyncer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The import never fails: without 'asyncer' both async names are None."""
    monkeypatch.setitem(sys.modules, "asyncer", None)
    saved = {k: v for k, v in sys.modules.items() if k.startswith("genro_storage")}
    for key in saved:
        monkeypatch.delitem(sys.modules, key)
    try:
        fresh = importlib.import_module("genro_storage")
        assert fresh.AsyncStorageManager is None and fresh.AsyncStorageNode is None
        assert fresh.StorageManager is not None
    finally:
        for key in [k for k in sys.modules if k.startswith("genro_storage")]:
            del sys.modules[key]
        sys.modules.update(saved)


def test_capabilities_is_not_re_exported_at_top_level() -> None:
    from genro_storage.capabilities import BackendCapabilities

    assert isinstance(BackendCapabilities, type)
    assert "BackendCapabilities" not in genro_storage.__all__


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            "genro_storage.exceptions",
            [
                "StorageError",
                "StorageNotFoundError",
                "StoragePermissionError",
                "StorageConfigError",
            ],
        ),
        ("genro_storage.capabilities", ["BackendCapabilities"]),
        ("genro_storage.node", ["StorageNode", "SkipStrategy"]),
        ("genro_storage.manager", ["StorageManager"]),
        (
            "genro_storage.backends",
            ["StorageBackend", "LocalStorage", "Base64Backend", "RelativeMountBackend"],
        ),
        ("genro_storage.backends.fsspec", ["FsspecBackend"]),
        ("genro_storage.backends.base64", ["Base64Backend"]),
        ("genro_storage.backends.relative", ["RelativeMountBackend", "PermissionLevel"]),
    ],
)
def test_importable_modules(module: str, names: list[str]) -> None:
    loaded = importlib.import_module(module)
    for name in names:
        assert hasattr(loaded, name), f"{module}.{name}"


def test_same_objects_through_every_import_path() -> None:
    from genro_storage import exceptions, manager, node

    assert exceptions.StorageError is genro_storage.StorageError
    assert exceptions.StorageNotFoundError is genro_storage.StorageNotFoundError
    assert node.StorageNode is genro_storage.StorageNode
    assert node.SkipStrategy is genro_storage.SkipStrategy
    assert manager.StorageManager is genro_storage.StorageManager


def test_base64_backend_takes_no_arguments() -> None:
    from genro_storage.backends.base64 import Base64Backend

    backend = Base64Backend()
    assert backend.read_bytes("aGk=") == b"hi"


def test_permission_level_literal() -> None:
    from genro_storage.backends.relative import PermissionLevel

    assert typing.get_args(PermissionLevel) == ("readonly", "readwrite", "delete")


def test_distribution_metadata() -> None:
    project = project_table()
    assert project["name"] == "genro-storage"
    assert project["requires-python"] == ">=3.9"
    deps = project["dependencies"]
    assert any(d.startswith("fsspec>=2023.1.0") for d in deps)
    assert any(d.startswith("PyYAML>=6.0") for d in deps)
    extras = project["optional-dependencies"]
    for extra in ("s3", "gcs", "azure", "http", "smb", "sftp", "webdav", "libarchive", "async"):
        assert extra in extras, extra
        assert extra in extras["all"][0], f"'all' must include {extra}"
    packages = {
        "s3": "s3fs",
        "gcs": "gcsfs",
        "azure": "adlfs",
        "http": "aiohttp",
        "smb": "smbprotocol",
        "sftp": "paramiko",
        "webdav": "webdav4",
        "libarchive": "libarchive-c",
        "async": "asyncer",
    }
    for extra, package in packages.items():
        assert any(d.startswith(package) for d in extras[extra]), (extra, package)
