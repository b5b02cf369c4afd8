"""A ZIP mount opened for writing: members written through the API, archive valid on close."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from genro_storage import StorageManager


@pytest.mark.parametrize("mode", ["w", "a"])
def test_write_and_copy_into_a_zip_then_close(tmp_path: Path, mode: str) -> None:
    archive = tmp_path / "out.zip"
    if mode == "a":
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("old.txt", "kept")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("alpha")
    storage = StorageManager()
    storage.configure(
        [
            {"name": "z", "type": "zip", "file": str(archive), "mode": mode},
            {"name": "src", "type": "local", "path": str(tmp_path / "src")},
        ]
    )
    storage.node("z:docs/readme.txt").write("hello")
    with storage.node("z:data.bin").open("wb") as fh:
        fh.write(b"\x00\x01")
    storage.node("src:a.txt").copy_to(storage.node("z:copied/a.txt"))
    storage.remove_mount("z")  # closing writes the central directory
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
        contents = {name: zf.read(name) for name in zf.namelist() if not name.endswith("/")}
    expected = {"docs/readme.txt": b"hello", "data.bin": b"\x00\x01", "copied/a.txt": b"alpha"}
    if mode == "a":
        expected["old.txt"] = b"kept"
    assert contents == expected


def test_a_read_only_zip_refuses_writes(tmp_path: Path) -> None:
    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "x")
    storage = StorageManager()
    storage.configure([{"name": "z", "type": "zip", "file": str(archive)}])
    with pytest.raises(PermissionError):
        storage.node("z:b.txt").write("y")
    assert storage.node("z:a.txt").read() == "x"
