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


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_list_page_on_object_stores_one_request_per_page(kind: str) -> None:
    """S3 (continuation token), GCS (page token; emulators repeat folders on each page) and
    Azure (continuation marker; Azurite lists a page's folders first)."""
    from tests.remote import add_remote_mount

    storage = StorageManager()
    add_remote_mount(storage, kind, "store")
    for i in range(7):
        storage.node(f"store:dir/f{i}.txt").write_text("x" * i)
    storage.node("store:dir/sub/inner.txt").write_text("x")
    storage.node("store:dir/zed/inner.txt").write_text("x")
    found = pages(storage, "store", "dir", 3)
    flat = [name for page in found for name in page]
    expected = [*(f"f{i}.txt" for i in range(7)), "sub", "zed"]
    if kind == "s3":
        assert flat == expected
    elif kind == "azure":
        assert sorted(flat) == expected and len(flat) == len(expected)
    else:  # fake-gcs-server lists every folder on every page: each one is kept once
        assert sorted(flat) == expected
    files_per_page = [sum(n.endswith(".txt") for n in page) for page in found]
    assert max(files_per_page) <= 3 and len(found) >= 3  # fake-gcs counts files only
    first, _ = storage.get_backend("store").list_page("dir", None, 100)
    sizes = {e.name: (e.is_dir, e.size) for e in first}
    assert sizes["f5.txt"] == (False, 5) and sizes["sub"] == (True, 0)
    assert all(e.mtime for e in first if not e.is_dir)
    with pytest.raises(FileNotFoundError):
        storage.get_backend("store").list_page("missing")
    storage.close()
