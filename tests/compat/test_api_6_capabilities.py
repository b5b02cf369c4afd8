"""0.4.2 compatibility, docs/backends.md (Capabilities):
BackendCapabilities (fields, defaults, dataclass behaviour, labels, and
the values reported by the embedded backends)."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from genro_storage import StorageManager
from genro_storage.capabilities import BackendCapabilities

DEFAULTS = {
    "read": True,
    "write": True,
    "delete": True,
    "mkdir": True,
    "list_dir": True,
    "versioning": False,
    "version_listing": False,
    "version_access": False,
    "metadata": False,
    "presigned_urls": False,
    "public_urls": False,
    "atomic_operations": True,
    "symbolic_links": False,
    "copy_optimization": False,
    "hash_on_metadata": False,
    "append_mode": True,
    "seek_support": True,
    "readonly": False,
    "temporary": False,
}

LABELS = [
    ("versioning", "versioning"),
    ("metadata", "metadata"),
    ("presigned_urls", "presigned URLs"),
    ("copy_optimization", "server-side copy"),
    ("hash_on_metadata", "fast hashing"),
    ("symbolic_links", "symbolic links"),
    ("readonly", "read-only"),
    ("temporary", "temporary storage"),
]


def differences(caps: BackendCapabilities) -> dict[str, bool]:
    return {k: v for k, v in dataclasses.asdict(caps).items() if DEFAULTS[k] != v}


def test_fields_and_defaults() -> None:
    assert dataclasses.is_dataclass(BackendCapabilities)
    fields = dataclasses.fields(BackendCapabilities)
    assert {f.name: f.default for f in fields} == DEFAULTS
    assert [f.name for f in fields] == list(DEFAULTS)
    assert all(isinstance(v, bool) for v in dataclasses.asdict(BackendCapabilities()).values())


def test_frozen_and_keyword_constructible() -> None:
    caps = BackendCapabilities(write=False, temporary=True)
    assert caps.write is False and caps.temporary is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        caps.write = True  # type: ignore[misc]


def test_eq_hash_repr() -> None:
    a, b = BackendCapabilities(metadata=True), BackendCapabilities(metadata=True)
    assert a == b and hash(a) == hash(b) and len({a, b, BackendCapabilities()}) == 2
    text = repr(BackendCapabilities())
    assert text.startswith("BackendCapabilities(read=True, write=True, delete=True")
    assert text.endswith("readonly=False, temporary=False)")


def test_str_with_no_label() -> None:
    assert str(BackendCapabilities()) == "basic file operations"
    assert str(BackendCapabilities(write=False, public_urls=True)) == "basic file operations"


def test_str_lists_every_label_in_order() -> None:
    caps = BackendCapabilities(**{name: True for name, _ in LABELS})
    assert str(caps) == ", ".join(label for _, label in LABELS)


@pytest.mark.parametrize(("name", "label"), LABELS)
def test_str_single_label(name: str, label: str) -> None:
    assert str(BackendCapabilities(**{name: True})) == label


# ================================================================ values per backend
def test_local(storage: StorageManager) -> None:
    expected = {"copy_optimization": True}
    if sys.platform != "win32":
        expected["symbolic_links"] = True
    assert differences(storage.node("home:").capabilities) == expected
    assert str(storage.node("home:").capabilities) == (
        "server-side copy, symbolic links" if sys.platform != "win32" else "server-side copy"
    )


def test_memory(storage: StorageManager) -> None:
    assert differences(storage.node("mem:").capabilities) == {
        "copy_optimization": True,
        "temporary": True,
    }


def test_base64(storage: StorageManager) -> None:
    # 0.5 differs: base64 reports writable (0.4.2: write=False, readonly=True)
    assert differences(storage.node("data:").capabilities) == {
        "delete": False,
        "mkdir": False,
        "list_dir": False,
        "atomic_operations": False,
        "append_mode": False,
        "public_urls": True,
    }


@pytest.mark.parametrize("parent", ["home", "mem", "data"])
def test_relative_and_permission_wrapped(storage: StorageManager, parent: str) -> None:
    storage.configure([{"name": "rel", "path": f"{parent}:sub"}])
    assert storage.node("rel:").capabilities == storage.node(f"{parent}:").capabilities
    storage.configure([{"name": "ro", "path": f"{parent}:sub", "permissions": "readonly"}])
    readonly = storage.node("ro:").capabilities
    # 0.5 differs: a readonly mount reports readonly
    assert readonly.readonly and not readonly.write and not readonly.delete
    assert readonly.read and readonly.list_dir == storage.node(f"{parent}:").capabilities.list_dir


def test_permission_key_on_plain_mount(tmp_path: object) -> None:
    storage = StorageManager()
    storage.configure(
        [
            {"name": "d", "type": "memory", "permissions": "delete"},
            {"name": "r", "type": "memory", "permissions": "readonly"},
            {"name": "plain", "type": "memory"},
        ]
    )
    plain = storage.node("plain:").capabilities
    assert storage.node("d:").capabilities == plain
    assert storage.node("r:").capabilities.readonly is True


def test_versioned_snapshot(storage: StorageManager) -> None:
    current = storage.node("mem:f").capabilities
    snapshot = storage.node("mem:f", version=0).capabilities
    assert snapshot == dataclasses.replace(
        current, versioning=False, version_listing=False, version_access=False
    )
