"""Console benchmark: paging a 10,000-entry S3 folder, and a 1 GiB upload's memory.

    .venv/bin/python bench/bench_console.py [--entries 10000] [--upload-mib 1024]

1. A moto S3 server of our own gets ``--entries`` objects under ``big/``; the console
   (``python -m genro_storage.console`` under uvicorn, on a loopback socket) lists that
   folder through ``GET /api/list`` page by page. Reported: the S3 listing requests moto
   received per page (moto's recorder), the first page's time (what a person waits for)
   and the whole folder's.
2. ``--upload-mib`` MiB are streamed through ``PUT /api/upload`` (the endpoint the page
   uses) and through the ``multipart/form-data`` ``POST /api/upload`` to a local mount,
   and to the S3 mount with ``--s3-upload``; the console
   process's RSS is sampled every 20 ms (psutil): reported is its growth over the RSS
   before the upload.

Starts and stops (by PID) its own moto server and console; takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_copy import KEY, SECRET, Moto, free_port  # noqa: E402

MiB = 1024 * 1024


def fill(moto: Moto, bucket: str, entries: int) -> None:
    import boto3

    client = boto3.client(
        "s3", endpoint_url=moto.endpoint, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, region_name="us-east-1",
    )  # fmt: skip
    client.create_bucket(Bucket=bucket)

    def put(i: int) -> None:
        client.put_object(Bucket=bucket, Key=f"big/file-{i:05d}.txt", Body=b"x" * (i % 97))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(entries)))


def start_console(config: Path, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port({int(os.environ.get("GENRO_BENCH_PORT", "0"))})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = open(workdir / "console.log", "wb")  # noqa: SIM115 - the process keeps it
    proc = subprocess.Popen(
        [sys.executable, "-m", "genro_storage.console", "--config", str(config),
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/api/mounts", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the console did not start")


def list_folder(url: str, limit: int) -> tuple[int, float, float, int]:
    """(pages, first page seconds, total seconds, entries)."""
    pages = entries = 0
    cursor = None
    first = 0.0
    start = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60) as client:
        while True:
            params = {"mount": "s3", "path": "big", "limit": str(limit), "cursor": cursor or ""}
            page = client.get("/api/list", params=params).json()
            pages += 1
            entries += len(page["entries"])
            if pages == 1:
                first = time.perf_counter() - start
            cursor = page["next_cursor"]
            if not cursor:
                break
    return pages, first, time.perf_counter() - start, entries


def list_direct(moto: Moto, limit: int) -> tuple[int, float, float]:
    """The same pages straight from S3 with boto3: (pages, first page s, total s)."""
    import boto3

    client = boto3.client(
        "s3", endpoint_url=moto.endpoint, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, region_name="us-east-1",
    )  # fmt: skip
    client.list_buckets()  # connect first: the console's client is warm too
    params = {"Bucket": "bench", "Prefix": "big/", "Delimiter": "/", "MaxKeys": limit}
    pages = 0
    first = 0.0
    start = time.perf_counter()
    while True:
        answer = client.list_objects_v2(**params)
        pages += 1
        if pages == 1:
            first = time.perf_counter() - start
        if not answer.get("IsTruncated"):
            break
        params["ContinuationToken"] = answer["NextContinuationToken"]
    return pages, first, time.perf_counter() - start


class Generated:
    """A file-like object reading ``mib`` MiB of one random MiB repeated (no disk, no RAM)."""

    def __init__(self, mib: int) -> None:
        self.chunk = os.urandom(MiB)
        self.left = mib * MiB

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        out = (self.chunk * (size // MiB + 1))[:size] if size > MiB else self.chunk[:size]
        self.left -= len(out)
        return out


def upload(
    url: str, mount: str, mib: int, pid: int, form: bool = False
) -> tuple[float, float, float]:
    """(seconds, RSS before in MiB, peak growth in MiB) for ``mib`` MiB through the API:
    ``PUT`` of the raw body (what the page sends), or a ``multipart/form-data`` POST."""
    process = psutil.Process(pid)
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.02)

    chunk = os.urandom(MiB)

    def body() -> Iterator[bytes]:
        for _ in range(mib):
            yield chunk

    watcher = threading.Thread(target=sample)
    watcher.start()
    start = time.perf_counter()
    with httpx.Client(base_url=url, timeout=600) as client:
        csrf = client.get("/").cookies["genro_csrf"]
        if form:
            answer = client.post(
                "/api/upload",
                params={"mount": mount, "path": "upload", "overwrite": "1"},
                files={"file": ("form.bin", Generated(mib), "application/octet-stream")},
                headers={"X-CSRF-Token": csrf},
            )
            written = answer.json()["files"][0]["written"] if answer.status_code == 201 else 0
        else:
            answer = client.put(
                "/api/upload",
                params={"mount": mount, "path": "upload/big.bin", "overwrite": "1"},
                content=body(),
                headers={"X-CSRF-Token": csrf},
            )
            written = answer.json()["written"] if answer.status_code == 201 else 0
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    if written != mib * MiB:
        raise SystemExit(f"upload failed: {answer.status_code} {answer.text[:200]}")
    return seconds, before / MiB, (peak - before) / MiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=1000, help="entries per page (max 1000)")
    parser.add_argument("--upload-mib", type=int, default=1024)
    parser.add_argument("--s3-upload", action="store_true", help="also upload to S3 (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        work = Path(tmp)
        moto = Moto(work)
        proc = None
        try:
            t = time.perf_counter()
            fill(moto, "bench", args.entries)
            print(f"seeded {args.entries} objects in {time.perf_counter() - t:.1f}s")
            (work / "local").mkdir()
            config = work / "console.yaml"
            mounts = [
                {"name": "s3", "type": "s3", "bucket": "bench", "endpoint_url": moto.endpoint,
                 "key": KEY, "secret": SECRET},
                {"name": "local", "type": "local", "path": str(work / "local")},
            ]  # fmt: skip
            config.write_text(yaml.safe_dump(mounts))
            proc, url = start_console(config, work)
            httpx.get(url + "/api/mounts", timeout=30)  # the versioning probe, once
            for limit in (args.page, 200):
                moto.record()
                pages, first, total, entries = list_folder(url, limit)
                lists = sum(n for kind, n in moto.recorded().items() if kind.endswith("LIST"))
                _, raw_first, raw_total = list_direct(moto, limit)
                print(
                    f"list {entries} entries, {limit}/page: {pages} pages, {lists} S3 list "
                    f"requests; first page {first * 1000:.0f} ms, whole folder {total:.2f} s "
                    f"(boto3 straight to moto: {raw_first * 1000:.0f} ms, {raw_total:.2f} s)"
                )
            targets = ["local", *(["s3"] if args.s3_upload else [])]
            for mount, form in [(m, f) for m in targets for f in (False, True)]:
                seconds, before, growth = upload(url, mount, args.upload_mib, proc.pid, form)
                how = "multipart POST" if form else "PUT"
                print(
                    f"upload {args.upload_mib} MiB ({how}) to {mount}: {seconds:.1f}s "
                    f"({args.upload_mib / seconds:.0f} MiB/s), server RSS {before:.0f} MiB "
                    f"before, growth {growth:.1f} MiB"
                )
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(10)
            moto.stop()


if __name__ == "__main__":
    main()
