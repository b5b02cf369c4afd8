"""Copy and async benchmark against a real S3 server (moto), in one run, as ratios.

    .venv/bin/python bench/bench_copy.py [--files 1000] [--size 4096] [--rounds 2]

1. 1,000 files of 4 KiB from local disk to S3: genro-storage ``copy_to`` vs
   ``rclone copy`` (Debian's rclone, default settings) vs a serial loop of per-file
   ``copy_to`` calls. Each run writes to a fresh prefix; the best of ``--rounds`` counts.
2. The same copy again with ``skip='hash'`` on the unchanged tree: the requests the S3
   server sees (moto's request recorder), ours and rclone's.
3. 100 concurrent async reads of 64 KiB objects vs 100 sequential ones.

The script starts its own moto server on a free loopback port (19540-19599 unless
``GENRO_BENCH_PORT`` says otherwise) and stops it by PID at the end. Installs nothing
except rclone through apt-get when it is missing and we are root. Takes about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genro_storage import AsyncStorageManager, StorageManager  # noqa: E402
from genro_storage.backends.fsspec import FsspecBackend  # noqa: E402
from genro_storage.capabilities import BackendCapabilities  # noqa: E402

KEY = SECRET = "testing"


# ---------------------------------------------------------------------- moto server
def free_port(exclude: set[int] | None = None) -> int:
    wanted = os.environ.get("GENRO_BENCH_PORT")
    candidates = [int(wanted)] if wanted and not exclude else range(19540, 19600)
    for port in candidates:
        if exclude and port in exclude:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free loopback port in 19540-19599 (set GENRO_BENCH_PORT)")


class Moto:
    """A moto server of our own: started here, stopped by its PID."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.recording = workdir / "moto_recording"
        exe = Path(sys.executable).with_name("moto_server")
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=str(self.recording))
        self.log = open(workdir / "moto.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit("moto_server exited at start") from None
                time.sleep(0.2)
        self.stop()
        raise SystemExit("moto_server did not answer within 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def _recorder(self, action: str) -> bytes:
        req = urllib.request.Request(
            f"{self.endpoint}/moto-api/recorder/{action}", data=b"", method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.read()

    def record(self) -> None:
        self._recorder("reset-recording")
        self._recorder("start-recording")

    def recorded(self) -> Counter[str]:
        """Requests since ``record()``, by ``METHOD kind`` (list / object / bucket)."""
        self._recorder("stop-recording")
        raw = urllib.request.urlopen(
            f"{self.endpoint}/moto-api/recorder/download-recording", timeout=10
        ).read()
        kinds: Counter[str] = Counter()
        for line in raw.decode().splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            path, _, query = entry["url"].split("://", 1)[-1].partition("/")[2].partition("?")
            if query == "versioning":  # an S3 mount asks once, for its capabilities
                kind = "versioning"
            elif "list-type" in query or (entry["method"] == "GET" and "/" not in path):
                kind = "LIST"
            elif "/" in path:
                kind = "object"
            else:
                kind = "bucket"
            kinds[f"{entry['method']} {kind}"] += 1
        return kinds


class DelayProxy:
    """A loopback TCP proxy adding ``delay`` seconds before each request reaches moto.

    moto answers from one Python process, so on a small machine it is CPU-bound and
    concurrency has little latency to hide. Real object stores sit a network round trip
    away; this proxy gives moto that round trip (the proxy runs in its own thread/loop).
    """

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port, self.delay = target_port, delay
        self.port = free_port(exclude={target_port})
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        turn = {"client": True}  # a new request starts when the client speaks after a reply

        async def pipe(src: Any, dst: Any, from_client: bool) -> None:
            try:
                while data := await src.read(65536):
                    if from_client and turn["client"]:
                        await asyncio.sleep(self.delay)
                    turn["client"] = not from_client
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

    def stop(self) -> None:
        def shutdown() -> None:
            self.server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(shutdown)
        self.thread.join(10)


# ---------------------------------------------------------------------- set-up
def make_tree(root: Path, files: int, size: int) -> None:
    for i in range(files):
        folder = root / f"d{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:05d}.bin").write_bytes(os.urandom(size))


def storage_for(moto: Any, bucket: str, local: Path) -> StorageManager:
    """local: the tree; s3: the bucket (through the s3 backend when it exists)."""
    import s3fs

    storage = StorageManager()
    storage.configure([{"name": "local", "type": "local", "path": str(local)}])
    config = {
        "name": "s3",
        "type": "s3",
        "bucket": bucket,
        "key": KEY,
        "secret": SECRET,
        "endpoint_url": moto.endpoint,
    }
    try:
        storage.configure([config])
    except Exception:  # no s3 backend module yet: the generic fsspec backend over s3fs
        fs = s3fs.S3FileSystem(key=KEY, secret=SECRET, endpoint_url=moto.endpoint)
        caps = BackendCapabilities(hash_on_metadata=True, copy_optimization=True)
        storage._mounts["s3"] = FsspecBackend(fs, bucket, "s3", "s3", caps)
    return storage


def rclone_env(moto: Moto) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}  # plain http here
    env.update(
        RCLONE_CONFIG_MOTO_TYPE="s3",
        RCLONE_CONFIG_MOTO_PROVIDER="Other",
        RCLONE_CONFIG_MOTO_ACCESS_KEY_ID=KEY,
        RCLONE_CONFIG_MOTO_SECRET_ACCESS_KEY=SECRET,
        RCLONE_CONFIG_MOTO_ENDPOINT=moto.endpoint,
        RCLONE_CONFIG_MOTO_REGION="us-east-1",
        RCLONE_CONFIG="/dev/null",
    )
    return env


def find_rclone() -> str | None:
    found = shutil.which("rclone")
    if found or os.geteuid() != 0:
        return found
    print("rclone missing: apt-get install -y rclone", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "rclone"], check=False)
    return shutil.which("rclone")


def timed(func: Any) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


# ---------------------------------------------------------------------- the runs
def bench_copy(moto: Moto, local: Path, rounds: int) -> dict[str, Any]:
    import s3fs

    fs = s3fs.S3FileSystem(key=KEY, secret=SECRET, endpoint_url=moto.endpoint)
    fs.mkdir("bench")
    storage = storage_for(moto, "bench", local)
    rclone = find_rclone()
    env = rclone_env(moto)
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*.bin"))
    times: dict[str, list[float]] = {"ours": [], "rclone": [], "serial": []}

    def serial(prefix: str) -> None:
        for rel in files:
            storage.node(f"local:{rel}").copy_to(f"s3:{prefix}/{rel}")

    for r in range(rounds):
        times["ours"].append(timed(lambda r=r: storage.node("local:").copy_to(f"s3:ours{r}")))
        if rclone:
            cmd = [rclone, "copy", str(local), f"moto:bench/rclone{r}"]
            times["rclone"].append(
                timed(lambda cmd=cmd: subprocess.run(cmd, env=env, check=True, capture_output=True))
            )
        times["serial"].append(timed(lambda r=r: serial(f"serial{r}")))
        print(
            f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items() if v),
            flush=True,
        )
    best = {k: min(v) for k, v in times.items() if v}

    copied: list[str] = []
    moto.record()
    rerun = timed(
        lambda: storage.node("local:").copy_to(
            "s3:ours0", skip="hash", on_file=lambda n: copied.append(n.path or "")
        )
    )
    ours_requests = moto.recorded()
    rclone_requests: Counter[str] = Counter()
    if rclone:
        moto.record()
        subprocess.run(
            [rclone, "copy", str(local), "moto:bench/rclone0"],
            env=env,
            check=True,
            capture_output=True,
        )
        rclone_requests = moto.recorded()
    return {
        "best": best,
        "rerun_seconds": rerun,
        "rerun_copied": len(copied),
        "rerun_requests": dict(ours_requests),
        "rclone_rerun_requests": dict(rclone_requests),
        "rclone": rclone,
    }


async def _async_reads(endpoint: str, count: int, size: int) -> dict[str, float]:
    class Endpoint:  # storage_for() reads only .endpoint
        pass

    where = Endpoint()
    where.endpoint = endpoint  # type: ignore[attr-defined]
    storage = AsyncStorageManager(storage_for(where, "bench", Path(tempfile.gettempdir())))
    nodes = [storage.node(f"s3:async/{i:03d}.bin") for i in range(count)]
    payload = os.urandom(size)
    await asyncio.gather(*(n.write_bytes(payload) for n in nodes))
    await nodes[0].read_bytes()  # warm: this loop's S3 session
    start = time.perf_counter()
    for node in nodes:
        await node.read_bytes()
    sequential = time.perf_counter() - start
    start = time.perf_counter()
    datas = await asyncio.gather(*(n.read_bytes() for n in nodes))
    concurrent = time.perf_counter() - start
    assert all(d == payload for d in datas)
    await storage.aclose()
    return {"sequential": sequential, "concurrent": concurrent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rtt", type=float, default=20, help="simulated round trip, ms")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="genro-bench-") as tmp:
        work = Path(tmp)
        local = work / "tree"
        make_tree(local, args.files, args.size)
        moto = Moto(work)
        try:
            print(f"moto server {moto.endpoint} (pid {moto.proc.pid})", flush=True)
            print(f"1. {args.files} files of {args.size} bytes, local -> S3", flush=True)
            copy = bench_copy(moto, local, args.rounds)
            print("3. 100 async reads of 64 KiB", flush=True)
            reads = asyncio.run(_async_reads(moto.endpoint, 100, 64 * 1024))
            proxy = DelayProxy(moto.port, args.rtt / 1000)
            try:
                far = asyncio.run(_async_reads(proxy.endpoint, 100, 64 * 1024))
            finally:
                proxy.stop()
        finally:
            moto.stop()
    best = copy["best"]
    print(f"\nresults (best of {args.rounds} rounds)")
    print(f"  genro-storage copy_to     {best['ours']:6.2f} s")
    if "rclone" in best:
        print(
            f"  rclone copy               {best['rclone']:6.2f} s"
            f"   ratio rclone/ours = {best['rclone'] / best['ours']:.2f}"
        )
    else:
        print("  rclone copy               (rclone not installed)")
    print(
        f"  serial copy_to loop       {best['serial']:6.2f} s"
        f"   ratio serial/ours = {best['serial'] / best['ours']:.2f}"
    )
    total = sum(copy["rerun_requests"].values())
    print(
        f"2. re-run skip='hash' on the unchanged tree: {copy['rerun_seconds']:.2f} s, "
        f"{copy['rerun_copied']} copied, {total} requests {copy['rerun_requests']}"
    )
    if copy["rclone_rerun_requests"]:
        rc_total = sum(copy["rclone_rerun_requests"].values())
        print(f"   rclone re-run: {rc_total} requests {copy['rclone_rerun_requests']}")
    for label, r in (("moto", reads), (f"moto + {args.rtt:g} ms round trip", far)):
        print(
            f"3. async reads ({label}): 100 sequential {r['sequential']:.2f} s, "
            f"100 concurrent {r['concurrent']:.2f} s, "
            f"speed-up x{r['sequential'] / r['concurrent']:.1f}"
        )
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.json:
        figures = {"copy": copy, "reads": reads, "reads_with_rtt": far}
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
