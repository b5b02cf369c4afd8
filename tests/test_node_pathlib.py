"""Nodes as pathlib users expect: open() like builtins.open, glob, pathlib names, uri."""

from __future__ import annotations

from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.errors import StoragePermissionError

MOUNTS = ["home", "mem"]


@pytest.fixture(params=MOUNTS)
def root(request: pytest.FixtureRequest, storage: StorageManager) -> object:
    node = storage.node(f"{request.param}:")
    for rel in ("a.csv", "b.txt", "sub/c.csv", "sub/deep/d.csv", "sub/deep/e.txt"):
        node.child(rel).write_text(rel)
    return node


def test_open_takes_encoding_errors_newline(root: object) -> None:
    node = root.child("latin.txt")  # type: ignore[attr-defined]
    with node.open("w", encoding="latin-1", newline="\r\n") as fh:
        fh.write("café\nbar\n")
    assert node.read_bytes() == b"caf\xe9\r\nbar\r\n"
    with node.open("r", encoding="latin-1", newline="") as fh:
        assert fh.readline() == "café\r\n"
    with node.open(encoding="ascii", errors="replace") as fh:
        assert fh.read() == "caf\ufffd\nbar\n"
    assert node.read_text(encoding="ascii", errors="ignore") == "caf\r\nbar\r\n"


def test_open_buffering_like_builtins(root: object) -> None:
    node = root.child("buf.txt")  # type: ignore[attr-defined]
    with node.open("w", buffering=1) as fh:
        assert fh.line_buffering
        fh.write("x\n")
    with node.open("rb", buffering=0) as fh:
        assert fh.read() == b"x\n"
    with pytest.raises(ValueError, match="unbuffered text"):
        node.open("r", buffering=0)
    with pytest.raises(ValueError, match="binary mode"):
        node.open("rb", encoding="utf-8")


def test_text_write_failing_inside_with_leaves_the_old_content(root: object) -> None:
    node = root.child("keep.txt")  # type: ignore[attr-defined]
    node.write_text("old")
    with pytest.raises(RuntimeError), node.open("w", encoding="utf-8") as fh:
        fh.write("new, half written")
        raise RuntimeError("boom")
    assert node.read_text() == "old"


def test_glob_and_rglob(root: object) -> None:
    names = lambda nodes: [n.path for n in nodes]  # noqa: E731
    assert names(root.glob("*.csv")) == ["a.csv"]  # type: ignore[attr-defined]
    assert names(root.glob("sub/*.csv")) == ["sub/c.csv"]  # type: ignore[attr-defined]
    assert names(root.glob("**/*.csv")) == ["a.csv", "sub/c.csv", "sub/deep/d.csv"]  # type: ignore[attr-defined]
    assert names(root.child("sub").rglob("*.txt")) == ["sub/deep/e.txt"]  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="pattern"):
        list(root.glob(""))  # type: ignore[attr-defined]


def test_manager_glob_takes_mount_and_pattern(root: object, storage: StorageManager) -> None:
    mount = root.mount_name  # type: ignore[attr-defined]
    found = [n.fullpath for n in storage.glob(f"{mount}:sub/**/*.csv")]
    assert found == [f"{mount}:sub/c.csv", f"{mount}:sub/deep/d.csv"]
    assert storage.glob(f"{mount}:a.csv") == [storage.node(f"{mount}:a.csv")]
    assert storage.glob(f"{mount}:missing/*.csv") == []
    with pytest.raises(ValueError, match="mount:pattern"):
        storage.glob("*.csv")


def test_pathlib_names(root: object) -> None:
    node = root.child("sub/c.csv")  # type: ignore[attr-defined]
    assert node.is_file() and not node.is_dir() and node.parent.is_dir()
    assert node.name == "c.csv"
    assert node.with_suffix(".parquet").path == "sub/c.parquet"
    assert node.with_suffix("").path == "sub/c"
    assert node.with_name("x.csv").path == "sub/x.csv"
    assert root.joinpath("sub", "deep/d.csv").read_text() == "sub/deep/d.csv"  # type: ignore[attr-defined]
    assert (root / "sub" / "c.csv").path == "sub/c.csv"  # type: ignore[operator]
    assert node.stat().size == len("sub/c.csv")
    assert node.exists is True  # stays a property (0.4.2)
    with pytest.raises(ValueError):
        node.with_suffix("csv")
    with pytest.raises(ValueError):
        node.with_name("a/b")


def test_touch_unlink_rename_replace(root: object) -> None:
    new = root.child("t/new.txt")  # type: ignore[attr-defined]
    new.touch()
    assert new.read_bytes() == b""
    new.write_text("kept")
    new.touch()
    assert new.read_text() == "kept"
    with pytest.raises(FileExistsError):
        new.touch(exist_ok=False)
    moved = new.rename("t/moved.txt")
    assert moved.read_text() == "kept" and not new.exists
    root.child("t/other.txt").write_text("other")  # type: ignore[attr-defined]
    replaced = root.child("t/other.txt").replace(moved)  # type: ignore[attr-defined]
    assert replaced.read_text() == "other"
    replaced.unlink()
    assert not replaced.exists
    replaced.unlink(missing_ok=True)
    with pytest.raises(FileNotFoundError):
        replaced.unlink()
    with pytest.raises(IsADirectoryError):
        root.child("sub").unlink()  # type: ignore[attr-defined]


def test_rename_across_mounts_copies_then_deletes(storage: StorageManager) -> None:
    src = storage.node("home:x.txt")
    src.write_text("travels")
    dest = src.rename("mem:arrived/x.txt")
    assert dest.read_text() == "travels" and not src.exists


def test_readonly_mount_refuses_rename(storage: StorageManager, home: Path) -> None:
    (home / "ro").mkdir()
    (home / "ro" / "f.txt").write_text("f")
    storage.configure([{"name": "ro", "path": "home:ro", "permissions": "readonly"}])
    with pytest.raises(StoragePermissionError):
        storage.node("ro:f.txt").rename("g.txt")
    assert (home / "ro" / "f.txt").exists()
    with pytest.raises(TypeError, match=r"restricted permissions.*node\.uri"):
        open(storage.node("ro:f.txt"), "w")  # noqa: SIM115 - must fail before opening


def test_uri_and_pandas(storage: StorageManager, home: Path) -> None:
    pd = pytest.importorskip("pandas")
    local = storage.node("home:t.csv")
    local.write_text("a,b\n1,2\n")
    assert local.uri == "genro://home/t.csv"
    assert pd.read_csv(local)["b"].tolist() == [2]  # local mount: __fspath__
    remote = storage.node("mem:t.csv")
    remote.write_text("a,b\n1,2\n")
    with pytest.raises(TypeError, match=r"node\.uri.*node\.open\(\)"):
        pd.read_csv(remote)
    with remote.open("rb") as fh:
        assert pd.read_csv(fh)["a"].tolist() == [1]
    frame = pd.read_csv(remote.uri, storage_options={"config": storage.mount_configs()})
    assert frame.shape == (1, 2)


def test_fspath_of_a_local_node_is_the_real_file(storage: StorageManager, home: Path) -> None:
    import os

    node = storage.node("home:f.txt")
    node.write_text("x")
    assert os.fspath(node) == str((home / "f.txt").resolve())
    with open(node) as fh:  # builtins.open takes it as any PathLike
        assert fh.read() == "x"
