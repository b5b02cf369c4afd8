"""``StorageBackend.list_page``: a folder by pages, with an opaque cursor, in name order."""

from __future__ import annotations

import pytest

from genro_storage import StorageManager


def pages(storage: StorageManager, mount: str, path: str, limit: int) -> list[list[str]]:
    backend = storage.get_backend(mount)
    out: list[list[str]] = []
    cursor = None
    while True:
        entries, cursor = backend.list_page(path, cursor, limit)
        out.append([e.name for e in entries])
        if cursor is None:
            return out


@pytest.mark.parametrize("mount", ["home", "mem"])
def test_list_page_walks_a_folder_in_name_order(storage: StorageManager, mount: str) -> None:
    for i in range(7):
        storage.node(f"{mount}:dir/f{i}.txt").write_text("x")
    storage.node(f"{mount}:dir/sub/inner.txt").write_text("x")
    assert pages(storage, mount, "dir", 3) == [
        ["f0.txt", "f1.txt", "f2.txt"],
        ["f3.txt", "f4.txt", "f5.txt"],
        ["f6.txt", "sub"],
    ]
    assert pages(storage, mount, "dir", 100) == [[*(f"f{i}.txt" for i in range(7)), "sub"]]


def test_list_page_through_a_relative_mount_keeps_mount_paths(storage: StorageManager) -> None:
    storage.node("home:docs/a.md").write_text("a")
    storage.node("home:docs/b.md").write_text("b")
    storage.configure(
        [{"name": "view", "type": "relative", "path": "home:docs", "permissions": "readonly"}]
    )
    entries, cursor = storage.get_backend("view").list_page("", None, 1)
    assert [(e.path, e.name) for e in entries] == [("a.md", "a.md")]
    rest, end = storage.get_backend("view").list_page("", cursor, 5)
    assert [e.path for e in rest] == ["b.md"] and end is None


def test_list_page_of_an_empty_folder(storage: StorageManager) -> None:
    storage.node("home:empty").mkdir()
    assert storage.get_backend("home").list_page("empty") == ([], None)
