"""The async API on memory, local disk and the real S3/HTTP servers.

Every test here runs on an asyncio loop in debug mode with a 50 ms slow-callback
threshold, and fails if the loop logged any step that blocked it longer
(``loop_must_not_block``): our code must never stall the event loop. A step that was
slow only because this process's threads were waiting for a CPU meanwhile (Linux
schedstat: a busy machine, other pytest-xdist workers) or stopped by the garbage
collector is excused: less that wait, it took under the threshold. A blocking call (a
sleep, a socket wait, file I/O) is not.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import os
import time
from asyncio import base_events
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.to_thread
import pytest

import genro_storage.aio as aio
from genro_storage import AsyncStorageManager, AsyncStorageNode, StorageManager
from genro_storage.backends import fsspec as fsspec_backend

pytestmark = [
    pytest.mark.anyio,
    # gcsfs hands aiohttp request bodies as bytes; aiohttp warns about any body over 1 MiB
    # (on gcsfs's own loop thread, never ours): not ours to fix, and harmless there.
    pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning"),
]

SLOW_CALLBACK = 0.05  # seconds a single loop step may take


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return ("asyncio", {"debug": True})


def blocking_reports(records: list[logging.LogRecord]) -> list[str]:
    """asyncio debug mode's "Executing <...> took N seconds" warnings."""
    return [
        r.getMessage()
        for r in records
        if r.name == "asyncio" and r.getMessage().startswith("Executing ")
    ]


def _cpu_waits() -> dict[str, int]:
    """Nanoseconds each thread of this process has spent runnable but waiting for a CPU
    (field 2 of Linux's /proc/self/task/*/schedstat); empty where the kernel does not tell."""
    waits: dict[str, int] = {}
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return waits
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/schedstat", "rb") as stat:
                waits[task] = int(stat.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile
    return waits


class _GcClock:
    """Seconds this process has spent in the cyclic garbage collector since ``install``:
    a full collection of a large test process can stop every thread for tens of ms,
    whatever step of the loop it lands in."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.monotonic()
        else:
            self.total += time.monotonic() - self._start


def _excuse_cpu_waits(
    monkeypatch: pytest.MonkeyPatch, loop: asyncio.AbstractEventLoop, gc_clock: _GcClock
) -> set[str]:
    """Time each step of ``loop`` as asyncio's debug mode does; returns the (growing) set of
    the formatted steps that took the threshold or longer only because threads of this
    process were waiting for a CPU (the loop's own, or one holding the GIL) or stopped by
    the garbage collector meanwhile."""
    excused: set[str] = set()
    run = asyncio.Handle._run

    def timed(handle: asyncio.Handle) -> None:
        if getattr(handle, "_loop", None) is not loop:
            return run(handle)
        before = _cpu_waits()
        in_gc = gc_clock.total
        start = time.monotonic()
        try:
            return run(handle)
        finally:
            took = time.monotonic() - start
            if took >= SLOW_CALLBACK:
                after = _cpu_waits()
                waited = sum(ns - before.get(t, 0) for t, ns in after.items()) / 1e9
                waited += gc_clock.total - in_gc
                if took - waited < SLOW_CALLBACK:
                    excused.add(base_events._format_handle(handle))  # type: ignore[attr-defined]

    monkeypatch.setattr(asyncio.Handle, "_run", timed)
    return excused


@pytest.fixture(autouse=True)
async def loop_must_not_block(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    assert loop.get_debug()
    loop.slow_callback_duration = SLOW_CALLBACK
    caplog.set_level(logging.WARNING, logger="asyncio")
    gc_clock = _GcClock()
    gc.callbacks.append(gc_clock)  # the collector reads this very list: no monkeypatch
    excused = _excuse_cpu_waits(monkeypatch, loop, gc_clock)
    try:
        yield
    finally:
        gc.callbacks.remove(gc_clock)
    blocked = [
        report
        for report in blocking_reports(caplog.records)
        if not any(report.startswith(f"Executing {step} took ") for step in excused)
    ]
    assert not blocked, "the event loop was blocked:\n" + "\n".join(blocked)


async def test_the_guard_catches_a_blocking_call(caplog: pytest.LogCaptureFixture) -> None:
    time.sleep(SLOW_CALLBACK * 2)  # what our code must never do on the loop
    await asyncio.sleep(0)
    assert blocking_reports(caplog.records)
    caplog.clear()  # seen: now let the guard pass


MOUNTS = ["mem", "home", "s3", "gcs", "azure"]
REMOTE = ("s3", "gcs", "azure")


@pytest.fixture(params=MOUNTS)
def mount(request: pytest.FixtureRequest, storage: StorageManager) -> str:
    """A mount name; the remote ones are a fresh bucket/container on the test servers."""
    if request.param in REMOTE:
        from tests.remote import add_remote_mount

        add_remote_mount(storage, request.param, request.param)
    return str(request.param)


@pytest.fixture
def astorage(storage: StorageManager) -> Iterator[AsyncStorageManager]:
    yield AsyncStorageManager(storage)


async def test_write_read_and_state(astorage: AsyncStorageManager, mount: str) -> None:
    node = astorage.node(f"{mount}:dir/hello.txt")
    assert await node.write("héllo") is True
    assert await node.read() == "héllo"
    assert await node.read("rb") == "héllo".encode()
    assert await node.read_text() == "héllo"
    assert await node.read_bytes() == "héllo".encode()
    assert await node.exists() and await node.isfile() and not await node.isdir()
    assert await node.size() == 6
    assert isinstance(await node.mtime(), float)
    assert await node.md5hash() == hashlib.md5("héllo".encode()).hexdigest()
    assert await node.write_bytes(b"\x00\x01") is True
    assert await node.read_range(1, 2) == b"\x01"
    assert await node.write_text("x", skip_if_unchanged=True) is True
    assert await node.write_text("x", skip_if_unchanged=True) is False
    assert await astorage.node(f"{mount}:dir").isdir()


async def test_missing_file(astorage: AsyncStorageManager, mount: str) -> None:
    node = astorage.node(f"{mount}:nope/ghost.txt")
    assert not await node.exists() and not await node.isfile() and not await node.isdir()
    with pytest.raises(FileNotFoundError):
        await node.read()
    with pytest.raises(FileNotFoundError):
        await node.size()
    with pytest.raises(FileNotFoundError):
        await node.md5hash()


async def test_write_mode_and_type_errors(astorage: AsyncStorageManager) -> None:
    node = astorage.node("mem:t.txt")
    with pytest.raises(TypeError):
        await node.write(b"bytes in text mode")
    with pytest.raises(ValueError, match="Invalid write mode"):
        await node.write("x", mode="a")
    with pytest.raises(ValueError, match="Invalid read mode"):
        await node.read("rt")


async def test_children_mkdir_delete(astorage: AsyncStorageManager, mount: str) -> None:
    for name in ("b.txt", "a.txt"):
        await astorage.node(f"{mount}:d/{name}").write(name)
    await astorage.node(f"{mount}:d/sub/c.txt").write("c")
    children = await astorage.node(f"{mount}:d").children()
    assert all(isinstance(c, AsyncStorageNode) for c in children)
    assert sorted(c.basename for c in children) == ["a.txt", "b.txt", "sub"]
    assert sorted(c.fullpath for c in children)[0] == f"{mount}:d/a.txt"
    with pytest.raises(ValueError, match="directory"):
        await astorage.node(f"{mount}:d").size()
    with pytest.raises(ValueError, match="directory"):
        await astorage.node(f"{mount}:d").md5hash()
    await astorage.node(f"{mount}:d/a.txt").delete()
    assert not await astorage.node(f"{mount}:d/a.txt").exists()
    await astorage.node(f"{mount}:d").delete()
    assert not await astorage.node(f"{mount}:d/sub/c.txt").exists()
    if mount not in REMOTE:  # object stores have no empty directories
        await astorage.node(f"{mount}:made/deep").mkdir(parents=True)
        assert await astorage.node(f"{mount}:made/deep").isdir()


async def test_sync_path_properties(astorage: AsyncStorageManager) -> None:
    node = astorage.node("mem:docs/report.final.PDF")
    assert node.path == "docs/report.final.PDF" and node.fullpath == "mem:docs/report.final.PDF"
    assert (node.basename, node.stem, node.suffix) == ("report.final.PDF", "report.final", ".PDF")
    assert node.mimetype == "application/pdf"
    assert isinstance(node.parent, AsyncStorageNode) and node.parent.fullpath == "mem:docs"
    assert (node.parent / "x.txt").fullpath == "mem:docs/x.txt"
    assert repr(node) == "AsyncStorageNode('mem:docs/report.final.PDF')"
    assert str(node) == "mem:docs/report.final.PDF"
    assert node.sync_node.fullpath == node.fullpath
    assert astorage.has_mount("mem") and "home" in astorage.get_mount_names()


async def test_streaming_read(astorage: AsyncStorageManager, mount: str) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    node = astorage.node(f"{mount}:big.bin")
    await node.write_bytes(data)
    chunks = [chunk async for chunk in node.iter_bytes(64 * 1024)]
    assert b"".join(chunks) == data
    assert len(chunks) >= 16 and max(len(c) for c in chunks) <= 64 * 1024


async def test_stream_read_can_stop_early(astorage: AsyncStorageManager, mount: str) -> None:
    node = astorage.node(f"{mount}:big.bin")
    await node.write_bytes(b"z" * 300_000)
    async with node.open("rb") as fh:
        assert await fh.read(10) == b"z" * 10
    assert await node.size() == 300_000


async def _agen(chunks: list[bytes], fail: bool = False) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk
    if fail:
        raise RuntimeError("client went away")


@pytest.mark.parametrize("spool_limit", [None, 1000], ids=["spooled", "streamed"])
async def test_write_stream_from_an_async_iterable(
    astorage: AsyncStorageManager,
    mount: str,
    monkeypatch: pytest.MonkeyPatch,
    spool_limit: int | None,
) -> None:
    if spool_limit:
        monkeypatch.setattr(aio, "NATIVE_WRITE_LIMIT", spool_limit)
        monkeypatch.setattr(fsspec_backend, "SPOOL_LIMIT", spool_limit)
    node = astorage.node(f"{mount}:up/stream.bin")
    parts = [bytes([i]) * 50_000 for i in range(6)]
    await node.write_stream(_agen(parts))
    assert await node.read_bytes() == b"".join(parts)
    with pytest.raises(RuntimeError, match="went away"):
        await node.write_stream(_agen([b"partial"] * 3, fail=True))
    assert await node.read_bytes() == b"".join(parts)  # the old content, untouched
    await node.write_stream([b"sync ", b"iterable"])
    assert await node.read_bytes() == b"sync iterable"


async def test_open_for_writing_and_reading(astorage: AsyncStorageManager, mount: str) -> None:
    node = astorage.node(f"{mount}:f/opened.txt")
    async with node.open("wb") as fh:
        for i in range(5):
            assert await fh.write(b"line %d\n" % i) == 7
    async with node.open("rb") as fh:
        assert await fh.read(7) == b"line 0\n"
        assert await fh.read() == b"".join(b"line %d\n" % i for i in range(1, 5))
    async with node.open("w") as fh:
        await fh.write("ünïcode ")
        await fh.write("text")
    async with node.open("r") as fh:
        assert "".join([part async for part in fh]) == "ünïcode text"
    with pytest.raises(ZeroDivisionError):
        async with node.open("wb") as fh:
            await fh.write(b"never committed")
            1 / 0  # noqa: B018
    assert await node.read() == "ünïcode text"
    with pytest.raises(ValueError, match="Invalid mode"):
        node.open("ab")
    with pytest.raises(ValueError, match="async with"):
        await node.open("wb").write(b"no block")
    async with node.open("rb") as fh:
        with pytest.raises(ValueError, match="not open for writing"):
            await fh.write(b"x")
    async with node.open("wb") as fh:
        with pytest.raises(ValueError, match="not open for reading"):
            await fh.read()


async def test_open_writer_reports_a_write_failure(astorage: AsyncStorageManager) -> None:
    astorage.configure([{"name": "ro", "path": "mem:", "permissions": "readonly"}])
    with pytest.raises(PermissionError):
        async with astorage.node("ro:x.bin").open("wb") as fh:
            await fh.write(b"x")


async def test_copy_move_and_sync(astorage: AsyncStorageManager, mount: str) -> None:
    for name in ("a", "b"):
        await astorage.node(f"home:src/{name}.txt").write(name)
    assert await astorage.node("home:src").copy_to(astorage.node(f"{mount}:dst")) is None
    assert await astorage.node(f"{mount}:dst/b.txt").read() == "b"
    report = await astorage.node("home:src").sync_to(f"{mount}:dst")
    assert report.copied == [] and len(report.skipped) == 2
    moving = astorage.node(f"{mount}:dst/a.txt")
    assert await moving.move_to(f"{mount}:moved/a.txt") is None
    assert moving.fullpath == f"{mount}:moved/a.txt" and await moving.read() == "a"
    assert not await astorage.node(f"{mount}:dst/a.txt").exists()


async def test_many_concurrent_reads(astorage: AsyncStorageManager, mount: str) -> None:
    """40 gathered writes, then 40 gathered reads, each its own content (that no read is
    held to a small connection pool: test_gathered_reads_are_not_held_to_a_small_pool)."""
    nodes = [astorage.node(f"{mount}:many/{i:03d}.bin") for i in range(40)]
    await asyncio.gather(*(n.write_bytes(b"%03d" % i * 1000) for i, n in enumerate(nodes)))
    datas = await asyncio.gather(*(n.read_bytes() for n in nodes))
    assert datas == [b"%03d" % i * 1000 for i in range(40)]


async def test_thread_edge_helpers(astorage: AsyncStorageManager) -> None:
    node = astorage.node("mem:h.txt")
    await node.write("hi")
    assert await node.to_base64() == "data:text/plain;base64,aGk="
    assert (await node.zip()).startswith(b"PK")
    assert await node.get_metadata() == {}
    assert await node.url() is None
    stat = await node.stat()
    assert stat.size == 2 and not stat.is_dir


# ---------------------------------------------------------------------- native edge
@pytest.fixture
def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions the async API sent to a worker thread."""
    calls: list[str] = []
    real = aio.run_in_thread

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(aio, "run_in_thread", counting)
    return calls


@pytest.mark.services
@pytest.mark.parametrize("kind", REMOTE)
async def test_object_stores_run_natively_without_threads(
    storage: StorageManager, thread_calls: list[str], kind: str
) -> None:
    from tests.remote import add_remote_mount

    add_remote_mount(storage, kind, "os")
    astorage = AsyncStorageManager(storage)
    await astorage.node("os:warm.txt").write("w")  # opens this loop's session
    thread_calls.clear()
    node = astorage.node("os:n/native.txt")
    await node.write("native")
    assert await node.read() == "native" and await node.read_range(0, 3) == b"nat"
    assert await node.exists() and await node.isfile() and await node.size() == 6
    assert await node.md5hash() == hashlib.md5(b"native").hexdigest()
    assert [c.basename for c in await astorage.node("os:n").children()] == ["native.txt"]
    assert b"".join([c async for c in node.iter_bytes()]) == b"native"
    await node.write_stream(_agen([b"a", b"b"]))
    await asyncio.gather(*(astorage.node("os:n/native.txt").read() for _ in range(20)))
    assert thread_calls == []


@pytest.mark.services
async def test_s3_read_is_a_single_get(storage: StorageManager) -> None:
    from tests.remote import S3Requests, add_remote_mount

    s3 = add_remote_mount(storage, "s3", "s3")
    node = AsyncStorageManager(storage).node("s3:one.bin")
    await node.write_bytes(b"1" * 100_000)
    async with S3Requests(str(s3["endpoint"]), str(s3["bucket"])) as rec:
        assert await node.read_bytes() == b"1" * 100_000
    assert rec.summary() == ["GET object"]  # no HEAD before it
    sync_node = storage.node("s3:one.bin")
    async with S3Requests(str(s3["endpoint"]), str(s3["bucket"])) as rec:
        assert await anyio.to_thread.run_sync(sync_node.read_bytes) == b"1" * 100_000
    assert rec.summary() == ["GET object"]


@pytest.mark.services
async def test_s3_file_delete_is_one_head_and_one_delete(storage: StorageManager) -> None:
    from tests.remote import S3Requests, add_remote_mount

    s3 = add_remote_mount(storage, "s3", "s3")
    manager = AsyncStorageManager(storage)
    for name in ("a.bin", "d/b.bin", "d/c.bin"):
        await manager.node(f"s3:{name}").write_bytes(b"1")
    async with S3Requests(str(s3["endpoint"]), str(s3["bucket"])) as rec:
        await manager.node("s3:a.bin").delete()  # through the worker thread
        await anyio.to_thread.run_sync(storage.node("s3:d/b.bin").delete)
    # fsspec's rm listed and HEADed the path again, then a bulk-delete POST
    assert rec.summary() == ["HEAD object", "DELETE object"] * 2
    assert not await manager.node("s3:a.bin").exists()
    assert [n.basename for n in await manager.node("s3:d").children()] == ["c.bin"]
    await manager.node("s3:missing.bin").delete()  # nothing there: nothing to do
    await manager.node("s3:d").delete()  # a folder: everything under it
    assert not await manager.node("s3:d/c.bin").exists()


def _target_port(kind: str) -> int:
    """The port of the test server of ``kind`` (gcs or azure)."""
    import urllib.parse

    from tests.services import require_services

    env = require_services(kind)
    if kind == "gcs":
        return int(urllib.parse.urlsplit(env["SVC_GCS_ENDPOINT"]).port or 0)
    conn = env["SVC_AZURE_CONNECTION_STRING"]
    blob = next(p for p in conn.split(";") if p.startswith("BlobEndpoint="))
    return int(urllib.parse.urlsplit(blob.split("=", 1)[1]).port or 0)


def _proxied_mount(kind: str, area: dict[str, Any], proxy_port: int) -> dict[str, Any]:
    """Mount ``p``: the test's bucket/container through a proxy on ``proxy_port``."""
    from tests.services import require_services

    env, port = require_services(kind), _target_port(kind)
    if kind == "gcs":
        endpoint = env["SVC_GCS_ENDPOINT"].replace(f":{port}", f":{proxy_port}")
        return {
            "name": "p",
            "type": "gcs",
            "bucket": area["bucket"],
            "endpoint_url": endpoint,
            "token": "anon",
            "project": "test",
        }
    return {
        "name": "p",
        "type": "azure",
        "container": area["container"],
        "account_name": "devstoreaccount1",
        "connection_string": env["SVC_AZURE_CONNECTION_STRING"].replace(
            f":{port}/", f":{proxy_port}/"
        ),
    }


@pytest.mark.services
@pytest.mark.parametrize("kind", ["gcs", "azure"])
async def test_gathered_reads_are_not_held_to_a_small_pool(
    storage: StorageManager, kind: str
) -> None:
    """40 reads gathered at once each get a connection (S3's twin, with botocore's pool
    raised to 100: tests/backends/test_s3_transfers.py): gcsfs and adlfs keep aiohttp's
    default of 100, so behind a 50 ms round trip none waits for another's connection; and
    each read is one request."""
    from bench.netproxy import NetProxy
    from tests._procs import free_port
    from tests.remote import add_remote_mount

    area = add_remote_mount(storage, kind, "direct")
    direct = AsyncStorageManager(storage)
    for i in range(40):
        await direct.node(f"direct:{i}.bin").write_bytes(bytes([i]) * 1024)
    await direct.aclose()
    with NetProxy(_target_port(kind), rtt=0.2, port=free_port()) as proxy:
        proxied = StorageManager()
        proxied.configure([_proxied_mount(kind, area, proxy.port)])
        manager = AsyncStorageManager(proxied)
        try:
            await manager.node("p:0.bin").read_bytes()  # the session
            proxy.peak_connections = proxy.open_connections
            before = proxy.requests
            nodes = [manager.node(f"p:{i}.bin") for i in range(40)]
            datas = await asyncio.gather(*(n.read_bytes() for n in nodes))
            sent = proxy.requests - before
        finally:
            await manager.aclose()
    assert datas == [bytes([i]) * 1024 for i in range(40)]
    assert proxy.peak_connections > 30
    assert sent == 40  # one GET per read: no metadata request before it


@pytest.mark.services
@pytest.mark.parametrize("kind", ["gcs", "azure"])
async def test_streamed_reads_without_a_streamed_get_ask_no_size_first(
    storage: StorageManager, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gcsfs and adlfs have no streamed GET: ``iter_bytes`` reads ranged blocks. A file
    shorter than a block is one request (it was a metadata request for the size, then
    the GET); longer ones ask the size once, after the first block. Every size comes back
    whole, an empty file included."""
    from bench.netproxy import NetProxy
    from genro_storage.engine import aio_native
    from tests._procs import free_port
    from tests.remote import add_remote_mount

    block = 64 * 1024
    monkeypatch.setattr(aio_native, "STREAM_BLOCK", block)
    area = add_remote_mount(storage, kind, "direct")
    sizes = {"empty": 0, "small": 1000, "block": block, "blocks": block * 3 + block // 2}
    payloads = {name: os.urandom(size) for name, size in sizes.items()}
    direct = AsyncStorageManager(storage)
    for name, payload in payloads.items():
        await direct.node(f"direct:{name}.bin").write_bytes(payload)
    await direct.node("direct:folder/inside.bin").write_bytes(b"1")
    await direct.aclose()
    with NetProxy(_target_port(kind), port=free_port()) as proxy:
        proxied = StorageManager()
        proxied.configure([_proxied_mount(kind, area, proxy.port)])
        manager = AsyncStorageManager(proxied)
        try:
            await manager.node("p:small.bin").exists()  # the session
            sent = {}
            for name, payload in payloads.items():
                before = await _settled_count(proxy)  # no straggler of the last read
                chunks = [c async for c in manager.node(f"p:{name}.bin").iter_bytes(8192)]
                sent[name] = proxy.requests - before
                assert b"".join(chunks) == payload, name
                assert all(len(c) <= 8192 for c in chunks)
            with pytest.raises(FileNotFoundError):
                _ = [c async for c in manager.node("p:missing.bin").iter_bytes()]
            with pytest.raises(IsADirectoryError):
                _ = [c async for c in manager.node("p:folder").iter_bytes()]
        finally:
            await manager.aclose()
    # one ranged GET: no size asked first (a size costs gcsfs one or two requests, as
    # its object and listing requests race: the larger files' counts are not fixed)
    assert sent["small"] == 1
    assert sent["blocks"] > sent["block"] > 1  # the size, and more blocks


async def _settled_count(proxy: Any) -> int:
    """The proxy's request count once no request has arrived for 0.2 s (gcsfs may still
    be sending a racing listing of the previous call)."""
    last = proxy.requests
    while True:
        await asyncio.sleep(0.2)
        if proxy.requests == last:
            return int(last)
        last = proxy.requests


@pytest.mark.services
async def test_s3_under_a_relative_mount_runs_natively(
    storage: StorageManager, thread_calls: list[str]
) -> None:
    from tests.remote import add_remote_mount

    add_remote_mount(storage, "s3", "s3")
    storage.configure([{"name": "sub", "path": "s3:area", "permissions": "readonly"}])
    await AsyncStorageManager(storage).node("s3:area/x/f.txt").write("deep")
    thread_calls.clear()
    sub = AsyncStorageManager(storage).node("sub:x")
    assert [c.fullpath for c in await sub.children()] == ["sub:x/f.txt"]
    assert await (sub / "f.txt").read() == "deep"
    assert (await (sub / "f.txt").stat()).path == "x/f.txt"
    with pytest.raises(PermissionError):
        await (sub / "f.txt").write("no")
    assert thread_calls == []


@pytest.mark.services
async def test_http_reads_natively(storage: StorageManager, thread_calls: list[str]) -> None:
    from tests.remote import add_remote_mount

    add_remote_mount(storage, "http", "web")
    node = AsyncStorageManager(storage).node("web:a.txt")
    assert await node.read() == "hello http\n"
    thread_calls.clear()
    assert await node.size() == 11
    big = AsyncStorageManager(storage).node("web:sub/big.bin")
    total = 0
    async for chunk in big.iter_bytes(256 * 1024):
        total += len(chunk)
    assert total == 1_000_000
    assert thread_calls == []


async def test_memory_and_local_go_through_worker_threads(
    astorage: AsyncStorageManager, thread_calls: list[str]
) -> None:
    await astorage.node("mem:x.txt").write("x")
    await astorage.node("mem:x.txt").read_bytes()
    assert thread_calls == ["_write_payload", "read_bytes"]


async def test_manager_aclose_reopens_on_demand(storage: StorageManager) -> None:
    async with AsyncStorageManager(storage) as astorage:
        await astorage.node("mem:a").write("a")
    assert await astorage.node("mem:a").read() == "a"
    await astorage.aclose()


async def test_native_edge_maps_client_errors_like_the_sync_path(
    astorage: AsyncStorageManager, storage: StorageManager
) -> None:
    import socket

    from genro_storage.errors import StorageConnectionError

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    storage.configure(
        [
            {
                "name": "down",
                "type": "s3",
                "bucket": "b",
                "key": "k",
                "secret": "s",
                "endpoint_url": f"http://127.0.0.1:{port}",
                "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
            }
        ]
    )
    node = astorage.node("down:a.txt")
    for call in (node.read_bytes, node.exists, node.size):
        with pytest.raises(StorageConnectionError, match="down"):
            await call()
    with pytest.raises(StorageConnectionError, match="down"):
        async for _ in node.iter_bytes():
            pass
