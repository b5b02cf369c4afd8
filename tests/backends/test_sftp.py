"""SFTP mounts against the suite's OpenSSH sshd (services.env)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.backends.sftp import ReadAhead
from genro_storage.errors import StorageError
from tests.conformance.targets import BY_NAME, mounted, sftp_options

pytestmark = pytest.mark.services


def test_requests_leave_without_waiting_for_acks(tmp_path: Path) -> None:
    """The connection sends each request at once (``TCP_NODELAY``, as OpenSSH's client).

    paramiko leaves Nagle's algorithm on, and a 32 KiB read request then waited for the
    acknowledgement of earlier bytes: 6 ms each on loopback, downloads at 5 MB/s where
    ``rclone`` made 166 MB/s from the same server (``bench/bench_sftp.py``).
    """
    with mounted("sftp", tmp_path) as manager:
        manager.node("m:a.bin").write_bytes(b"a" * 100_000)
        assert manager.node("m:a.bin").read_bytes() == b"a" * 100_000
        sock = manager.get_backend("m").fs.client.get_transport().sock
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_large_files_copied_at_once_all_arrive(tmp_path: Path) -> None:
    """The copy engine writes several files at once over the mount's one connection.

    A pipelined write's acknowledgement, read by another thread's wait, was dropped by
    paramiko, and the writer then waited for it for ever: copying three files of 4 MiB
    hung every time.
    """
    env = BY_NAME["sftp"].env()
    remote = Path(env["SVC_SFTP_ROOT"]) / f"many-{uuid.uuid4().hex[:10]}"
    source = tmp_path / "src"
    source.mkdir()
    payloads = {f"f{i}.bin": os.urandom(4 * 1024 * 1024 + i) for i in range(4)}
    for name, data in payloads.items():
        (source / name).write_bytes(data)
    manager = StorageManager(env=False)
    manager.configure(
        [
            {"name": "far", **sftp_options(env), "path": str(remote.parent)},
            {"name": "here", "type": "local", "path": str(tmp_path)},
        ]
    )
    failures: list[BaseException] = []

    def copy() -> None:
        try:
            manager.node("here:src").copy_to(f"far:{remote.name}")
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=copy, daemon=True)
    worker.start()
    worker.join(timeout=60)
    try:
        assert not worker.is_alive(), "the copy hung"
        assert failures == []
        assert {p.name: p.read_bytes() for p in remote.iterdir()} == payloads
    finally:
        if not worker.is_alive():
            manager.close()


@pytest.fixture
def full_disk() -> Iterator[Path]:
    """A folder of the SFTP server on a 1 MiB tmpfs (root only)."""
    env = BY_NAME["sftp"].env()
    folder = Path(env["SVC_SFTP_ROOT"]) / f"full-{uuid.uuid4().hex[:10]}"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        folder.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


def test_a_write_the_server_refuses_is_not_published(full_disk: Path) -> None:
    """A pipelined write refused by the server (no space left) fails the write; the old
    content stays. paramiko never looked at those answers: the upload was published cut
    short."""
    env = BY_NAME["sftp"].env()
    manager = StorageManager(env=False)
    manager.configure([{"name": "m", **sftp_options(env), "path": str(full_disk)}])
    try:
        manager.node("m:keep.bin").write_bytes(b"old")
        with pytest.raises(StorageError, match="'m'"):
            # 160 writes: paramiko waits for some answers itself past 100 in flight
            manager.node("m:keep.bin").write_bytes(os.urandom(5 * 1024 * 1024))
        with (
            pytest.raises(StorageError, match="'m'"),
            manager.node("m:new.bin").open("wb") as stream,
        ):
            for _ in range(3):
                stream.write(os.urandom(1024 * 1024))
        assert (full_disk / "keep.bin").read_bytes() == b"old"
        assert sorted(p.name for p in full_disk.iterdir()) == ["keep.bin"]
    finally:
        manager.close()


def test_reads_ahead_hand_out_the_right_bytes_through_seeks(tmp_path: Path) -> None:
    """Streamed reads ask up to 1 MiB ahead of the reader (``sftp.ReadAhead``): what is
    handed out matches the file through reads of every size, seeks back and forward, a
    seek past the end, and a file cut short while it is open."""
    env = BY_NAME["sftp"].env()
    remote = Path(env["SVC_SFTP_ROOT"]) / f"ahead-{uuid.uuid4().hex[:10]}"
    remote.mkdir()
    shutil.chown(remote, env["SVC_SFTP_USER"])
    data = os.urandom(3 * 1024 * 1024 + 12345)
    manager = StorageManager(env=False)
    manager.configure([{"name": "m", **sftp_options(env), "path": str(remote)}])
    try:
        manager.node("m:big.bin").write_bytes(data)
        with manager.node("m:big.bin").open("rb") as stream:
            assert stream.read(10) == data[:10]
            assert stream.read(100_000) == data[10:100_010]
            stream.seek(2_000_000)
            assert stream.read(50_000) == data[2_000_000:2_050_000]
            stream.seek(5)
            assert stream.tell() == 5
            assert stream.read(40_000) == data[5:40_005]
            stream.seek(-100, os.SEEK_END)
            assert stream.read() == data[-100:]
            stream.seek(len(data) + 10)
            assert stream.read(10) == b""
            with pytest.raises(ValueError):
                stream.seek(-1)
            stream.seek(0)
            assert stream.read() == data
        assert b"".join(manager.node("m:big.bin").iter_bytes(65536)) == data
        with manager.node("m:big.bin").open("rb") as stream:
            assert stream.read(1000) == data[:1000]
            os.truncate(remote / "big.bin", 500_000)  # cut short by someone else
            rest = stream.read()
            # what was already asked for (1 MiB at most) comes as it was, then the end
            assert data[1000:].startswith(rest)
            assert len(rest) <= max(499_000, ReadAhead.WINDOW * ReadAhead.CHUNK)
    finally:
        manager.close()


def test_a_write_left_open_on_a_lost_connection_is_dropped_quietly(
    tmp_path: Path, unraisable: Callable[[], list[str]]
) -> None:
    """A write handle nobody closed, on a connection that is gone, is collected without
    an error escaping its finalizer (paramiko closes it from ``__del__``, and collecting
    its writes' answers met the dead connection), and publishes nothing."""
    env = BY_NAME["sftp"].env()
    remote = Path(env["SVC_SFTP_ROOT"]) / f"lost-{uuid.uuid4().hex[:10]}"
    remote.mkdir()
    shutil.chown(remote, env["SVC_SFTP_USER"])
    manager = StorageManager(env=False)
    manager.configure([{"name": "m", **sftp_options(env), "path": str(remote)}])
    backend = manager.get_backend("m")
    raw = backend._tune_write_handle(backend.fs.ftp.open(str(remote / "part.bin"), "wb"))
    raw.write(os.urandom(3 * 1024 * 1024))
    raw.flush()
    backend.fs.client.get_transport().sock.shutdown(socket.SHUT_RDWR)
    del raw
    assert unraisable() == []
    manager.close()
