"""0.4.2 compatibility, docs/file-operations.md: metadata and URLs on the embedded backends."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from genro_storage import StorageManager, StorageNode


def test_signatures() -> None:
    def params(name: str) -> dict[str, Any]:
        return {
            n: p.default
            for n, p in inspect.signature(getattr(StorageNode, name)).parameters.items()
            if n != "self"
        }

    assert params("get_metadata") == {}
    assert list(params("set_metadata")) == ["metadata"]
    url = inspect.signature(StorageNode.url).parameters
    assert url["expires_in"].default == 3600
    assert url["kwargs"].kind is inspect.Parameter.VAR_KEYWORD
    assert params("internal_url") == {"nocache": False}


def test_get_metadata_on_local_is_empty_even_when_missing(storage: StorageManager) -> None:
    assert storage.node("home:missing.txt").get_metadata() == {}
    storage.node("home:f.txt").write("x")
    assert storage.node("home:f.txt").get_metadata() == {}


def test_get_metadata_on_memory(storage: StorageManager) -> None:
    storage.node("mem:f.txt").write("x")
    assert storage.node("mem:f.txt").get_metadata() == {}
    with pytest.raises(FileNotFoundError):
        storage.node("mem:missing.txt").get_metadata()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("home:f.txt", "LocalStorage does not support metadata operations"),
        ("data:eA==", "Base64Backend does not support metadata operations"),
        ("mem:f.txt", "memory backend does not support metadata operations"),
    ],
)
def test_set_metadata_is_refused(storage: StorageManager, path: str, message: str) -> None:
    storage.node("home:f.txt").write("x")
    storage.node("mem:f.txt").write("x")
    with pytest.raises(PermissionError, match=message):
        storage.node(path).set_metadata({"owner": "me"})


def test_set_metadata_on_memory_checks_the_file_then_the_value(storage: StorageManager) -> None:
    with pytest.raises(FileNotFoundError):
        storage.node("mem:missing.txt").set_metadata({"a": "b"})
    storage.node("mem:f.txt").write("x")
    for bad in (["a", "b"], {"a": 1}, {2: "b"}):
        with pytest.raises(ValueError):
            storage.node("mem:f.txt").set_metadata(bad)  # type: ignore[arg-type]


def test_set_metadata_on_local_ignores_the_file(storage: StorageManager) -> None:
    with pytest.raises(PermissionError, match="LocalStorage does not support metadata"):
        storage.node("home:missing.txt").set_metadata({"a": "b"})


@pytest.mark.parametrize("path", ["home:f.txt", "mem:f.txt", "data:eA==", "home:missing"])
def test_urls_are_none(storage: StorageManager, path: str) -> None:
    storage.node("home:f.txt").write("x")
    storage.node("mem:f.txt").write("x")
    node = storage.node(path)
    assert node.url() is None
    assert node.url(expires_in=60, response_content_type="text/plain") is None
    assert node.internal_url() is None and node.internal_url(nocache=True) is None


def test_urls_through_a_relative_mount(storage: StorageManager) -> None:
    storage.node("mem:p/f.txt").write("x")
    storage.configure([{"name": "ro", "path": "mem:p", "permissions": "readonly"}])
    assert storage.node("ro:f.txt").url() is None
    assert storage.node("ro:f.txt").get_metadata() == {}
