"""0.4.2 compatibility, docs/file-operations.md:
content helpers (md5hash, to_base64, fill_from_url)."""

from __future__ import annotations

import base64
import hashlib
import inspect
import urllib.error
from typing import Any
from unittest import mock

import pytest

from genro_storage import StorageManager, StorageNode

MOUNTS = ["home", "mem"]


@pytest.fixture(params=MOUNTS)
def root(request: pytest.FixtureRequest, storage: StorageManager) -> StorageNode:
    return storage.node(f"{request.param}:")


# ================================================================ md5hash
def test_md5hash_is_a_lowercase_hex_property(root: StorageNode) -> None:
    node = root.child("h.bin")
    data = bytes(range(256)) * 700  # more than one 64 KiB block
    node.write(data, "wb")
    digest = node.md5hash
    assert digest == hashlib.md5(data).hexdigest() == node.md5hash
    assert len(digest) == 32 and digest == digest.lower()


def test_md5hash_errors(root: StorageNode) -> None:
    with pytest.raises(FileNotFoundError):
        _ = root.child("ghost").md5hash
    root.child("d/f").write("x")
    with pytest.raises(ValueError, match=f"Cannot compute hash of directory: {root.fullpath}d"):
        _ = root.child("d").md5hash


def test_md5hash_prefers_a_stored_hash_lowercased(
    root: StorageNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = root.child("stored.txt")
    node.write("content")
    monkeypatch.setattr(node._backend, "get_hash", lambda path: "ABCDEF0123456789ABCDEF0123456789")

    def no_download(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a stored hash must not download the file")

    monkeypatch.setattr(node._backend, "iter_bytes", no_download)
    assert node.md5hash == "abcdef0123456789abcdef0123456789"


def test_md5hash_of_base64_is_md5_of_decoded_bytes(storage: StorageManager) -> None:
    payload = base64.b64encode(b"decoded bytes").decode()
    assert storage.node(f"data:{payload}").md5hash == hashlib.md5(b"decoded bytes").hexdigest()


# ================================================================ to_base64
def test_to_base64_signature() -> None:
    params = inspect.signature(StorageNode.to_base64).parameters
    assert params["mime"].default is None and params["include_uri"].default is True


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("a.txt", "text/plain"),
        ("A.PNG", "image/png"),
        ("x.json", "application/json"),
        ("noext", "application/octet-stream"),
        ("x.zzz", "application/octet-stream"),
    ],
)
def test_to_base64_data_uri(root: StorageNode, name: str, mime: str) -> None:
    data = b"\xfb\xff\xfe binary ?>"  # standard alphabet: '+' and '/'
    node = root.child(name)
    node.write(data, "wb")
    encoded = base64.b64encode(data).decode()
    assert "+" in encoded or "/" in encoded
    assert node.to_base64() == f"data:{mime};base64,{encoded}"
    assert node.to_base64(include_uri=False) == encoded
    assert node.to_base64("x/custom") == f"data:x/custom;base64,{encoded}"


def test_to_base64_errors(root: StorageNode) -> None:
    with pytest.raises(FileNotFoundError):
        root.child("missing.txt").to_base64()
    root.child("d/f").write("x")
    with pytest.raises(ValueError, match="Cannot encode directory as base64"):
        root.child("d").to_base64()


def test_to_base64_of_empty_file(root: StorageNode) -> None:
    root.child("e.txt").write("")
    assert root.child("e.txt").to_base64() == "data:text/plain;base64,"


# ================================================================ fill_from_url
def test_fill_from_url_signature() -> None:
    params = inspect.signature(StorageNode.fill_from_url).parameters
    assert list(params)[1:] == ["url", "timeout"] and params["timeout"].default == 30


@pytest.mark.parametrize("url", ["ftp://h/x", "file:///etc/passwd", "www.example.com", ""])
def test_fill_from_url_refuses_other_schemes(root: StorageNode, url: str) -> None:
    with (
        mock.patch("urllib.request.urlopen") as urlopen,
        pytest.raises(ValueError, match="Invalid URL: "),
    ):
        root.child("x").fill_from_url(url)
    urlopen.assert_not_called()


def test_fill_from_url_with_a_plain_mock(root: StorageNode) -> None:
    """The usual test double: ``urlopen.return_value.read.return_value = data``."""
    node = root.child("dl/a/file.bin")
    node.write(b"previous", "wb")
    with mock.patch("urllib.request.urlopen") as urlopen:
        urlopen.return_value.read.return_value = b"downloaded"
        assert node.fill_from_url("https://example.com/f", timeout=7) is None
    urlopen.assert_called_once_with("https://example.com/f", timeout=7)
    assert node.read("rb") == b"downloaded"


def test_fill_from_url_with_a_context_manager_mock(root: StorageNode) -> None:
    """The other usual double: the body is read from ``urlopen(...).__enter__()``."""
    node = root.child("cm.bin")
    with mock.patch("urllib.request.urlopen") as urlopen:
        urlopen.return_value.__enter__.return_value.read.return_value = b"entered"
        node.fill_from_url("http://example.com/f")
    urlopen.assert_called_once_with("http://example.com/f", timeout=30)
    assert node.read("rb") == b"entered"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (urllib.error.URLError("refused"), "Failed to download from http://h/x: "),
        (urllib.error.HTTPError("http://h/x", 404, "Not Found", {}, None), "Failed to download"),  # type: ignore[arg-type]
        (TimeoutError("slow"), "Error downloading from http://h/x: "),
        (ValueError("odd"), "Error downloading from http://h/x: "),
    ],
)
def test_fill_from_url_errors_are_io_errors(
    root: StorageNode, error: Exception, message: str
) -> None:
    node = root.child("keep.txt")
    node.write("previous")
    with (
        mock.patch("urllib.request.urlopen", side_effect=error),
        pytest.raises(IOError, match=message),
    ):
        node.fill_from_url("http://h/x")
    assert node.read() == "previous"


def test_fill_from_url_read_failure_keeps_previous_content(root: StorageNode) -> None:
    node = root.child("keep.bin")
    node.write(b"previous", "wb")
    with mock.patch("urllib.request.urlopen") as urlopen:
        urlopen.return_value.read.side_effect = ConnectionResetError("dropped")
        with pytest.raises(IOError, match="Error downloading from"):
            node.fill_from_url("http://h/x")
    assert node.read("rb") == b"previous"


def test_fill_from_url_write_errors_propagate(storage: StorageManager) -> None:
    storage.configure([{"name": "ro", "path": "mem:ro", "permissions": "readonly"}])
    with mock.patch("urllib.request.urlopen") as urlopen:
        urlopen.return_value.read.return_value = b"x"
        with pytest.raises(PermissionError, match="read-only"):
            storage.node("ro:f").fill_from_url("http://h/x")
        with pytest.raises(ValueError, match="Cannot write to versioned snapshot"):
            storage.node("mem:f", version=0).fill_from_url("http://h/x")


def test_fill_from_url_into_base64_sets_the_payload(storage: StorageManager) -> None:
    node = storage.node("data:")
    with mock.patch("urllib.request.urlopen") as urlopen:
        urlopen.return_value.read.return_value = b"inline"
        node.fill_from_url("http://h/x")
    assert node.path == base64.b64encode(b"inline").decode()


def test_fill_from_url_with_a_specced_mock(root: StorageNode) -> None:
    import http.client

    node = root.child("spec.bin")
    response = mock.MagicMock(spec=http.client.HTTPResponse)
    response.read.return_value = b"specced"
    with mock.patch("urllib.request.urlopen", return_value=response):
        node.fill_from_url("http://h/x")
    assert node.read("rb") == b"specced"
