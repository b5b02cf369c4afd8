"""The publish-on-close writer: bounded temporary names, finalizers that never publish."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from genro_storage.backends._publish import (
    LOCAL_TEMP_SUFFIX,
    NAME_MAX,
    REMOTE_TEMP_SUFFIX,
    PublishOnClose,
    is_temp_name,
    open_local_writer,
    temp_name,
)


@pytest.mark.parametrize("name", ["a.txt", "n" * 255, "\u00e9" * 127, "\u65e5" * 85])
@pytest.mark.parametrize("suffix", [LOCAL_TEMP_SUFFIX, REMOTE_TEMP_SUFFIX])
def test_temp_names_fit_in_name_max_and_are_recognised(name: str, suffix: str) -> None:
    temp = temp_name(name, suffix)
    assert len(temp.encode()) <= NAME_MAX
    assert temp.startswith(".") and temp.endswith(suffix)
    assert is_temp_name(temp, suffix)
    assert temp != temp_name(name, suffix)  # unique


@pytest.mark.parametrize("name", [".notes.tmp", ".a.b.tmp", "a.0123456789ab.tmp", ".x.part"])
def test_user_files_are_not_taken_for_temp_files(name: str) -> None:
    assert not is_temp_name(name, LOCAL_TEMP_SUFFIX)


def test_a_255_byte_name_is_writable_on_local_disk(tmp_path: Path) -> None:
    target = tmp_path / ("x" * 251 + ".txt")
    with open_local_writer(target) as fh:
        fh.write(b"long")
    assert target.read_bytes() == b"long"


def test_a_writer_whose_init_failed_has_a_quiet_finalizer() -> None:
    # 0.4.x's AtomicWriter.__del__ recursed without end here (RecursionError on stderr)
    half = PublishOnClose.__new__(PublishOnClose)
    del half
    gc.collect()
    with pytest.raises(FileNotFoundError):
        open_local_writer(Path("/nonexistent-dir/x/file.txt"))
    gc.collect()


def test_an_unclosed_local_writer_is_discarded_with_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    fh = open_local_writer(target, "w")
    fh.write("new")
    with pytest.warns(ResourceWarning, match="discarded"):
        del fh
        gc.collect()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


# ---------------------------------------------------------------- permission bits, umask
def _every_local_writer(root: Path) -> dict[str, Path]:
    """Each way a local file is written, onto ``root/<way>.txt``; returns what was written."""
    from genro_storage import StorageManager
    from genro_storage.backends._publish import receive_local

    manager = StorageManager(env=False)
    manager.configure([{"name": "m", "type": "local", "path": str(root)}])
    manager.node("m:write_bytes.txt").write_bytes(b"x")
    manager.node("m:sub/write_bytes_walk.txt").write_bytes(b"x")
    manager.node("m:write_stream.txt").write_stream([b"x"])
    with manager.node("m:open.txt").open("wb") as fh:
        fh.write(b"x")
    manager.get_backend("m").save_stream("exclusive.txt", [b"x"], exclusive=True)
    receive_local(root / "received.txt", lambda tmp: Path(tmp).write_bytes(b"x"))
    manager.node("m:write_bytes.txt").copy_to("m:copied.txt")
    names = (
        "write_bytes.txt",
        "sub/write_bytes_walk.txt",
        "write_stream.txt",
        "open.txt",
        "exclusive.txt",
        "received.txt",
        "copied.txt",
    )
    return {name: root / name for name in names}


def test_new_local_files_get_0666_less_the_umask_without_the_umask_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``umask(0)`` and back is not thread-safe (a folder another thread makes in between
    gets 0777): no writer reads the umask; ``open(2)`` applies it to the temp files."""
    import os

    old = os.umask(0o027)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(os, "umask", lambda *a: pytest.fail("the umask was read"))
            written = _every_local_writer(tmp_path)
    finally:
        os.umask(old)
    for name, path in written.items():
        assert path.read_bytes() == b"x", name
        assert oct(path.stat().st_mode & 0o777) == oct(0o640), name
    assert not [n for _, _, files in os.walk(tmp_path) for n in files if n.startswith(".")]


def test_replaced_local_files_keep_their_permission_bits(tmp_path: Path) -> None:
    import os

    from genro_storage import StorageManager

    manager = StorageManager(env=False)
    manager.configure([{"name": "m", "type": "local", "path": str(tmp_path)}])
    for way in ("write_bytes", "write_stream", "open"):
        (tmp_path / f"{way}.txt").write_text("old")
        os.chmod(tmp_path / f"{way}.txt", 0o604)
    manager.node("m:write_bytes.txt").write_bytes(b"new")
    manager.node("m:write_stream.txt").write_stream([b"new"])
    with manager.node("m:open.txt").open("wb") as fh:
        fh.write(b"new")
    for way in ("write_bytes", "write_stream", "open"):
        assert (tmp_path / f"{way}.txt").read_text() == "new"
        assert oct((tmp_path / f"{way}.txt").stat().st_mode & 0o777) == oct(0o604)


def test_the_umask_is_read_without_changing_it() -> None:
    import os

    from genro_storage.backends._publish import process_umask

    old = os.umask(0o037)
    try:
        assert process_umask() == 0o037
    finally:
        os.umask(old)
