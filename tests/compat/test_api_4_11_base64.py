"""0.4.2 compatibility, docs/backends.md (base64): base64 nodes (the path is the payload)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from unittest import mock

import pytest

from genro_storage import StorageManager


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "path",
    [" aGVsbG8= ", "aGVs\nbG8=", "aG Vs bG8=", "\taGVsbG8=\n", "aGVs\r\nbG8="],
)
def test_whitespace_is_removed_before_decoding(storage: StorageManager, path: str) -> None:
    assert storage.node(f"data:{path}").read() == "hello"


@pytest.mark.parametrize("payload", ["aGVsbG8", "aGVs*G8=", "aGVsbG8-", "a_8=", "===="])
def test_strict_decoding(storage: StorageManager, payload: str) -> None:
    node = storage.node(f"data:{payload}")
    assert node.exists is False and node.isfile is False and node.isdir is False
    with pytest.raises(FileNotFoundError, match="Invalid base64 data: "):
        node.read()


def test_empty_path(storage: StorageManager) -> None:
    node = storage.node("data:")
    assert node.exists is False
    with pytest.raises(FileNotFoundError, match="Base64 path cannot be empty"):
        node.read("rb")
    with pytest.raises(FileNotFoundError, match="Base64 path cannot be empty"):
        _ = node.size


def test_state_of_a_valid_payload(storage: StorageManager) -> None:
    node = storage.node(f"data:{b64(b'twelve bytes')}")
    assert node.exists and node.isfile and not node.isdir
    assert node.size == 12
    other = storage.node(f"data:{b64(b'other')}")
    assert node.mtime == other.mtime  # the mount's creation time
    assert node.md5hash == hashlib.md5(b"twelve bytes").hexdigest()


@pytest.mark.parametrize(
    "raw",
    [b"\xfc", b"\xff\xff\xff", b"\x00\x00\x3f", b"\xfb\xef\xff\xfc\x00"],
    ids=["leading-slash", "only-slashes", "trailing-slash", "mixed"],
)
def test_payloads_with_slashes_are_kept(storage: StorageManager, raw: bytes) -> None:
    # 0.5 differs: 0.4.2's path normalisation corrupted these
    payload = b64(raw)
    assert "/" in payload
    for node in (storage.node(f"data:{payload}"), storage.node("data", payload)):
        assert node.path == payload and node.read("rb") == raw


def test_writes_replace_the_path(storage: StorageManager, home: Path) -> None:
    node = storage.node("data:")
    assert node.write("first") is True and node.path == b64(b"first")
    node.write(b"\x00\x01", "wb")
    assert node.path == "AAE=" and node.read("rb") == b"\x00\x01"
    storage.node("mem:src.txt").write("copied")
    storage.node("mem:src.txt").copy_to(node)
    assert node.path == b64(b"copied")
    storage.node("home:m.txt").write("moved")
    storage.node("home:m.txt").move_to(node)
    assert node.path == b64(b"moved") and not (home / "m.txt").exists()
    with mock.patch("urllib.request.urlopen") as urlopen:
        urlopen.return_value.read.return_value = b"downloaded"
        node.fill_from_url("http://h/x")
    assert node.path == b64(b"downloaded")


def test_write_through_permission_layers_updates_the_path(storage: StorageManager) -> None:
    # 0.5 differs: 0.4.2 did not update the path through a permission/relative wrapper
    storage.configure(
        [
            {"name": "rw64", "type": "base64", "permissions": "readwrite"},
            {"name": "rel64", "path": "data:", "permissions": "readwrite"},
        ]
    )
    for mount in ("rw64", "rel64"):
        node = storage.node(f"{mount}:")
        node.write("wrapped")
        assert node.path == b64(b"wrapped") and node.read() == "wrapped"


def test_readonly_base64_mount(storage: StorageManager) -> None:
    storage.configure([{"name": "ro64", "type": "base64", "permissions": "readonly"}])
    node = storage.node(f"ro64:{b64(b'x')}")
    assert node.read() == "x"
    with pytest.raises(PermissionError, match="read-only"):
        node.write("y")


def test_write_mode_open_sets_the_payload(storage: StorageManager) -> None:
    # Listed deviation: 0.4.2 returned a buffer whose content was discarded [Q]
    node = storage.node("data:")
    with node.open("w") as fh:
        fh.write("via open")
    assert node.read() == "via open"


def test_refused_operations(storage: StorageManager) -> None:
    node = storage.node(f"data:{b64(b'x')}")
    with pytest.raises(PermissionError, match="read-only"):
        node.delete()
    with pytest.raises(PermissionError, match="read-only"):
        node.mkdir()
    with pytest.raises(ValueError):
        node.children()
    for mode in ("w", "rw"):
        with pytest.raises(PermissionError, match="read-only"), node.local_path(mode):
            pass
    with pytest.raises(PermissionError, match="read-only"):
        storage.node("home:x").call("true", node)
    with pytest.raises(PermissionError, match="does not support metadata"):
        node.set_metadata({"k": "v"})
    assert node.url() is None and node.internal_url() is None
    assert node.get_metadata() == {}


def test_local_path_read_has_no_extension(storage: StorageManager) -> None:
    with storage.node(f"data:{b64(b'tool')}").local_path() as local:
        assert Path(local).suffix == "" and Path(local).read_bytes() == b"tool"
    assert not Path(local).exists()


def test_capabilities_say_writable(storage: StorageManager) -> None:
    # 0.5 differs: 0.4.2 reported write=False, readonly=True although writes worked
    caps = storage.node("data:").capabilities
    assert caps.write is True and caps.readonly is False
    assert caps.read and caps.public_urls
    for flag in ("delete", "mkdir", "list_dir", "atomic_operations", "append_mode"):
        assert getattr(caps, flag) is False, flag
