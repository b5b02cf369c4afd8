"""``genro://`` overhead: a 100 MiB Parquet file from S3 (moto) read by pyarrow, as a ratio.

    .venv/bin/python bench/bench_fsspec.py [--mib 100] [--rounds 3]

Same run, same server, same file, alternating:

- **s3fs**: ``pq.read_table(path, filesystem=PyFileSystem(FSSpecHandler(s3fs)))``, what a
  pyarrow user without genro-storage writes;
- **genro**: the same through ``GenroFileSystem`` on an S3 mount of that bucket
  (``genro://data/big.parquet``);
- **pyarrow S3** (anchor): pyarrow's own C++ S3 client, no fsspec at all.

The best of ``--rounds`` counts; the goal is genro/s3fs within 1.1x. Starts its own moto
server (see bench_copy.py) and stops it by PID at the end. About a minute.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_copy import KEY, SECRET, Moto  # noqa: E402

from genro_storage import StorageManager  # noqa: E402


def make_parquet(path: Path, mib: int) -> int:
    """An uncompressed Parquet file of about ``mib`` MiB of random doubles."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = mib * 1024 * 1024 // (8 * 4)
    rng = np.random.default_rng(14)
    table = pa.table({f"c{i}": rng.random(rows) for i in range(4)})
    pq.write_table(table, path, compression="none", row_group_size=rows // 8)
    return table.num_rows


def best(fn: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import pyarrow.fs as pafs
    import pyarrow.parquet as pq
    import s3fs

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        moto = Moto(work)
        try:
            local = work / "big.parquet"
            rows = make_parquet(local, args.mib)
            size = local.stat().st_size
            plain = s3fs.S3FileSystem(key=KEY, secret=SECRET, endpoint_url=moto.endpoint)
            plain.mkdir("bench")
            plain.put_file(str(local), "bench/big.parquet")

            storage = StorageManager(env=False)
            storage.configure(
                [
                    {
                        "name": "data",
                        "type": "s3",
                        "bucket": "bench",
                        "key": KEY,
                        "secret": SECRET,
                        "endpoint_url": moto.endpoint,
                    }
                ]
            )
            via_s3fs = pafs.PyFileSystem(pafs.FSSpecHandler(plain))
            via_genro = pafs.PyFileSystem(pafs.FSSpecHandler(storage.fs))
            native = pafs.S3FileSystem(
                access_key=KEY,
                secret_key=SECRET,
                endpoint_override=moto.endpoint,
                scheme="http",
                region="us-east-1",
            )

            def read_s3fs() -> None:
                assert pq.read_table("bench/big.parquet", filesystem=via_s3fs).num_rows == rows

            def read_genro() -> None:
                assert pq.read_table("data/big.parquet", filesystem=via_genro).num_rows == rows

            def read_native() -> None:
                assert pq.read_table("bench/big.parquet", filesystem=native).num_rows == rows

            read_s3fs(), read_genro()  # warm: connections, the bucket's first read
            results: dict[str, list[float]] = {"s3fs": [], "genro": [], "pyarrow S3": []}
            for _ in range(args.rounds):  # alternate, so load drifts hit both alike
                results["s3fs"].append(best(read_s3fs, 1))
                results["genro"].append(best(read_genro, 1))
                results["pyarrow S3"].append(best(read_native, 1))
            storage.close()
        finally:
            moto.stop()

    mib = size / 2**20
    print(f"Parquet file: {mib:.1f} MiB, {rows} rows; best of {args.rounds} rounds")
    print(f"{'reader':<12} {'best s':>8} {'MiB/s':>8}")
    for name, times in results.items():
        print(f"{name:<12} {min(times):8.3f} {mib / min(times):8.1f}")
    ratio = min(results["genro"]) / min(results["s3fs"])
    print(f"genro:// / s3fs = {ratio:.3f}x (goal <= 1.1x)")


if __name__ == "__main__":
    main()
