"""``genro://`` with ``asynchronous=True``: fsspec's coroutine API inside a running loop.

On local and memory mounts (and through the backend API) every coroutine takes the thread
edge; on S3 (moto) the mount's s3fs coroutines are awaited on the caller's loop: the
request log lines botocore emits come from the loop's own thread, never from fsspec's IO
thread or a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import fsspec
import pytest

from genro_storage import StorageManager
from genro_storage.integrations.fsspec import GenroFileSystem, register
from tests.remote import add_remote_mount

register()

CSV = b"name,qty\nbolt,3\nnut,7\n"


def run(main: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(main())  # type: ignore[arg-type]


@pytest.fixture(params=["local", "memory", "backend-api"])
def mounts(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if request.param == "local":
        data = {"name": "data", "type": "local", "path": str(tmp_path / "root")}
        (tmp_path / "root").mkdir()
    else:
        data = {"name": "data", "type": "memory", "base_path": f"/afs-{tmp_path.name}"}
    config = [data, {"name": "ro", "path": "data:shared", "permissions": "readonly"}]
    return {"config": config, "direct": request.param != "backend-api"}


def test_fsspec_filesystem_asynchronous_in_a_running_loop(
    mounts: dict[str, Any], tmp_path: Path
) -> None:
    async def main() -> None:
        fs = fsspec.filesystem("genro", asynchronous=True, skip_instance_cache=True, **mounts)
        assert isinstance(fs, GenroFileSystem) and fs.asynchronous and fs.async_impl
        await fs._pipe_file("genro://data/shared/parts.csv", CSV)
        await fs._pipe_file("data/shared/deep/a.csv", CSV)
        assert await fs._cat_file("data/shared/parts.csv") == CSV
        assert await fs._cat_file("data/shared/parts.csv", start=5, end=8) == CSV[5:8]
        assert await fs._cat_file("data/shared/parts.csv", start=-4) == CSV[-4:]
        info = await fs._info("ro/parts.csv")
        assert (info["name"], info["size"], info["type"]) == ("ro/parts.csv", len(CSV), "file")
        assert (await fs._info("data/shared"))["type"] == "directory"
        assert sorted(await fs._ls("data/shared", detail=False)) == [
            "data/shared/deep",
            "data/shared/parts.csv",
        ]
        assert await fs._ls("", detail=False) == ["data", "ro"]
        assert await fs._find("data") == ["data/shared/deep/a.csv", "data/shared/parts.csv"]
        assert await fs._glob("data/**/*.csv") == [
            "data/shared/deep/a.csv",
            "data/shared/parts.csv",
        ]
        assert await fs._exists("data/shared/parts.csv")
        assert not await fs._exists("data/missing.csv")
        assert not await fs._exists("nomount/x")
        assert await fs._isdir("data/shared") and await fs._isfile("ro/deep/a.csv")
        with pytest.raises(FileNotFoundError):
            await fs._cat_file("data/missing.csv")

        # bulk coroutines gather the per-file ones
        names = [f"data/many/f{i}.txt" for i in range(12)]
        await asyncio.gather(*(fs._pipe_file(n, n.encode()) for n in names))
        got = await asyncio.gather(*(fs._cat_file(n) for n in names))
        assert got == [n.encode() for n in names]
        assert await fs._cat(names[:3]) == {n: n.encode() for n in names[:3]}

        local = tmp_path / "up.bin"
        local.write_bytes(b"uploaded")
        await fs._put_file(str(local), "data/up/up.bin")
        await fs._get_file("data/up/up.bin", str(tmp_path / "down" / "up.bin"))
        assert (tmp_path / "down" / "up.bin").read_bytes() == b"uploaded"
        await fs._cp_file("data/up/up.bin", "data/up/copy.bin")
        assert await fs._cat_file("data/up/copy.bin") == b"uploaded"
        await fs._rm_file("data/up/copy.bin")
        assert not await fs._exists("data/up/copy.bin")
        await fs._rm("data/many", recursive=True)
        assert not await fs._exists("data/many/f0.txt")

        with pytest.raises(PermissionError, match="'ro'"):
            await fs._pipe_file("ro/new.csv", b"x")
        with pytest.raises(PermissionError, match="'ro'"):
            await fs._rm_file("ro/parts.csv")
        with pytest.raises(FileExistsError):
            await fs._pipe_file("data/shared/parts.csv", b"x", mode="create")
        with pytest.raises(ValueError):
            await fs._cat_file("data/../etc/passwd")

    run(main)


def test_sync_face_is_unchanged_and_never_starts_a_loop() -> None:
    fs = GenroFileSystem(config=[{"name": "m", "type": "memory", "base_path": "/afs-sync"}])
    assert not fs.asynchronous
    fs.pipe("m/x.txt", b"x")
    assert fs.cat("m/x.txt") == b"x"
    assert fs._loop is None  # fsspec's IO thread was never needed
    clone = __import__("pickle").loads(__import__("pickle").dumps(fs))
    assert clone.cat("m/x.txt") == b"x" and not clone.asynchronous


def test_open_async_needs_an_async_driver() -> None:
    async def main() -> None:
        fs = GenroFileSystem(
            config=[{"name": "m", "type": "memory", "base_path": "/afs-open"}], asynchronous=True
        )
        await fs._pipe_file("m/x.txt", b"x")
        with pytest.raises(NotImplementedError, match="mount 'm'"):
            await fs.open_async("m/x.txt")
        with pytest.raises(ValueError):
            await fs.open_async("m/x.txt", "wb")

    run(main)


# ---------------------------------------------------------------------- S3: native edge


def _s3_requests(caplog: pytest.LogCaptureFixture, mount: str) -> list[logging.LogRecord]:
    head = f"mount '{mount}' (s3): "
    return [
        r
        for r in caplog.records
        if r.getMessage().startswith(head) and r.getMessage().split(head)[1][:1].isupper()
    ]


@pytest.mark.services
def test_s3_coroutines_run_on_the_callers_loop(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    manager = StorageManager(env=False)
    add_remote_mount(manager, "s3", "lake")
    manager.configure([{"name": "lake_ro", "path": "lake:in", "permissions": "readonly"}])
    config = manager.mount_configs()
    manager.close()

    async def main() -> int:
        fs = fsspec.filesystem("genro", asynchronous=True, config=config, skip_instance_cache=True)
        await fs._pipe_file("lake/in/warm.txt", b"w")  # opens this loop's s3fs session
        caplog.clear()
        names = [f"lake/in/p{i}.csv" for i in range(8)]
        await asyncio.gather(*(fs._pipe_file(n, CSV) for n in names))
        assert await asyncio.gather(*(fs._cat_file(n) for n in names)) == [CSV] * 8
        assert await fs._cat_file(names[0], start=0, end=4) == CSV[:4]
        assert (await fs._info("lake_ro/p0.csv"))["ETag"]
        assert len(await fs._ls("lake/in", detail=True)) == 9
        assert await fs._find("lake_ro") == sorted(
            ["lake_ro/warm.txt", *(f"lake_ro/p{i}.csv" for i in range(8))]
        )
        (tmp_path / "up.csv").write_bytes(CSV)
        await fs._put_file(str(tmp_path / "up.csv"), "lake/out/up.csv")
        assert await fs._cat_file("lake/out/up.csv") == CSV
        await fs._cp_file(names[0], "lake/out/copy.csv")
        reader = await fs.open_async("lake/out/copy.csv")
        assert await reader.read() == CSV
        await reader.close()
        await fs._rm_file("lake/out/copy.csv")
        with pytest.raises(PermissionError, match="'lake_ro'"):
            await fs._pipe_file("lake_ro/x.csv", b"x")
        return threading.get_ident()

    with caplog.at_level(logging.DEBUG, logger="genro_storage"):
        loop_thread = run(main)
    requests = _s3_requests(caplog, "lake")
    kinds = {r.getMessage().split()[3] for r in requests}
    assert {"PutObject", "GetObject", "HeadObject", "ListObjectsV2", "CopyObject"} <= kinds
    assert len([r for r in requests if " PutObject " in r.getMessage()]) == 9
    # every request was sent by s3fs on the loop's own thread: no thread hop
    assert {r.thread for r in requests} == {loop_thread}

    # the sync face of the same configuration sends from fsspec's IO thread instead
    caplog.clear()
    sync_fs = GenroFileSystem(config=config)
    with caplog.at_level(logging.DEBUG, logger="genro_storage"):
        assert sync_fs.cat_file("lake/in/p1.csv") == CSV
    assert loop_thread not in {r.thread for r in _s3_requests(caplog, "lake")}
    sync_fs.manager.close()
