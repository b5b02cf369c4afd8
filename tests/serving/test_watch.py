"""Change notification for kept answers (``genro_storage/serving/watch.py``), on real inotify.

Each test changes real files the way a deploy, an editor or an upload does and checks
that the token guarding a kept answer turns invalid by the next :meth:`catch_up` (what a
request calls first), and stays valid for changes that do not concern the file. The
apps' behaviour with and without notification is in tests/integrations/test_freshness.py
and test_kept_answers.py (run in both modes).
"""

from __future__ import annotations

import os
import struct
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genro_storage.serving import watch
from genro_storage.serving.wsgi_app import WSGIApp

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")


@pytest.fixture
def watcher(monkeypatch: pytest.MonkeyPatch) -> Iterator[watch.Watcher]:
    monkeypatch.delenv("GENRO_STORAGE_WATCH", raising=False)
    watch.reset()
    found = watch.watcher()
    if found is None:
        pytest.skip("inotify is not available here")
    yield found
    watch.reset()


@pytest.fixture
def site(tmp_path: Path, watcher: watch.Watcher) -> Path:
    if not watcher._on_local_fs(str(tmp_path)):
        pytest.skip("the temporary directory is not on a local file system")
    folder = tmp_path / "site" / "css"
    folder.mkdir(parents=True)
    (folder / "a.css").write_bytes(b"a{}\n")
    (folder / "a.css.br").write_bytes(b"br")
    return folder


def watched(watcher: watch.Watcher, site: Path) -> watch.Token:
    path = str(site / "a.css")
    token = watcher.watch(path, [path + ".br", path + ".gz"])
    assert token is not None and token.valid
    return token


def seen(token: watch.Token) -> bool:
    """True when the token turned invalid (a change was reported)."""
    token.watcher.catch_up()
    return not token.valid


def test_an_edit_keeping_size_and_mtime_is_reported(watcher: watch.Watcher, site: Path) -> None:
    token = watched(watcher, site)
    target = site / "a.css"
    before = target.stat()
    target.write_bytes(b"b{}\n")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert seen(token)


@pytest.mark.parametrize(
    "change",
    ["chmod", "touch", "rename over", "remove", "new gz", "br removed", "br edited", "link"],
)
def test_changes_of_the_file_and_its_siblings_are_reported(
    watcher: watch.Watcher, site: Path, change: str
) -> None:
    token = watched(watcher, site)
    target = site / "a.css"
    if change == "chmod":
        target.chmod(0o600)
    elif change == "touch":
        os.utime(target)
    elif change == "rename over":
        (site / "new.css").write_bytes(b"n{}\n")
        os.replace(site / "new.css", target)
    elif change == "remove":
        target.unlink()
    elif change == "new gz":
        (site / "a.css.gz").write_bytes(b"gz")
    elif change == "br removed":
        (site / "a.css.br").unlink()
    elif change == "br edited":
        (site / "a.css.br").write_bytes(b"BR")
    else:  # a hard link elsewhere, through which the file may be written unseen by `site`
        os.link(target, site.parent / "other-name.css")
    assert seen(token)


@pytest.mark.parametrize("depth", ["parent", "grandparent"])
def test_a_directory_on_the_way_renamed_is_reported(
    watcher: watch.Watcher, site: Path, depth: str
) -> None:
    token = watched(watcher, site)
    moved = site if depth == "parent" else site.parent
    os.rename(moved, moved.with_name(moved.name + "-old"))
    moved.mkdir()
    assert seen(token)


def test_reads_and_unrelated_changes_are_not_reported(watcher: watch.Watcher, site: Path) -> None:
    token = watched(watcher, site)
    assert (site / "a.css").read_bytes() == b"a{}\n"
    (site / "other.css").write_bytes(b"o{}\n")
    (site / "other.css").unlink()
    (site.parent / "elsewhere.txt").write_bytes(b"x")
    os.utime(site.parent / "elsewhere.txt")
    assert not seen(token)
    (site / "a.css").write_bytes(b"b{}\n")  # and the watch still works afterwards
    assert seen(token)


def test_a_change_queued_behind_more_than_one_read_of_noise_is_reported(
    watcher: watch.Watcher, site: Path
) -> None:
    # a busy directory on the way (/tmp and a server's heartbeat file): one check reads
    # the whole queue, however many reads of the kernel's buffer that takes
    token = watched(watcher, site)
    for i in range(2000):  # 2000 events of 48+ bytes: more than one 64 KiB read
        (site.parent / f"n{i:04d}-{'x' * 40}").touch()
    assert not seen(token)
    for i in range(2000):
        (site.parent / f"n{i:04d}-{'x' * 40}").unlink()
    (site / "a.css").write_bytes(b"b{}\n")
    assert seen(token)


def queued(watcher: watch.Watcher) -> int:
    """The bytes of notifications waiting in the kernel's queue."""
    import fcntl
    import termios

    count = bytearray(4)
    fcntl.ioctl(watcher._fd, termios.FIONREAD, count)
    return int.from_bytes(count, sys.byteorder)


def test_attribute_changes_above_the_root_queue_nothing(watcher: watch.Watcher, site: Path) -> None:
    # a gunicorn worker's heartbeat: a utime of a file in a directory above the mount
    # root (/tmp), several per request, must not wake every check
    root = site.parent
    (root / "sub").mkdir()
    target = root / "sub" / "a.css"
    target.write_bytes(b"a{}\n")
    token = watcher.watch(str(target), root=str(root))
    assert token is not None
    heartbeat = root.parent / "heartbeat"
    heartbeat.write_bytes(b"")
    watcher.catch_up()
    os.utime(heartbeat)
    os.chmod(heartbeat, 0o600)
    assert queued(watcher) == 0 and not seen(token)
    (root / "sub").chmod(0o700)  # a directory below the root: reported
    assert seen(token)
    token = watcher.watch(str(target), root=str(root))
    assert token is not None
    root.chmod(0o700)  # the root itself: reported
    assert seen(token)


def test_a_queue_overflow_invalidates_every_token(watcher: watch.Watcher, site: Path) -> None:
    token = watched(watcher, site)
    watcher._apply(struct.pack("iIII", -1, watch.IN_Q_OVERFLOW, 0, 0))
    assert not token.valid


def test_files_on_other_file_systems_are_not_watched(
    watcher: watch.Watcher, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watcher, "_local", {})
    monkeypatch.setattr(watch, "LOCAL_FILE_SYSTEMS", frozenset())  # as NFS, FUSE, 9p...
    assert watcher.watch(str(site / "a.css")) is None


def test_a_missing_file_is_not_watched(watcher: watch.Watcher, site: Path) -> None:
    assert watcher.watch(str(site / "missing.css")) is None


def test_watches_are_bounded_and_unused_ones_removed(
    watcher: watch.Watcher, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = watched(watcher, site)
    limit = len(watcher)
    monkeypatch.setattr(watch, "MAX_WATCHES", limit)
    (site / "b.css").write_bytes(b"b{}\n")
    assert watcher.watch(str(site / "b.css")) is None  # every watch is in use
    del token  # its answer is gone: its watches may go
    assert watcher.watch(str(site / "b.css")) is not None


def test_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENRO_STORAGE_WATCH", "0")
    watch.reset()
    try:
        assert watch.watcher() is None
    finally:
        monkeypatch.delenv("GENRO_STORAGE_WATCH")
        watch.reset()


def test_a_forked_child_makes_its_own_watcher(watcher: watch.Watcher, site: Path) -> None:
    token = watched(watcher, site)
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # the child: what it inherited is invalid; a new watcher works
        try:
            fresh = watch.watcher()
            path = str(site / "a.css")
            ok = not token.valid and fresh is not None and fresh is not watcher
            child_token = fresh.watch(path) if fresh is not None else None
            ok = ok and child_token is not None and child_token.valid
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert token.valid and not seen(token)  # the parent's watch is untouched


# ---------------------------------------------------------------------- in the app


def call(app: WSGIApp, path: str) -> bytes:
    env: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": ""}
    return b"".join(app(env, lambda status, headers, exc_info=None: None))


def test_kept_answers_are_watched_for_a_plain_root(watcher: watch.Watcher, site: Path) -> None:
    app = WSGIApp([{"name": "site", "type": "local", "path": str(site)}], {"/s": "site"})
    assert app.hot is not None
    assert call(app, "/s/a.css") == b"a{}\n"
    token = app.hot.entries["/s/a.css"].token
    assert token is not None and token.valid
    (site / "a.css").write_bytes(b"b{}\n")
    assert call(app, "/s/a.css") == b"b{}\n"
    assert not token.valid


def test_a_symlinked_root_is_checked_with_stats(watcher: watch.Watcher, site: Path) -> None:
    link = site.parent / "current"
    link.symlink_to(site)
    app = WSGIApp([{"name": "site", "type": "local", "path": str(link)}], {"/s": "site"})
    assert app.hot is not None
    assert call(app, "/s/a.css") == b"a{}\n"
    assert app.hot.entries["/s/a.css"].token is None
    (site / "a.css").write_bytes(b"b{}\n")
    assert call(app, "/s/a.css") == b"b{}\n"
