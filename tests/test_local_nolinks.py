"""The local mount's one-call containment route (Linux ``openat2``, ``_nolinks``).

On a real filesystem: the kernel refuses any symlink on the way, the backend then takes
its general route (which follows links inside the mount and refuses links out), so every
operation answers as before, with the route on and off.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.backends import _nolinks, local
from genro_storage.errors import PathTraversalError
from tests._procs import open_fds
from tests._tree_state import tree_state

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="openat2 is Linux")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/{d/f.txt, alias -> d, inner.txt -> d/f.txt, out -> ../outside}; outside/secret.txt"""
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f.txt").write_text("f")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    os.symlink("d", root / "alias")
    os.symlink("d/f.txt", root / "inner.txt")
    os.symlink(tmp_path / "outside", root / "out")
    return root


@pytest.fixture(params=["openat2", "lstat walk"])
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test runs with the kernel route (where the kernel has it) and without it."""
    if request.param == "openat2" and not _nolinks.AVAILABLE:
        pytest.skip("openat2 not available here")
    monkeypatch.setattr(local, "_NO_LINKS", request.param == "openat2")
    yield request.param


@pytest.fixture
def storage(tree: Path, route: str) -> StorageManager:
    manager = StorageManager(env=False)
    manager.configure([{"name": "m", "type": "local", "path": str(tree)}])
    return manager


@linux_only
def test_the_kernel_refuses_every_symlink_on_the_way(tree: Path) -> None:
    assert _nolinks.AVAILABLE  # Linux 5.6+: this machine and CI
    fd = _nolinks.open_no_links(f"{tree}/d/f.txt", os.O_PATH)
    assert fd >= 0
    assert os.fstat(fd).st_size == 1
    os.close(fd)
    for through_a_link in ("out/secret.txt", "alias/f.txt", "inner.txt", "out"):
        assert _nolinks.open_no_links(f"{tree}/{through_a_link}", os.O_PATH) == -errno.ELOOP
    assert _nolinks.open_no_links(f"{tree}/missing/x", os.O_PATH) == -errno.ENOENT
    assert _nolinks.open_no_links(f"{tree}/d/f.txt/x", os.O_PATH) == -errno.ENOTDIR


def test_a_link_leading_out_is_refused_by_every_operation(
    storage: StorageManager, tree: Path
) -> None:
    escape = storage.node("m:out/secret.txt")
    with pytest.raises(PathTraversalError):
        escape.stat()
    with pytest.raises(PathTraversalError):
        _ = escape.exists
    with pytest.raises(PathTraversalError):
        escape.read_text()
    with pytest.raises(PathTraversalError):
        escape.delete()
    with pytest.raises(PathTraversalError):
        storage.node("m:d/f.txt").copy_to(escape)
    assert (tree.parent / "outside" / "secret.txt").read_text() == "secret"


def test_links_inside_the_mount_are_followed(storage: StorageManager) -> None:
    assert storage.node("m:alias/f.txt").stat().size == 1
    assert storage.node("m:inner.txt").exists
    assert storage.node("m:inner.txt").read_text() == "f"
    assert storage.node("m:alias").stat().is_dir


def test_missing_paths_and_files_in_the_way(storage: StorageManager) -> None:
    assert not storage.node("m:missing/x").exists
    assert not storage.node("m:d/nothing.txt").exists
    with pytest.raises(FileNotFoundError, match="mount 'm'"):
        storage.node("m:d/nothing.txt").stat()
    storage.node("m:missing/x").delete()  # nothing there: nothing to do
    with pytest.raises(NotADirectoryError):
        storage.node("m:d/f.txt/x").stat()


def test_delete_removes_files_links_and_trees(storage: StorageManager, tree: Path) -> None:
    storage.node("m:inner.txt").delete()  # the link, not its target
    assert not os.path.lexists(tree / "inner.txt")
    assert (tree / "d" / "f.txt").read_text() == "f"
    storage.node("m:out").delete()  # a link leading out: the link only
    assert not os.path.lexists(tree / "out")
    assert (tree.parent / "outside" / "secret.txt").read_text() == "secret"
    storage.node("m:d/f.txt").delete()
    assert not (tree / "d" / "f.txt").exists()
    (tree / "d" / "g.txt").write_text("g")
    storage.node("m:d").delete()  # a directory: the general route removes the tree
    assert not (tree / "d").exists()


def test_a_folder_swapped_for_a_link_is_refused_on_the_next_operation(
    storage: StorageManager, tree: Path
) -> None:
    node = storage.node("m:d/f.txt")
    assert node.exists
    os.rename(tree / "d", tree / "d.old")
    os.symlink(tree.parent / "outside", tree / "d")
    (tree.parent / "outside" / "f.txt").write_text("outside")
    with pytest.raises(PathTraversalError):
        node.stat()
    with pytest.raises(PathTraversalError):
        node.delete()
    assert (tree.parent / "outside" / "f.txt").read_text() == "outside"


def test_the_engine_destination_check_answers_the_same(storage: StorageManager) -> None:
    backend = storage.get_backend("m")
    assert backend.info_or_none("d/nothing.txt") is None
    assert backend.info_or_none("missing/x") is None
    entry = backend.info_or_none("d/f.txt")
    assert entry is not None and entry.size == 1 and not entry.is_dir
    assert backend.info_or_none("alias/f.txt") == backend.info("alias/f.txt")
    with pytest.raises(PathTraversalError):
        backend.info_or_none("out/secret.txt")


@linux_only
def test_with_the_kernel_route_a_plain_path_takes_no_lstat_walk(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _nolinks.AVAILABLE  # Linux 5.6+: this machine and CI
    monkeypatch.setattr(local, "_NO_LINKS", True)
    storage = StorageManager(env=False)
    storage.configure([{"name": "m", "type": "local", "path": str(tree)}])
    storage.node("m:d/g.txt").write_text("g")  # (writes keep their own check)
    monkeypatch.setattr(os, "lstat", lambda *a, **k: pytest.fail(f"lstat {a}"))
    assert storage.node("m:d/g.txt").stat().size == 1
    assert storage.node("m:d/g.txt").exists
    assert not storage.node("m:d/nothing").exists
    storage.node("m:d/g.txt").delete()
    assert not storage.node("m:d/g.txt").exists


@pytest.mark.parametrize(
    ("path", "plain"),
    [("a", True), ("a/b.txt", True), ("a..b", True), ("..a/b", True), ("a/b..", True),
     ("..", False), ("../a", False), ("a/..", False), ("a/../b", False), ("", False),
     ("a//b", False), ("./a", False), ("a/.", False), ("/a", False), ("a/", False)],
)  # fmt: skip
def test_only_plain_paths_take_the_kernel_route(path: str, plain: bool) -> None:
    assert local._plain_relative(path) is plain


def test_reads_through_the_kernel_route_answer_as_before(
    storage: StorageManager, tree: Path
) -> None:
    assert storage.node("m:d/f.txt").read_bytes() == b"f"
    assert storage.node("m:alias/f.txt").read_text() == "f"  # a link inside: followed
    with pytest.raises(IsADirectoryError) as caught:
        storage.node("m:d").read_bytes()
    assert caught.value.filename == str(tree / "d")
    with pytest.raises(FileNotFoundError, match="mount 'm'"):
        storage.node("m:d/nothing.txt").read_bytes()
    with pytest.raises(NotADirectoryError):
        storage.node("m:d/f.txt/x").read_bytes()


@linux_only
def test_a_read_never_leaves_a_descriptor_open(storage: StorageManager, route: str) -> None:
    before = open_fds()
    for _ in range(50):
        assert storage.node("m:d/f.txt").read_bytes() == b"f"
        with pytest.raises(IsADirectoryError):
            storage.node("m:d").read_bytes()
        with pytest.raises(FileNotFoundError):
            storage.node("m:nothing").read_bytes()
    assert open_fds() - before == set()


@linux_only
def test_a_nul_byte_never_reaches_the_kernel_as_a_shorter_path(tree: Path) -> None:
    """C strings end at NUL: ``d/f.txt\\x00x`` would open ``d/f.txt``. Refused here; the
    general route then raises as before."""
    assert _nolinks.open_no_links(f"{tree}/d/f.txt\x00x", os.O_PATH) == -errno.EINVAL
    manager = StorageManager(env=False)
    manager.configure([{"name": "m", "type": "local", "path": str(tree)}])
    backend = manager.get_backend("m")
    with pytest.raises(ValueError):
        backend.info("d/f.txt\x00x")
    with pytest.raises(ValueError):
        backend.read_bytes("d/f.txt\x00x")


@pytest.mark.parametrize(
    "path", ["d", "d/f.txt", "alias/f.txt", "inner.txt", "missing", "missing/x", "d/f.txt/x"]
)
def test_os_path_is_the_real_path_on_both_routes(
    storage: StorageManager, tree: Path, path: str
) -> None:
    backend = storage.get_backend("m")
    assert backend.os_path(path) == os.path.realpath(tree / path)


def test_os_path_refuses_a_link_out_on_both_routes(storage: StorageManager) -> None:
    with pytest.raises(PathTraversalError):
        storage.get_backend("m").os_path("out/secret.txt")


@linux_only
def test_a_plain_delete_is_one_walk_one_unlink_by_name(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file: one ``openat2`` of its folder, one ``unlinkat`` of its name, nothing else
    (no ``lstat``, not the general route); a folder: the by-name attempt once, then the
    general route removes the tree; nothing is left open."""
    assert _nolinks.AVAILABLE  # Linux 5.6+: this machine and CI
    monkeypatch.setattr(local, "_NO_LINKS", True)
    storage = StorageManager(env=False)
    storage.configure([{"name": "m", "type": "local", "path": str(tree)}])
    storage.node("m:d/g.txt").write_text("g")
    opened: list[str] = []
    unlinked: list[tuple[str, bool]] = []
    general: list[str] = []
    real_open, real_unlink = _nolinks.open_no_links, os.unlink
    real_general = local.LocalStorage._delete

    def counted_open(path: str, flags: int) -> int:
        opened.append(path)
        return real_open(path, flags)

    def counted_unlink(path: str, *, dir_fd: int | None = None) -> None:
        unlinked.append((str(path), dir_fd is not None))
        real_unlink(path, dir_fd=dir_fd)

    def counted_general(self: local.LocalStorage, path: str, *args: Any, **kwargs: Any) -> None:
        general.append(path)
        real_general(self, path, *args, **kwargs)

    monkeypatch.setattr(_nolinks, "open_no_links", counted_open)
    monkeypatch.setattr(os, "unlink", counted_unlink)
    monkeypatch.setattr(local.LocalStorage, "_delete", counted_general)
    before = open_fds()
    with monkeypatch.context() as patch:
        patch.setattr(os, "lstat", lambda *a, **k: pytest.fail(f"lstat {a}"))
        storage.node("m:d/g.txt").delete()
        storage.node("m:d/none.txt").delete()  # nothing there: the same one walk
    assert opened == [f"{tree}/d", f"{tree}/d"]
    assert unlinked == [("g.txt", True), ("none.txt", True)] and general == []
    assert not (tree / "d" / "g.txt").exists() and (tree / "d" / "f.txt").exists()
    storage.node("m:d").delete()  # a folder: by name once (EISDIR), then the tree
    assert opened[2:] == [str(tree)] and general == ["d"] and not (tree / "d").exists()
    assert open_fds() - before == set()


def test_deletes_are_logged_while_debug_logging_is_on(
    storage: StorageManager, tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    with caplog.at_level(logging.DEBUG, "genro_storage"):
        storage.node("m:d/f.txt").delete()
        storage.node("m:inner.txt").delete()
    lines = [r.getMessage() for r in caplog.records]
    assert any(" delete 'd/f.txt' " in line for line in lines), lines
    assert any(" delete 'inner.txt' " in line for line in lines), lines
    assert not (tree / "d" / "f.txt").exists() and not (tree / "inner.txt").is_symlink()


WRITE_CASES = [
    "new.txt",  # a new file at the root
    "d/new.txt",  # a new file in a folder
    "d/f.txt",  # over a file (its mode kept)
    "d",  # onto a folder: refused
    "inner.txt",  # onto a link inside the mount: its target written
    "alias/f.txt",  # through a folder link inside the mount
    "out/secret.txt",  # through a link leading out: refused
    "new/deep/x.txt",  # parents made
    "",  # the mount root: refused
    "d/f.txt/x",  # below a file: refused
    "d/" + "n" * 300,  # a name longer than the filesystem takes
]


def _write_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, kernel: bool) -> Any:
    base = tmp_path / ("kernel" if kernel else "walk")
    base.mkdir()
    root = base / "root"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f.txt").write_text("f")
    os.chmod(root / "d" / "f.txt", 0o600)
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_text("secret")
    os.symlink("d", root / "alias")
    os.symlink("d/f.txt", root / "inner.txt")
    os.symlink(base / "outside", root / "out")
    old_mask = os.umask(0o027)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(local, "_NO_LINKS", kernel)
            manager = StorageManager(env=False)
            manager.configure([{"name": "m", "type": "local", "path": str(root)}])
            try:
                manager.node(f"m:{target}").write_bytes(b"new")
                error = None
            except Exception as exc:
                error = (type(exc), str(exc).replace(str(base), "BASE"))
    finally:
        os.umask(old_mask)
    return error, tree_state(base, lambda full: (full.read_bytes(), oct(full.stat().st_mode)))


@linux_only
@pytest.mark.parametrize("target", WRITE_CASES)
def test_writes_by_the_kernel_route_end_as_the_walk_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    """``write_bytes`` relative to the folder opened by ``openat2``: the same files,
    modes (a new file 0666 less the umask, a replaced one keeps its own), links and
    errors as the ``lstat`` walk."""
    assert _nolinks.AVAILABLE  # Linux 5.6+: this machine and CI
    kernel = _write_run(tmp_path, monkeypatch, target, kernel=True)
    assert kernel == _write_run(tmp_path, monkeypatch, target, kernel=False)
    assert kernel[1]["outside/secret.txt"][0] == b"secret"
    if target == "d/new.txt":  # a new file: 0666 less the umask (0o027 here)
        assert kernel[1]["root/d/new.txt"] == (b"new", oct(0o100640))
    if target == "d/f.txt":  # a replaced file keeps its mode
        assert kernel[1]["root/d/f.txt"] == (b"new", oct(0o100600))


@linux_only
def test_a_plain_write_is_one_walk_and_names_in_the_folder(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder opened once, the temp file created, written and renamed relative to
    it: no ``lstat`` walk, no umask read, no ``chmod`` by path; nothing left open."""
    assert _nolinks.AVAILABLE
    monkeypatch.setattr(local, "_NO_LINKS", True)
    storage = StorageManager(env=False)
    storage.configure([{"name": "m", "type": "local", "path": str(tree)}])
    before = open_fds()
    with monkeypatch.context() as patch:
        for name in ("lstat", "umask", "chmod"):
            patch.setattr(os, name, lambda *a, n=name, **k: pytest.fail(f"{n} {a}"))
        storage.node("m:d/new.txt").write_bytes(b"one")
        storage.node("m:d/new.txt").write_bytes(b"two")
    assert (tree / "d" / "new.txt").read_bytes() == b"two"
    assert open_fds() - before == set()
    assert sorted(os.listdir(tree / "d")) == ["f.txt", "new.txt"]


@linux_only
def test_a_failed_write_leaves_the_old_content_and_no_temp_file(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "_NO_LINKS", True)
    storage = StorageManager(env=False)
    storage.configure([{"name": "m", "type": "local", "path": str(tree)}])
    real_write = os.write

    def full_disk(fd: int, data: Any) -> int:
        if len(data) == 6:  # (the payload; other writes pass)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(OSError, match="No space"):
        storage.node("m:d/f.txt").write_bytes(b"failed")
    assert (tree / "d" / "f.txt").read_text() == "f"
    assert sorted(os.listdir(tree / "d")) == ["f.txt"]
