"""Base64 backend: the path is the payload; writes mutate the node's path."""

from __future__ import annotations

import base64

import pytest

from genro_storage import StorageManager
from genro_storage.backends import Base64Backend


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_read_inline_payload(storage: StorageManager) -> None:
    node = storage.node(f"data:{b64(b'Configuration data')}")
    assert node.read() == "Configuration data"
    assert node.exists and node.isfile and not node.isdir
    assert node.size == len("Configuration data")


def test_payload_with_slashes_is_never_altered(storage: StorageManager) -> None:
    raw = bytes([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])  # encodes as '////////'
    payload = b64(raw)
    assert payload == "////////"
    node = storage.node(f"data:{payload}")
    assert node.path == payload
    assert node.read_bytes() == raw


def test_whitespace_is_ignored_when_decoding(storage: StorageManager) -> None:
    assert storage.node("data: aGVs\nbG8= ").read() == "hello"


@pytest.mark.parametrize(
    ("path", "message"), [("", "cannot be empty"), ("not*base64!", "Invalid base64")]
)
def test_invalid_payloads(storage: StorageManager, path: str, message: str) -> None:
    node = storage.node(f"data:{path}")
    assert not node.exists and not node.isfile
    with pytest.raises(FileNotFoundError, match=message):
        node.read()


def test_write_mutates_path(storage: StorageManager) -> None:
    node = storage.node("data:")
    node.write("New content")
    assert node.path == "TmV3IGNvbnRlbnQ="
    node.write_bytes(b"again")
    assert node.path == b64(b"again") and node.read_bytes() == b"again"


def test_write_mode_open_updates_path(storage: StorageManager) -> None:
    node = storage.node("data:")
    with node.open("wb") as fh:
        fh.write(b"opened")
    assert node.read_bytes() == b"opened"


def test_fill_and_move_into_base64(storage: StorageManager) -> None:
    src = storage.node("mem:x.txt")
    src.write("moving")
    target = storage.node("data:")
    src.move_to(target)
    assert target.read() == "moving" and not storage.node("mem:x.txt").exists


def test_readonly_operations(storage: StorageManager) -> None:
    node = storage.node(f"data:{b64(b'x')}")
    with pytest.raises(PermissionError, match="read-only"):
        node.delete()
    with pytest.raises(PermissionError, match="read-only"):
        node.mkdir()
    with pytest.raises(ValueError, match="no directory structure"):
        node.children()
    with pytest.raises(PermissionError, match="read-only"), node.local_path(mode="rw"):
        pass
    with pytest.raises(PermissionError, match="metadata"):
        node.set_metadata({"a": "b"})
    assert node.url() is None


def test_local_path_read(storage: StorageManager) -> None:
    with storage.node(f"data:{b64(b'tool input')}").local_path() as local, open(local, "rb") as fh:
        assert fh.read() == b"tool input"


def test_md5_and_capabilities(storage: StorageManager) -> None:
    node = storage.node(f"data:{b64(b'a')}")
    assert node.md5hash == "0cc175b9c0f1b6a831c399e269772661"
    caps = node.capabilities
    assert caps.write and not caps.readonly  # writes work, so the flags say so
    assert not caps.delete and not caps.mkdir and not caps.list_dir


def test_write_through_permission_layer_updates_path() -> None:
    storage = StorageManager()
    storage.configure([{"name": "d", "type": "base64", "permissions": "readwrite"}])
    node = storage.node("d:")
    node.write("wrapped")
    assert node.read() == "wrapped"


def test_backend_takes_no_arguments() -> None:
    backend = Base64Backend()
    with pytest.raises(ValueError, match="no directory structure"):
        backend.list_dir("x")
