"""Client CPU per small file: our S3 tree copies, and another tree's, alternating.

    .venv/bin/python bench/bench_client_cpu.py --compare /tmp/base-session
        [--files 300] [--runs 3]

Wall time on a shared machine moves by 30-50% between rounds; the CPU time of our own
process (``time.process_time()`` around ``copy_to``: every thread of the client, the
server excluded) is the steadier measure of the client's work per file. Each run is a
fresh process: 300 x 4 KiB up (local -> S3), then the same tree down (S3 -> local), ours
and ``--compare DIR``'s package alternating; ``start`` is the CPU of the process's first
S3 question (a missing key: HEAD and a one-key listing), session and client made on the
way, as in every fresh CLI or job process. The server is moto, started as
``bench_transfers`` starts it (``GENRO_BENCH_PORT``) and stopped by its PID (s3rver
answers ``InternalError`` to the one-key listing that stats a fresh prefix here).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_transfers import BUCKET, Server  # noqa: E402

JOB = """
import os, sys, tempfile, time, uuid
sys.path.insert(0, os.environ["GENRO_BENCH_CODE"])
from genro_storage import StorageManager
endpoint, key, files = sys.argv[1], sys.argv[2], int(sys.argv[3])
work = tempfile.mkdtemp()
os.makedirs(work + "/src")
for i in range(files):
    with open(f"{work}/src/f{i:04d}.bin", "wb") as fh:
        fh.write(os.urandom(4096))
storage = StorageManager()
storage.configure([
    {"name": "s3", "type": "s3", "bucket": sys.argv[4], "key": key, "secret": key,
     "endpoint_url": endpoint},
    {"name": "disk", "type": "local", "path": work},
])
prefix = "cpu-" + uuid.uuid4().hex[:8]
cpu = time.process_time()
storage.node("s3:" + prefix + "-warm").exists  # the client is made outside the copies
print("start", f"{time.process_time() - cpu:.3f}", flush=True)
for label, src, dest in (("up", "disk:src", "s3:" + prefix), ("down", "s3:" + prefix, "disk:back")):
    cpu = time.process_time()
    storage.node(src).copy_to(dest)
    print(label, f"{time.process_time() - cpu:.3f}", flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", required=True, help="another tree holding genro_storage")
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    with tempfile.TemporaryDirectory() as work:
        server = Server("moto", Path(work))
        try:
            import boto3

            boto3.client(
                "s3",
                endpoint_url=server.endpoint,
                aws_access_key_id=server.key,
                aws_secret_access_key=server.secret,
                region_name="us-east-1",
            ).create_bucket(Bucket=BUCKET)
            figures: dict[str, dict[str, list[float]]] = {}
            for _ in range(args.runs):
                for label, code in (("ours", str(ROOT)), ("before", args.compare)):
                    out = subprocess.run(
                        [
                            sys.executable,
                            "-c",
                            JOB,
                            server.endpoint,
                            server.key,
                            str(args.files),
                            BUCKET,
                        ],
                        env={**os.environ, "GENRO_BENCH_CODE": code},
                        capture_output=True,
                        text=True,
                        check=True,
                        timeout=300,
                    ).stdout
                    for line in out.splitlines():
                        way, seconds = line.split()
                        figures.setdefault(way, {}).setdefault(label, []).append(float(seconds))
        finally:
            server.stop()
    print(f"client CPU seconds for {args.files} x 4 KiB on moto ({args.runs} runs)")
    for way, by_label in figures.items():
        per = args.files if way != "start" else 0
        cells = [
            f"{label} {min(v):.3f}-{max(v):.3f}"
            + (f" ({min(v) / per * 1000:.2f} ms/file)" if per else "")
            for label, v in by_label.items()
        ]
        print(f"{way:5} " + "; ".join(cells))


if __name__ == "__main__":
    main()
