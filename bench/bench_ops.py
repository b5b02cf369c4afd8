"""Per-operation cost of a node against raw fsspec, as a ratio (issue 15: within 1.2x).

    .venv/bin/python bench/bench_ops.py [--stores local,memory,s3] [--rounds 5]
        [--list-files 1000] [--json FILE] [--clock wall|cpu]

For each store and operation, the same work is timed through a ``StorageNode`` (``ours``)
and through the fsspec filesystem under it (``fsspec``: ``LocalFileSystem``,
``MemoryFileSystem``, ``s3fs``), in alternating rounds in one process, best round kept.
``ours/fsspec`` above 1.0 is our overhead. Nodes (sources and destinations) are made
before the timing: the operation's cost, not the path parsing. Every repetition touches
its own file (new files for writes and copies). Writes are ours atomic (temp + rename on disk),
fsspec's in place. ``delete`` has two fsspec anchors: ``rm_file`` (one file, no question
asked) and ``rm(path, recursive=True)``, the call with our ``delete()``'s meaning (a
folder goes with its tree; ours also ignores a missing path, fsspec's raises).
s3fs' ``ls`` is asked with ``refresh=True``: it would otherwise answer from
its listing cache after the first round (ours lists every time). ``s3`` starts its own
moto server (``bench_copy.Moto``, stopped by its PID) and takes fewer repetitions: moto's
CPU, not the client, dominates there.

The memory store is fsspec's process-wide one: both sides list and look up in the same
store, which also holds the other side's files (as an application's would).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from genro_storage import StorageManager  # noqa: E402

PAYLOAD = os.urandom(1024)
Op = Callable[[int], None]  # runs repetition ``i`` of an operation


class Side:
    """One store seen two ways: ``node(rel)`` (ours) and ``raw`` paths (fsspec)."""

    def __init__(self, storage: StorageManager, mount: str, fs: Any, raw_root: str) -> None:
        self.storage, self.mount, self.fs, self.raw_root = storage, mount, fs, raw_root
        self.ls_options: dict[str, Any] = {"refresh": True} if mount == "s3" else {}

    def node(self, rel: str) -> Any:
        return self.storage.node(f"{self.mount}:{rel}")

    def raw(self, rel: str) -> str:
        return f"{self.raw_root}/{rel}"


def populate(side: Side, list_files: int, reps: int) -> None:
    """The same files on both sides: one listing folder, one tree, single files."""
    fs = side.fs
    for prefix in ("ours", "raw"):
        for folder, count in (("list", list_files), ("one", reps), ("two", reps)):
            for i in range(count):
                name = f"{prefix}/{folder}/f{i:05d}.bin"
                if prefix == "ours":
                    side.node(name).write_bytes(PAYLOAD)
                else:
                    fs.pipe_file(side.raw(name), PAYLOAD)


def operations(side: Side, list_files: int, count: int) -> dict[str, tuple[Op, Op]]:
    """name -> (ours, fsspec), each doing repetition ``i`` of the operation."""
    fs = side.fs
    one = [side.node(f"ours/one/f{i:05d}.bin") for i in range(count)]
    two = [side.node(f"ours/two/f{i:05d}.bin") for i in range(count)]
    written = [side.node(f"ours/w/f{i:05d}.bin") for i in range(count)]
    copies = [side.node(f"ours/c/f{i:05d}.bin") for i in range(count)]
    listing = side.node("ours/list")

    def ours_exists(i: int) -> None:
        assert one[i].exists

    def raw_exists(i: int) -> None:
        assert fs.exists(side.raw(f"raw/one/f{i:05d}.bin"))

    def ours_stat(i: int) -> None:
        assert one[i].stat().size == len(PAYLOAD)

    def raw_stat(i: int) -> None:
        assert fs.info(side.raw(f"raw/one/f{i:05d}.bin"))["size"] == len(PAYLOAD)

    def ours_read(i: int) -> None:
        assert len(one[i].read_bytes()) == len(PAYLOAD)

    def raw_read(i: int) -> None:
        assert len(fs.cat_file(side.raw(f"raw/one/f{i:05d}.bin"))) == len(PAYLOAD)

    def ours_write(i: int) -> None:
        written[i].write_bytes(PAYLOAD)

    def raw_write(i: int) -> None:
        fs.pipe_file(side.raw(f"raw/w/f{i:05d}.bin"), PAYLOAD)

    def ours_ls(i: int) -> None:
        assert len(listing.children()) == list_files

    def raw_ls(i: int) -> None:
        # (s3fs would answer from its listing cache after the first call: refresh=True)
        listed = fs.ls(side.raw("raw/list"), detail=False, **side.ls_options)
        assert len(listed) == list_files

    def ours_walk(i: int) -> None:
        assert sum(1 for _ in listing.walk()) == list_files

    def raw_walk(i: int) -> None:
        assert len(fs.find(side.raw("raw/list"), detail=True)) == list_files

    def ours_copy(i: int) -> None:
        one[i].copy_to(copies[i])

    def raw_copy(i: int) -> None:
        fs.cp_file(side.raw(f"raw/one/f{i:05d}.bin"), side.raw(f"raw/c/f{i:05d}.bin"))

    def ours_delete(i: int) -> None:
        one[i].delete()

    def raw_delete(i: int) -> None:
        fs.rm_file(side.raw(f"raw/one/f{i:05d}.bin"))

    def ours_delete_too(i: int) -> None:
        two[i].delete()

    def raw_rm_recursive(i: int) -> None:
        # our delete's meaning: a folder goes with its tree (fsspec raises on a missing
        # path where ours does nothing: every path here exists)
        fs.rm(side.raw(f"raw/two/f{i:05d}.bin"), recursive=True)

    return {
        "exists": (ours_exists, raw_exists),
        "stat": (ours_stat, raw_stat),
        "read 1 KiB": (ours_read, raw_read),
        "write 1 KiB": (ours_write, raw_write),
        "copy 1 KiB": (ours_copy, raw_copy),
        f"ls {list_files} names": (ours_ls, raw_ls),
        f"walk {list_files} (stat)": (ours_walk, raw_walk),
        # last: they remove the files the others use. Two fsspec anchors: rm_file (one
        # file, nothing else asked) and rm(recursive=True), the call with our meaning
        "delete / rm_file": (ours_delete, raw_delete),
        "delete / rm recursive": (ours_delete_too, raw_rm_recursive),
    }


def make_side(store: str, work: Path, servers: list[Any]) -> Side:
    tag = uuid.uuid4().hex[:8]
    storage = StorageManager(env=False)
    if store == "local":
        import fsspec

        root = work / "local"
        root.mkdir()
        storage.configure([{"name": "m", "type": "local", "path": str(root)}])
        return Side(storage, "m", fsspec.filesystem("file", auto_mkdir=True), str(root))
    if store == "memory":
        from fsspec.implementations.memory import MemoryFileSystem

        storage.configure([{"name": "m", "type": "memory", "base_path": f"bench-{tag}"}])
        return Side(storage, "m", MemoryFileSystem(), f"/bench-{tag}")
    if store == "s3":
        import s3fs
        from bench_copy import KEY, SECRET, Moto

        moto = Moto(work)
        servers.append(moto)
        creds = {"key": KEY, "secret": SECRET, "endpoint_url": moto.endpoint}
        fs = s3fs.S3FileSystem(**creds, skip_instance_cache=True)
        fs.mkdir("bench")
        storage.configure([{"name": "s3", "type": "s3", "bucket": "bench", **creds}])
        return Side(storage, "s3", fs, "bench")
    raise SystemExit(f"unknown store {store!r}")


#: what ``timed`` reads: wall time, or ``--clock cpu``: this process's CPU time (user +
#: system, so the kernel's work for our system calls counts), which a busy machine's other
#: processes do not inflate (s3: the server's CPU is another process's, so not counted)
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def timed(op: Op, reps: int, start: int) -> float:
    began = clock()
    for i in range(start, start + reps):
        op(i)
    return (clock() - began) / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", default="local,memory")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--list-files", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=200, help="repetitions per round (x0.1 on s3)")
    parser.add_argument("--json", default="")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        servers: list[Any] = []
        try:
            for store in args.stores.split(","):
                work = Path(tmp) / store
                work.mkdir()
                side = make_side(store, work, servers)
                reps = max(5, args.reps // 10) if store == "s3" else args.reps
                list_reps = 3 if store == "s3" else max(3, reps // 20)
                count = reps * args.rounds
                populate(side, args.list_files, count)
                for name, (ours, raw) in operations(side, args.list_files, count).items():
                    n = list_reps if name.startswith(("ls", "walk")) else reps
                    best = {"ours": float("inf"), "fsspec": float("inf")}
                    for r in range(args.rounds):  # alternating rounds, distinct files
                        best["ours"] = min(best["ours"], timed(ours, n, r * n))
                        best["fsspec"] = min(best["fsspec"], timed(raw, n, r * n))
                    rows.append({"store": store, "op": name, **best})
                    ratio = best["ours"] / best["fsspec"]
                    print(
                        f"{store:7s} {name:24s} ours {best['ours'] * 1e6:10.1f} us"
                        f"  fsspec {best['fsspec'] * 1e6:10.1f} us  ours/fsspec {ratio:5.2f}",
                        flush=True,
                    )
                side.storage.close()
        finally:
            for server in servers:
                server.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
