"""``skip='hash'`` re-runs of an unchanged tree: time per file as the tree grows.

    .venv/bin/python bench/bench_skip_hash.py [--files 1000,10000] [--dests memory,local]

For each size, a tree of 1 KiB files on local disk is copied to the destination once
(untimed), then ``sync_to(dest, skip='hash')`` runs twice on the unchanged tree: the
first re-run hashes every file (each side's MD5; local MD5s then sit in the process's
cache, keyed by path, size, mtime, inode and device), the second finds the local MD5s in
that cache. Both must skip every file; the figure is microseconds per file, which should
stay flat from 1,000 to 10,000 files (issue 15 measured 443 us/file at 1k and
2,323 us/file at 10k onto a memory mount: quadratic). One process; the process CPU per
file is printed beside the wall time (on a shared machine the wall time moves with load).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genro_storage import StorageManager  # noqa: E402


def make_tree(root: Path, files: int) -> None:
    for i in range(files):
        folder = root / f"d{i // 100:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:06d}.bin").write_bytes(os.urandom(1024))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", default="1000,10000")
    parser.add_argument("--dests", default="memory,local")
    args = parser.parse_args()
    sizes = [int(n) for n in args.files.split(",")]
    print("us per file, wall (process CPU in brackets)")
    print(f"{'dest':7s} {'files':>7s} {'copy':>13s} {'re-run 1':>13s} {'re-run 2':>13s}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        storage = StorageManager(env=False)
        storage.configure(
            [
                {"name": "disk", "type": "local", "path": str(work)},
                {"name": "mem", "type": "memory", "base_path": f"skip-{uuid.uuid4().hex[:8]}"},
            ]
        )
        for files in sizes:
            make_tree(work / f"src{files}", files)
        for dest_kind in args.dests.split(","):
            for files in sizes:
                src = storage.node(f"disk:src{files}")
                mount = "mem" if dest_kind == "memory" else "disk"
                dest = storage.node(f"{mount}:dst-{dest_kind}-{files}")
                began, cpu = time.perf_counter(), time.process_time()
                src.copy_to(dest)
                runs = [(time.perf_counter() - began, time.process_time() - cpu)]
                for _ in range(2):
                    began, cpu = time.perf_counter(), time.process_time()
                    report = src.sync_to(dest, skip="hash")
                    runs.append((time.perf_counter() - began, time.process_time() - cpu))
                    assert not report.copied and len(report.skipped) == files, report
                cells = [f"{w / files * 1e6:6.0f} ({c / files * 1e6:3.0f})" for w, c in runs]
                print(f"{dest_kind:7s} {files:7d} " + " ".join(f"{c:>13s}" for c in cells))


if __name__ == "__main__":
    main()
