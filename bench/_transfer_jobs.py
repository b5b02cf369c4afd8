"""One timed transfer job in a fresh process, for ``bench_transfers.py``.

    python bench/_transfer_jobs.py TOOL ROW '{"endpoint": ..., ...}'

Prints the seconds the transfer itself took (imports and set-up excluded) on its last
line; the parent reads the peak RSS of this process from ``wait4``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if os.environ.get("GENRO_BENCH_CODE"):  # ``--compare DIR``: another tree's genro_storage
    sys.path.insert(0, os.environ["GENRO_BENCH_CODE"])


def s3_options(p: dict[str, Any]) -> dict[str, Any]:
    return {"key": p["key"], "secret": p["secret"], "endpoint_url": p["endpoint"]}


def ours(row: str, p: dict[str, Any]) -> float:
    from genro_storage import StorageManager

    storage = StorageManager()
    mounts: list[dict[str, Any]] = [
        {"name": "local", "type": "local", "path": p["local"]},
        {"name": "s3", "type": "s3", "bucket": p["bucket"], **s3_options(p)},
    ]
    storage.configure(mounts)
    src, dest = p["src"], p["dest"]
    if row == "async-reads":
        return asyncio.run(_ours_async(storage, p))
    start = time.perf_counter()
    if row == "resync-large":
        storage.node(src).sync_to(dest, skip=p.get("skip", "size"))
    else:
        storage.node(src).copy_to(dest)
    return time.perf_counter() - start


async def _ours_async(storage: Any, p: dict[str, Any]) -> float:
    from genro_storage import AsyncStorageManager

    manager = AsyncStorageManager(storage)
    nodes = [manager.node(f"s3:{name}") for name in p["keys"]]
    await nodes[0].read_bytes()  # the session: every tool gets one warm connection
    start = time.perf_counter()
    datas = await asyncio.gather(*(n.read_bytes() for n in nodes))
    elapsed = time.perf_counter() - start
    assert all(len(d) == p["size"] for d in datas)
    await manager.aclose()
    return elapsed


def fsspec(row: str, p: dict[str, Any]) -> float:
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


async def _fsspec_async(p: dict[str, Any]) -> float:
    import s3fs

    fs = s3fs.S3FileSystem(**s3_options(p), asynchronous=True, skip_instance_cache=True)
    session = await fs.set_session()
    paths = [f"{p['bucket']}/{name}" for name in p["keys"]]
    await fs._cat_file(paths[0])
    start = time.perf_counter()
    datas = await asyncio.gather(*(fs._cat_file(path) for path in paths))
    elapsed = time.perf_counter() - start
    assert all(len(d) == p["size"] for d in datas)
    await session.close()
    return elapsed


def obstore(row: str, p: dict[str, Any]) -> float:
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

    async def run() -> float:
        await (await obs.get_async(store, p["keys"][0])).bytes_async()
        start = time.perf_counter()
        results = await asyncio.gather(*(obs.get_async(store, k) for k in p["keys"]))
        datas = await asyncio.gather(*(r.bytes_async() for r in results))
        elapsed = time.perf_counter() - start
        assert all(len(d) == p["size"] for d in datas)
        return elapsed

    if row != "async-reads":
        raise SystemExit(f"obstore has no {row}")
    return asyncio.run(run())


def main() -> None:
    tool, row, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    seconds = {"ours": ours, "fsspec": fsspec, "obstore": obstore}[tool](row, params)
    print(f"{seconds:.6f}", flush=True)
    os._exit(0)  # obstore's runtime can abort at interpreter teardown; the figure is out


if __name__ == "__main__":
    main()
