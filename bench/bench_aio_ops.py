"""Per-operation cost of the async API against the async drivers under it (issue 15).

    .venv/bin/python bench/bench_aio_ops.py [--stores s3,local,memory] [--server s3rver|moto]
        [--reps 100] [--rounds 5] [--json FILE]

For each store and operation, the same work is awaited through an ``AsyncStorageNode``
(``ours``) and through the driver directly (``raw``), one operation at a time, in
alternating rounds in one process; the best round is kept, and the process CPU time
(``time.process_time``) of that round is shown beside the wall time. ``ours/raw`` above
1.0 is our overhead.

- ``s3``: the raw side is s3fs with ``asynchronous=True`` on the same loop (its coroutines
  ``_info``, ``_cat_file``, ``_pipe_file``, ``_ls``, ``_rm_file``); ours runs natively on the
  loop too (``engine/aio_native``). The server is s3rver by default (Node, keep-alive: the
  client's cost shows) or moto (``--server moto``: a new connection per request, and the
  server's CPU is most of each request). It is started on a loopback port and stopped by
  its PID (``bench_transfers.Server``).
- ``local`` and ``memory``: ours goes through a worker thread (blocking calls never run on
  the loop); the raw side is the fsspec call in ``asyncio.to_thread``, the same hop.

Nodes are made before the timing; every repetition touches its own object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_transfers import BUCKET, Server  # noqa: E402
from genro_storage import AsyncStorageManager, StorageManager  # noqa: E402

PAYLOAD = os.urandom(1024)
LISTED = 100  # files in the folder listed by the ``ls`` row
AsyncOp = Callable[[int], Awaitable[Any]]  # repetition ``i`` of an operation


class Side:
    """One store seen two ways: ours (async nodes) and raw (the driver, awaited)."""

    def __init__(self, store: str, manager: AsyncStorageManager, fs: Any, root: str) -> None:
        self.store, self.manager, self.fs, self.root = store, manager, fs, root

    def node(self, rel: str) -> Any:
        return self.manager.node(f"m:{rel}")

    def raw(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """The raw driver call: the coroutine of an async fs, else the sync call in a thread."""
        if getattr(self.fs, "asynchronous", False):
            return await getattr(self.fs, f"_{name}")(*args, **kwargs)
        return await asyncio.to_thread(getattr(self.fs, name), *args, **kwargs)


async def populate(side: Side, reps: int) -> None:
    for prefix in ("ours", "raw"):
        for i in range(reps):
            await side.call("pipe_file", side.raw(f"{prefix}/one/f{i:05d}.bin"), PAYLOAD)
        for i in range(LISTED):
            await side.call("pipe_file", side.raw(f"{prefix}/list/f{i:05d}.bin"), PAYLOAD)
        for i in range(reps):
            await side.call("pipe_file", side.raw(f"{prefix}/del/f{i:05d}.bin"), PAYLOAD)


def operations(side: Side, reps: int, tag: str) -> dict[str, tuple[AsyncOp, AsyncOp]]:
    """name -> (ours, raw); ``tag`` keeps each round's written objects apart."""
    one = [side.node(f"ours/one/f{i:05d}.bin") for i in range(reps)]
    raw_one = [side.raw(f"raw/one/f{i:05d}.bin") for i in range(reps)]
    written = [side.node(f"ours/w{tag}/f{i:05d}.bin") for i in range(reps)]
    raw_written = [side.raw(f"raw/w{tag}/f{i:05d}.bin") for i in range(reps)]
    gone = [side.node(f"ours/del/f{i:05d}.bin") for i in range(reps)]
    raw_gone = [side.raw(f"raw/del/f{i:05d}.bin") for i in range(reps)]
    listing, raw_listing = side.node("ours/list"), side.raw("raw/list")
    delete_raw = "rm_file" if getattr(side.fs, "asynchronous", False) else "rm"

    async def raw_exists(i: int) -> bool:
        return bool(await side.call("exists", raw_one[i]))

    ops: dict[str, tuple[AsyncOp, AsyncOp]] = {
        "exists": (lambda i: one[i].exists(), raw_exists),
        "stat": (lambda i: one[i].stat(), lambda i: side.call("info", raw_one[i])),
        "read 1 KiB": (lambda i: one[i].read_bytes(), lambda i: side.call("cat_file", raw_one[i])),
        "read range 100 B": (
            lambda i: one[i].read_range(0, 100),
            lambda i: side.call("cat_file", raw_one[i], start=0, end=100),
        ),
        "write 1 KiB": (
            lambda i: written[i].write_bytes(PAYLOAD),
            lambda i: side.call("pipe_file", raw_written[i], PAYLOAD),
        ),
        f"ls {LISTED} names (children)": (
            lambda i: listing.children(),
            lambda i: side.call("ls", raw_listing, detail=True),
        ),
        "delete": (lambda i: gone[i].delete(), lambda i: side.call(delete_raw, raw_gone[i])),
    }
    return ops


async def timed(op: AsyncOp, reps: int) -> tuple[float, float]:
    """(wall, CPU) seconds per operation over ``reps`` awaited one after the other."""
    cpu, start = time.process_time(), time.perf_counter()
    for i in range(reps):
        await op(i)
    return (time.perf_counter() - start) / reps, (time.process_time() - cpu) / reps


def make_storage(store: str, work: Path, server: Server | None) -> tuple[StorageManager, Any, str]:
    storage = StorageManager()
    if store == "s3":
        assert server is not None
        import s3fs

        creds = {"key": server.key, "secret": server.key, "endpoint_url": server.endpoint}
        storage.configure([{"name": "m", "type": "s3", "bucket": BUCKET, **creds}])
        fs = s3fs.S3FileSystem(
            **creds, asynchronous=True, skip_instance_cache=True, use_listings_cache=False
        )
        return storage, fs, BUCKET
    import fsspec

    if store == "local":
        root = work / "local"
        root.mkdir()
        storage.configure([{"name": "m", "type": "local", "path": str(root)}])
        return storage, fsspec.filesystem("file", auto_mkdir=True), str(root)
    tag = f"bench-aio-{uuid.uuid4().hex[:8]}"
    storage.configure([{"name": "m", "type": "memory", "base_path": tag}])
    return storage, fsspec.filesystem("memory"), f"/{tag}"


async def run_store(store: str, args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    server = Server(args.server, work) if store == "s3" else None
    try:
        storage, fs, root = make_storage(store, work, server)
        if getattr(fs, "asynchronous", False):
            session = await fs.set_session()
            if args.server == "moto":
                await fs._mkdir(BUCKET)
        manager = AsyncStorageManager(storage)
        side = Side(store, manager, fs, root)
        reps = args.reps
        await populate(side, reps * args.rounds)
        await side.node("ours/one/f00000.bin").read_bytes()  # sessions and pools warm
        await side.call("cat_file", side.raw("raw/one/f00000.bin"))
        best: dict[str, dict[str, tuple[float, float]]] = {}
        for r in range(args.rounds):
            ops = operations(side, reps * args.rounds, f"{r}")
            for name, (ours, raw) in ops.items():
                # each round takes its own slice of objects (deletes need fresh ones)
                offset = r * reps
                for label, op in (("ours", ours), ("raw", raw)):

                    async def shifted(i: int, op: AsyncOp = op, offset: int = offset) -> Any:
                        return await op(offset + i)

                    figure = await timed(shifted, reps)
                    kept = best.setdefault(name, {}).get(label)
                    if kept is None or figure[0] < kept[0]:
                        best[name][label] = figure
        await manager.aclose()
        if getattr(fs, "asynchronous", False):
            await session.close()
    finally:
        if server is not None:
            server.stop()
    rows = []
    for name, figures in best.items():
        (ours_wall, ours_cpu), (raw_wall, raw_cpu) = figures["ours"], figures["raw"]
        rows.append(
            {
                "store": store,
                "operation": name,
                "ours_us": ours_wall * 1e6,
                "raw_us": raw_wall * 1e6,
                "ours_cpu_us": ours_cpu * 1e6,
                "raw_cpu_us": raw_cpu * 1e6,
                "ratio": ours_wall / raw_wall,
                "cpu_ratio": ours_cpu / raw_cpu if raw_cpu else float("nan"),
            }
        )
        print(
            f"| {store} | {name} | {ours_wall * 1e6:,.0f} ({ours_cpu * 1e6:,.0f}) "
            f"| {raw_wall * 1e6:,.0f} ({raw_cpu * 1e6:,.0f}) | {ours_wall / raw_wall:.2f} "
            f"| {rows[-1]['cpu_ratio']:.2f} |",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="s3,local,memory")
    parser.add_argument("--server", default="s3rver", choices=("moto", "s3rver"))
    parser.add_argument("--reps", type=int, default=100, help="operations per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    print(f"best of {args.rounds} rounds of {args.reps} awaited operations; S3 on {args.server}")
    print("| store | operation | ours us (CPU us) | raw us (CPU us) | ours/raw | CPU ours/raw |")
    print("|---|---|---:|---:|---:|---:|")
    figures: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="genro-bench-aio-") as tmp:
        for store in args.stores.split(","):
            store_dir = Path(tmp) / store
            store_dir.mkdir()
            figures += asyncio.run(run_store(store.strip(), args, store_dir))
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
