"""One timed transfer job in a fresh process, for ``bench_transfers.py``.

    python bench/_transfer_jobs.py TOOL ROW '{"endpoint": ..., ...}'

Prints the seconds the transfer itself took (imports and set-up excluded) on its last
line, followed for the async reads and our large-object rows by the process CPU seconds
(``time.process_time``: every thread, so obstore's runtime threads too) over the same
span; the parent reads the peak RSS of this process from ``wait4``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if os.environ.get("GENRO_BENCH_CODE"):  # ``--compare DIR``: another tree's genro_storage
    sys.path.insert(0, os.environ["GENRO_BENCH_CODE"])


def s3_options(p: dict[str, Any]) -> dict[str, Any]:
    return {"key": p["key"], "secret": p["secret"], "endpoint_url": p["endpoint"]}


def ours(row: str, p: dict[str, Any]) -> float | tuple[float, float]:
    from genro_storage import StorageManager

    storage = StorageManager()
    client = {"client": p["client"]} if p.get("client") else {}
    mounts: list[dict[str, Any]] = [
        {"name": "local", "type": "local", "path": p["local"]},
        {"name": "s3", "type": "s3", "bucket": p["bucket"], **s3_options(p), **client},
    ]
    storage.configure(mounts)
    src, dest = p["src"], p["dest"]
    if row == "async-reads":
        return asyncio.run(_ours_async(storage, p))
    cpu, start = time.process_time(), time.perf_counter()
    if row == "resync-large":
        storage.node(src).sync_to(dest, skip=p.get("skip", "size"))
    else:
        storage.node(src).copy_to(dest)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return (elapsed, cpu) if row.endswith("-large") else elapsed


async def _timed_reads(
    p: dict[str, Any], read: Callable[[str], Awaitable[bytes]]
) -> tuple[float, float]:
    """One warm read (the session: every tool gets one warm connection), then all the
    reads at once: (wall seconds, process CPU seconds) of the concurrent part."""
    await read(p["keys"][0])
    cpu, start = time.process_time(), time.perf_counter()
    datas = await asyncio.gather(*(read(key) for key in p["keys"]))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert all(len(d) == p["size"] for d in datas)
    return elapsed, cpu


async def _ours_async(storage: Any, p: dict[str, Any]) -> tuple[float, float]:
    from genro_storage import AsyncStorageManager

    manager = AsyncStorageManager(storage)
    figures = await _timed_reads(p, lambda key: manager.node(f"s3:{key}").read_bytes())
    await manager.aclose()
    return figures


def fsspec(row: str, p: dict[str, Any]) -> float | tuple[float, float]:
    """Raw fsspec, the layer under our drivers: s3fs / LocalFileSystem, one call."""
    import fsspec as _fsspec

    if row == "local-small":
        fs = _fsspec.filesystem("file")
        start = time.perf_counter()
        fs.copy(p["src_os"] + "/", p["dest_os"], recursive=True)
        return time.perf_counter() - start
    import s3fs

    fs = s3fs.S3FileSystem(**s3_options(p), skip_instance_cache=True)
    if row == "async-reads":
        return asyncio.run(_fsspec_async(p))
    start = time.perf_counter()
    if row in ("up-small", "up-large"):
        fs.put(p["src_os"], p["dest_s3"], recursive=row == "up-small")
    elif row in ("down-small", "down-large"):
        fs.get(p["src_s3"], p["dest_os"], recursive=row == "down-small")
    else:
        raise SystemExit(f"fsspec has no {row}")
    return time.perf_counter() - start


async def _fsspec_async(p: dict[str, Any]) -> tuple[float, float]:
    import s3fs

    fs = s3fs.S3FileSystem(**s3_options(p), asynchronous=True, skip_instance_cache=True)
    session = await fs.set_session()
    figures = await _timed_reads(p, lambda key: fs._cat_file(f"{p['bucket']}/{key}"))
    await session.close()
    return figures


def aiobotocore(row: str, p: dict[str, Any]) -> tuple[float, float]:
    """The bare aiobotocore client (what s3fs and our S3 mounts drive), its pool sized to
    the reads in flight: the floor of any botocore-based client."""
    if row != "async-reads":
        raise SystemExit(f"aiobotocore has no {row}")
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

    async def run() -> tuple[float, float]:
        config = AioConfig(max_pool_connections=len(p["keys"]), signature_version="s3v4")
        async with AioSession().create_client(
            "s3",
            endpoint_url=p["endpoint"],
            aws_access_key_id=p["key"],
            aws_secret_access_key=p["secret"],
            region_name="us-east-1",
            config=config,
        ) as client:

            async def read(key: str) -> bytes:
                answer = await client.get_object(Bucket=p["bucket"], Key=key)
                async with answer["Body"] as body:
                    return bytes(await body.read())

            return await _timed_reads(p, read)

    return asyncio.run(run())


def obstore(row: str, p: dict[str, Any]) -> tuple[float, float]:
    import obstore as obs
    from obstore.store import S3Store

    store = S3Store(
        p["bucket"],
        endpoint=p["endpoint"],
        access_key_id=p["key"],
        secret_access_key=p["secret"],
        region="us-east-1",
        client_options={"allow_http": True},
        virtual_hosted_style_request=False,
    )

    async def read(key: str) -> bytes:
        return bytes(await (await obs.get_async(store, key)).bytes_async())

    async def run() -> tuple[float, float]:
        return await _timed_reads(p, read)

    if row != "async-reads":
        raise SystemExit(f"obstore has no {row}")
    return asyncio.run(run())


def main() -> None:
    tool, row, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    jobs: dict[str, Callable[[str, dict[str, Any]], float | tuple[float, float]]] = {
        "ours": ours,
        "ours-obstore": lambda row, p: ours(row, {**p, "client": "obstore"}),
        "fsspec": fsspec,
        "aiobotocore": aiobotocore,
        "obstore": obstore,
    }
    figures = jobs[tool](row, params)
    if isinstance(figures, tuple):  # seconds and CPU seconds
        print(f"{figures[0]:.6f} {figures[1]:.6f}", flush=True)
    else:
        print(f"{figures:.6f}", flush=True)
    os._exit(0)  # obstore's runtime can abort at interpreter teardown; the figure is out


if __name__ == "__main__":
    main()
