"""Local -> local file copies: the lean route (``copy_local_file``) and its guarantees.

Content, permission bits, nanosecond times and extended attributes arrive; a failure at
any step leaves the target's old content and no temp file; symlinks never let a copy read
or write outside a mount; the fast paths fall back when the kernel declines.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.backends import _publish
from genro_storage.backends._publish import (
    LOCAL_TEMP_SUFFIX,
    copy_local_file,
    create_local_temp,
    is_temp_name,
)
from genro_storage.errors import PathTraversalError, StorageIsADirectoryError
from tests._procs import open_fds
from tests._tree_state import tree_state


def _xattrs_supported(folder: Path) -> bool:
    probe = folder / ".xattr-probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.probe", b"1")
    except OSError:
        return False
    finally:
        probe.unlink()
    return True


def test_copy_keeps_content_mode_and_nanosecond_times(tmp_path: Path) -> None:
    src, dest = tmp_path / "src.bin", tmp_path / "dest.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one copy_file_range chunk
    src.write_bytes(data)
    os.chmod(src, 0o640)
    os.utime(src, ns=(1_500_000_000_123_456_789, 1_600_000_000_987_654_321))
    copy_local_file(str(src), str(dest))
    st = dest.stat()  # before reading it: a read may move the access time
    assert st.st_mode & 0o7777 == 0o640
    assert st.st_mtime_ns == 1_600_000_000_987_654_321
    assert st.st_atime_ns == 1_500_000_000_123_456_789
    assert dest.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest.bin", "src.bin"]


@pytest.mark.skipif(not hasattr(os, "setxattr"), reason="no extended attributes here")
def test_copy_keeps_extended_attributes(tmp_path: Path) -> None:
    if not _xattrs_supported(tmp_path):
        pytest.skip("this filesystem takes no user xattrs")
    src, dest = tmp_path / "src.txt", tmp_path / "dest.txt"
    src.write_text("x")
    os.setxattr(src, "user.origin", b"camera-7")
    copy_local_file(str(src), str(dest))
    assert os.getxattr(dest, "user.origin") == b"camera-7"


def test_copy_onto_an_existing_file_replaces_it_and_its_mode(tmp_path: Path) -> None:
    src, dest = tmp_path / "src.txt", tmp_path / "dest.txt"
    src.write_text("new")
    os.chmod(src, 0o600)
    dest.write_text("old, and longer than the new content")
    os.chmod(dest, 0o644)
    copy_local_file(str(src), str(dest))
    assert dest.read_text() == "new"
    assert dest.stat().st_mode & 0o777 == 0o600


def test_an_empty_file_is_copied(tmp_path: Path) -> None:
    src, dest = tmp_path / "empty", tmp_path / "copy"
    src.write_bytes(b"")
    copy_local_file(str(src), str(dest))
    assert dest.read_bytes() == b""


def test_a_failed_copy_leaves_the_old_content_and_no_temp_file(tmp_path: Path) -> None:
    folder = tmp_path / "a-directory"
    folder.mkdir()
    dest = tmp_path / "dest.txt"
    dest.write_text("old")
    with pytest.raises(IsADirectoryError):  # read(2) of a directory fails mid-copy
        copy_local_file(str(folder), str(dest))
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-directory", "dest.txt"]


@pytest.mark.parametrize("code", [errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP])
def test_copy_falls_back_to_read_and_write_when_the_kernel_declines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    calls: list[int] = []

    def declined(*args: object) -> int:
        calls.append(code)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "copy_file_range", declined, raising=False)
    monkeypatch.setattr(_publish, "_copy_range_works", True)
    src, dest = tmp_path / "src.bin", tmp_path / "dest.bin"
    data = os.urandom(2 * 1024 * 1024 + 5)
    src.write_bytes(data)
    copy_local_file(str(src), str(dest))
    copy_local_file(str(src), str(tmp_path / "again.bin"))
    assert dest.read_bytes() == data == (tmp_path / "again.bin").read_bytes()
    # ENOSYS means "never here": asked once per process, not once per file
    assert len(calls) == (1 if code == errno.ENOSYS else 2)


def test_copy_starts_over_when_the_kernel_declines_part_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.copy_file_range
    calls = [0]

    def half_then_declined(src: int, dst: int, count: int, *args: object) -> int:
        calls[0] += 1
        if calls[0] == 1:
            return real(src, dst, min(count, 1000))
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", half_then_declined)
    src, dest = tmp_path / "src.bin", tmp_path / "dest.bin"
    data = os.urandom(5000)
    src.write_bytes(data)
    copy_local_file(str(src), str(dest))
    assert dest.read_bytes() == data


def test_short_kernel_copies_are_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.copy_file_range
    monkeypatch.setattr(os, "copy_file_range", lambda s, d, count, *a: real(s, d, min(count, 4096)))
    src, dest = tmp_path / "src.bin", tmp_path / "dest.bin"
    data = os.urandom(50_000)
    src.write_bytes(data)
    copy_local_file(str(src), str(dest))
    assert dest.read_bytes() == data


def test_local_temp_names_are_cleanup_names_and_clashes_take_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file.txt"
    fd, first = create_local_temp(target)
    os.close(fd)
    assert is_temp_name(os.path.basename(first), LOCAL_TEMP_SUFFIX)
    assert os.path.dirname(first) == str(tmp_path)
    # another process with the same prefix and counter: O_EXCL refuses, a random tag wins
    tag = os.path.basename(first)[len(".file.txt.") : -len(LOCAL_TEMP_SUFFIX)]
    monkeypatch.setattr(_publish, "_TAG_PREFIX", tag[:6])
    monkeypatch.setattr(_publish, "_TAG_COUNTER", iter([int(tag[6:], 16)]))
    fd, second = create_local_temp(target)
    os.close(fd)
    assert second != first and is_temp_name(os.path.basename(second), LOCAL_TEMP_SUFFIX)


def test_a_forked_process_gets_its_own_temp_name_prefix() -> None:
    before = _publish._TAG_PREFIX
    _publish._new_process_tags()  # what os.register_at_fork runs in the child
    try:
        assert len(_publish._TAG_PREFIX) == 6
        assert before != _publish._TAG_PREFIX  # (1 in 16 million to fail by chance)
        assert next(_publish._TAG_COUNTER) == 0
    finally:
        _publish._TAG_PREFIX = before


# ------------------------------------------------------------------ through the mounts


def test_tree_copy_local_to_local_keeps_times_modes_and_creates_folders(
    storage: StorageManager, home: Path
) -> None:
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        storage.node(f"home:src/{rel}").write(rel)
        os.utime(home / "src" / rel, ns=(1_000_000_000_000_000_001, 1_100_000_000_000_000_001))
    os.chmod(home / "src/sub/b.txt", 0o600)
    storage.node("home:src").copy_to("home:dst")
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        assert (home / "dst" / rel).read_text() == rel
        assert (home / "dst" / rel).stat().st_mtime_ns == 1_100_000_000_000_000_001
    assert (home / "dst/sub/b.txt").stat().st_mode & 0o777 == 0o600
    assert not [n for _, _, files in os.walk(home) for n in files if n.endswith(".tmp")]


def test_a_copy_never_writes_through_a_link_out_of_the_mount(
    storage: StorageManager, home: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("untouched")
    (home / "dst").mkdir()
    (home / "dst/escape").symlink_to(outside)  # a folder link leaving the mount
    (home / "dst/victim.txt").symlink_to(outside / "victim.txt")  # a file link leaving it
    storage.node("home:src.txt").write("payload")
    for target in ("home:dst/escape/victim.txt", "home:dst/victim.txt"):
        with pytest.raises(PathTraversalError):
            storage.node("home:src.txt").copy_to(target)
    assert (outside / "victim.txt").read_text() == "untouched"
    assert sorted(os.listdir(outside)) == ["victim.txt"]


def test_a_copy_never_reads_through_a_link_out_of_the_mount(
    storage: StorageManager, home: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("top secret")
    (home / "src").mkdir()
    (home / "src/leak.txt").symlink_to(tmp_path / "secret.txt")
    (home / "src/ok.txt").write_text("fine")
    report = storage.node("home:src").sync_to("home:dst", skip="never")
    assert [rel for rel, _ in report.failed] == ["leak.txt"]
    assert isinstance(report.failed[0][1], PathTraversalError)
    assert sorted(os.listdir(home / "dst")) == ["ok.txt"]


def test_a_link_inside_the_mount_is_written_through(storage: StorageManager, home: Path) -> None:
    (home / "real").mkdir()
    (home / "real/f.txt").write_text("old")
    (home / "alias").symlink_to(home / "real")
    (home / "link.txt").symlink_to(home / "real/f.txt")
    storage.node("home:new.txt").write("one")
    storage.node("home:new.txt").copy_to("home:alias/f.txt")
    assert (home / "real/f.txt").read_text() == "one"
    storage.node("home:new.txt").write("two")
    storage.node("home:new.txt").copy_to("home:link.txt")
    assert (home / "link.txt").is_symlink()  # the link is kept, its target replaced
    assert (home / "real/f.txt").read_text() == "two"


def test_a_copy_onto_a_directory_or_the_root_is_refused(
    storage: StorageManager, home: Path
) -> None:
    storage.node("home:src.txt").write("x")
    (home / "folder").mkdir()
    backend = storage.get_backend("home")
    with pytest.raises(StorageIsADirectoryError):
        backend.upload_file(str(home / "src.txt"), "folder")
    with pytest.raises(StorageIsADirectoryError):
        backend.upload_file(str(home / "src.txt"), ".")
    (home / "root-link").symlink_to(home)
    with pytest.raises(StorageIsADirectoryError):
        backend.upload_file(str(home / "src.txt"), "root-link")
    assert sorted(os.listdir(home)) == ["folder", "root-link", "src.txt"]


# ---------------------------------------------------------------- the one-step route
QUICK_CASES = [
    ("a.txt", "b.txt"),  # a new file
    ("a.txt", "old.txt"),  # over a file (its mode replaced too)
    ("a.txt", "sub/c.txt"),  # into an existing folder
    ("a.txt", "new/deep/c.txt"),  # parents made (the general route)
    ("a.txt", "folder"),  # onto a folder: lands inside
    ("a.txt", "link.txt"),  # onto a link inside the mount: its target written
    ("a.txt", "alias/c.txt"),  # through a folder link inside the mount
    ("a.txt", "out/c.txt"),  # through a link leading out: refused
    ("a.txt", "a.txt"),  # onto itself
    ("missing.txt", "x.txt"),  # "Source not found"
    ("folder", "tree_copy"),  # a tree
    ("link.txt", "from_link.txt"),  # a source link inside the mount: its target's bytes
    ("alias/in.txt", "via_alias.txt"),  # a source through a folder link
    ("out/secret.txt", "leak.txt"),  # a source through a link leading out: refused
    ("a.txt", "sub/" + "n" * 300),  # a name longer than the filesystem takes
]


def _quick_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, src: str, dest: str, quick: bool
) -> Any:
    from genro_storage.backends.local import LocalStorage

    base = tmp_path / ("quick" if quick else "general")
    home, outside = base / "home", base / "outside"
    (home / "sub").mkdir(parents=True)
    (home / "folder").mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (home / "a.txt").write_text("a")
    os.chmod(home / "a.txt", 0o640)
    os.utime(home / "a.txt", ns=(1_000_000_000_000_000_123, 1_100_000_000_000_000_456))
    (home / "old.txt").write_text("old")
    (home / "folder/in.txt").write_text("in")
    (home / "real.txt").write_text("real")
    for made in ("old.txt", "folder/in.txt", "real.txt"):  # (times the runs share)
        os.utime(home / made, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    os.utime(outside / "secret.txt", ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    (home / "link.txt").symlink_to(home / "real.txt")
    (home / "alias").symlink_to(home / "folder")
    (home / "out").symlink_to(outside)
    with monkeypatch.context() as patch:
        if not quick:
            patch.setattr(LocalStorage, "quick_copy", lambda *a: False)
        manager = StorageManager(env=False)
        manager.configure([{"name": "home", "type": "local", "path": str(home)}])
        try:
            manager.node(f"home:{src}").copy_to(f"home:{dest}")
            error = None
        except Exception as exc:
            error = (type(exc), str(exc).replace(str(base), "BASE"))

    def file_state(full: Path) -> tuple[str, int, int]:
        st = full.stat()
        return full.read_text(), st.st_mode, st.st_mtime_ns

    return error, tree_state(base, file_state)


@pytest.mark.parametrize(("src", "dest"), QUICK_CASES)
def test_quick_local_copies_end_as_the_general_route_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, src: str, dest: str
) -> None:
    """``copy_to`` without options between local mounts asks ``quick_copy`` first: the
    same files, modes, times, links and errors as the engine's general route."""
    quick = _quick_run(tmp_path, monkeypatch, src, dest, quick=True)
    general = _quick_run(tmp_path, monkeypatch, src, dest, quick=False)
    assert quick == general
    assert "secret" not in str(quick[1].get("home/leak.txt"))


def test_a_plain_local_copy_is_one_walk_per_end_and_names_in_the_folder(
    storage: StorageManager, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quick route: the source opened once (``openat2``), the destination folder
    opened once, the temp file created and renamed relative to it; no stat of either
    end by path, no ``lstat`` walk; nothing left open."""
    from genro_storage.backends import _nolinks, local

    if not _nolinks.AVAILABLE:
        pytest.skip("openat2 not available here")
    storage.node("home:sub/a.txt").write("a")
    storage.node("home:sub/old.txt").write("old")
    opened: list[str] = []
    real_open = _nolinks.open_no_links

    def counted(path: str, flags: int) -> int:
        opened.append(path)
        return real_open(path, flags)

    monkeypatch.setattr(_nolinks, "open_no_links", counted)
    for name in ("info", "info_or_none", "os_path", "exists", "upload_file"):
        monkeypatch.setattr(local.LocalStorage, name, lambda *a, n=name: pytest.fail(n))
    before = open_fds()
    with monkeypatch.context() as patch:
        patch.setattr(os, "lstat", lambda *a, **k: pytest.fail(f"lstat {a}"))
        storage.node("home:sub/a.txt").copy_to("home:sub/old.txt")
        storage.node("home:sub/a.txt").copy_to("home:b.txt")
    assert opened == [f"{home}/sub/a.txt", f"{home}/sub", f"{home}/sub/a.txt", str(home)]
    assert (home / "sub/old.txt").read_text() == (home / "b.txt").read_text() == "a"
    assert open_fds() - before == set()
    assert not [n for _, _, files in os.walk(home) for n in files if n.endswith(".tmp")]


def test_a_fifo_is_left_to_the_general_route_without_waiting(home: Path) -> None:
    from genro_storage.backends.local import LocalStorage

    os.mkfifo(home / "pipe")
    backend = LocalStorage(str(home), "home")
    assert backend.quick_copy("pipe", backend, "copy") is False  # (did not block)
    assert sorted(os.listdir(home)) == ["pipe"]


def test_a_failed_quick_copy_leaves_the_old_content_and_no_temp_file(
    storage: StorageManager, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.node("home:a.txt").write("new")
    storage.node("home:b.txt").write("old")

    def full_disk(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_publish, "_copy_content", full_disk)
    with pytest.raises(OSError, match="No space"):
        storage.node("home:a.txt").copy_to("home:b.txt")
    assert (home / "b.txt").read_text() == "old"
    assert sorted(os.listdir(home)) == ["a.txt", "b.txt"]


def test_a_tree_copy_takes_the_one_step_route_per_file(
    storage: StorageManager, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's per-file copy (``copy_file``) between local mounts is the one-step
    route too (source and destination folder opened once each), with the same result:
    content, mode and nanosecond times; a file through a link falls back, as before."""
    from genro_storage.backends import _nolinks, local

    if not _nolinks.AVAILABLE:
        pytest.skip("openat2 not available here")
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        (home / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / "src" / rel).write_text(rel)
        os.utime(home / "src" / rel, ns=(1_000_000_000_000_000_001, 1_100_000_000_000_000_001))
    os.chmod(home / "src/sub/b.txt", 0o600)
    (home / "src/link.txt").symlink_to(home / "src/a.txt")  # inside the mount: followed
    general: list[str] = []
    real = local.copy_local_file

    def counted(source: str, target: str) -> None:
        general.append(os.path.basename(target))
        real(source, target)

    monkeypatch.setattr(local, "copy_local_file", counted)
    storage.node("home:src").copy_to("home:dst")
    assert general == ["link.txt"]  # the link's target is read by the general route
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        assert (home / "dst" / rel).read_text() == rel
        assert (home / "dst" / rel).stat().st_mtime_ns == 1_100_000_000_000_000_001
    assert (home / "dst/sub/b.txt").stat().st_mode & 0o777 == 0o600
    assert (home / "dst/link.txt").read_text() == "a.txt"
    assert not [n for _, _, files in os.walk(home) for n in files if n.endswith(".tmp")]
