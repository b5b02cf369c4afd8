"""Transfers side by side: genro-storage vs rclone, s5cmd, raw fsspec and obstore.

    .venv/bin/python bench/bench_transfers.py [--rows up-small,down-large,...]
        [--server moto|s3rver] [--rtt 0,20] [--rounds 2] [--files 500] [--large-mib 100]
        [--local-files 10000] [--tools rclone,cp]

Every transfer runs in a fresh process (ours and fsspec through ``_transfer_jobs.py``,
rclone and s5cmd as their own binaries), tools interleaved inside each round; the best
round counts and the peak RSS of that process (``wait4``) is shown beside it. The ratio
is best anchor / ours: above 1.0 we are faster. For Python jobs the time excludes the
interpreter start and imports (they are reported by ``--rows startup`` instead).

S3 server: moto (default; one Python process answering ``Connection: close``, CPU-bound
on this machine) or s3rver (Node, ``scripts/install.sh`` puts it under
``.cache/bench-node``). ``--rtt 20`` puts every tool behind ``netproxy.NetProxy``: one
round trip per connection and one per request. Ports: 19750-19799 unless
``GENRO_BENCH_PORT`` names the first one. Everything started is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.netproxy import NetProxy, free_port  # noqa: E402

PY = sys.executable
JOBS = str(Path(__file__).with_name("_transfer_jobs.py"))
TIME = shutil.which("time") or "/usr/bin/time"  # GNU time (Debian package `time`)
FIRST_PORT = int(os.environ.get("GENRO_BENCH_PORT", "19750"))
BUCKET = "bench"
BEFORE = "before"  # ``--compare DIR``: our job run with DIR's genro_storage
ASYNC_READS = 100  # objects of 64 KiB read at once by the async-reads row
ROWS = (
    "up-small",
    "down-small",
    "up-large",
    "down-large",
    "resync-large",
    "local-small",
    "async-reads",
    "startup",
    "startup-ls",
    "startup-ls-s3",
)
#: our API on an S3 mount with ``client: obstore``, beside ``ours`` (botocore) in these rows
OBSTORE = "ours-obstore"
OBSTORE_ROWS = ("up-small", "down-small", "up-large", "down-large", "resync-large", "async-reads")
#: rows of one large object (``--large-mib``)
LARGE = ("up-large", "down-large", "resync-large")
#: rows timed on loopback only (no S3 request, or start-up rather than transfer)
LOOPBACK_ONLY = ("local-small", "startup", "startup-ls", "startup-ls-s3")


# ---------------------------------------------------------------------- S3 servers
class Server:
    """An S3 server of our own on a free loopback port, stopped by its PID."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.port = free_port(FIRST_PORT, FIRST_PORT + 49)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / f"{kind}.log", "wb")  # noqa: SIM115 - closed in stop()
        if kind == "moto":
            self.key = self.secret = "testing"
            cmd = [str(Path(PY).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(self.port)]
        elif kind == "s3rver":
            self.key = self.secret = "S3RVER"
            exe = ROOT / ".cache" / "bench-node" / "node_modules" / ".bin" / "s3rver"
            if not exe.exists():
                raise SystemExit(f"s3rver missing ({exe}): run scripts/install.sh")
            data = workdir / "s3rver"
            data.mkdir()
            cmd = [str(exe), "--address", "127.0.0.1", "--port", str(self.port)]
            cmd += ["--directory", str(data), "--silent", "--configure-bucket", BUCKET]
        else:
            raise SystemExit(f"unknown server {kind!r}")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1).read()
                break
            except urllib.error.HTTPError:
                break  # answering
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit(f"{kind} exited at start") from None
                time.sleep(0.2)
        else:
            self.stop()
            raise SystemExit(f"{kind} did not answer within 30 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def s3fs_for(endpoint: str, key: str) -> Any:
    import s3fs

    return s3fs.S3FileSystem(key=key, secret=key, endpoint_url=endpoint, skip_instance_cache=True)


# ---------------------------------------------------------------------- running one job
@dataclass
class Result:
    seconds: float
    rss_mib: float
    cpu: float | None = None  # process CPU seconds of the timed part (our Python jobs)
    process_cpu: float | None = None  # user + system CPU of the whole process (GNU time)


def run(cmd: list[str], env: dict[str, str], timed_inside: bool) -> Result:
    """Run ``cmd``; its time (wall, or the job's own last output line) and peak RSS.

    The RSS comes from GNU time: a child of ours would inherit this process's high-water
    mark through fork and exec (Linux), a grandchild does not.
    """
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        proc = subprocess.run(
            [TIME, "-f", "%M %U %S", "-o", rss.name, *cmd],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode(errors="replace")
        peak, user, system = (rss.read().strip().splitlines()[-1] or "0 0 0").split()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({proc.returncode}):\n{text[-2000:]}")
    peak_mib, process_cpu = int(peak) / 1024, float(user) + float(system)
    if not timed_inside:
        return Result(wall, peak_mib, process_cpu=process_cpu)
    figures = text.strip().splitlines()[-1].split()  # seconds [CPU seconds]
    cpu = float(figures[1]) if len(figures) > 1 else None
    return Result(float(figures[0]), peak_mib, cpu, process_cpu)


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, server: Server) -> None:
        self.args, self.work, self.server = args, work, server
        self.rclone = shutil.which("rclone")
        self.s5cmd = shutil.which("s5cmd") or str(Path(PY).with_name("s5cmd"))
        if not Path(self.s5cmd).exists():
            self.s5cmd = ""
        self.fs = s3fs_for(server.endpoint, server.key)
        self.counter = 0
        self.local_small = work / "small"
        self.local_many = work / "many"
        self.big = work / "big" / "big.bin"
        self.local_ls = work / "ls"

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    # ------------------------------------------------------------------ data
    def prepare(self, rows: list[str]) -> None:
        a = self.args
        if {"up-small", "down-small"} & set(rows):
            make_tree(self.local_small, a.files, a.size)
            self.fs.put(str(self.local_small) + "/", f"{BUCKET}/src-small", recursive=True)
        if {"up-large", "down-large", "resync-large"} & set(rows):
            self.big.parent.mkdir(parents=True, exist_ok=True)
            with open(self.big, "wb") as fh:
                for _ in range(a.large_mib):
                    fh.write(os.urandom(1024 * 1024))
            if "down-large" in rows:
                self.fs.put_file(str(self.big), f"{BUCKET}/src-large/big.bin")
        if "local-small" in rows:
            make_tree(self.local_many, a.local_files, 1024)
        if {"startup-ls", "startup-ls-s3"} & set(rows):
            make_tree(self.local_ls, 10, 100)
            self.fs.put(str(self.local_ls) + "/", f"{BUCKET}/src-ls", recursive=True)
        if "async-reads" in rows:
            payload = os.urandom(64 * 1024)
            for i in range(ASYNC_READS):
                self.fs.pipe_file(f"{BUCKET}/async/{i:03d}.bin", payload)

    # ------------------------------------------------------------------ environments
    def env(self, endpoint: str) -> dict[str, str]:
        key = self.server.key
        env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
        env.update(
            PYTHONPATH=str(ROOT),
            AWS_ACCESS_KEY_ID=key,
            AWS_SECRET_ACCESS_KEY=key,
            AWS_REGION="us-east-1",
            AWS_DEFAULT_REGION="us-east-1",
            S3_ENDPOINT_URL=endpoint,
            RCLONE_CONFIG="/dev/null",
            RCLONE_CONFIG_S3_TYPE="s3",
            RCLONE_CONFIG_S3_PROVIDER="Other",
            RCLONE_CONFIG_S3_ACCESS_KEY_ID=key,
            RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=key,
            RCLONE_CONFIG_S3_ENDPOINT=endpoint,
            RCLONE_CONFIG_S3_REGION="us-east-1",
        )
        return env

    def cli_config(self, endpoint: str) -> str:
        """A CLI config: the bench bucket as mount ``s3`` beside a mount of every other
        network type (never touched: their drivers must not load)."""
        key = self.server.key
        config = self.work / "cli-mounts.yaml"
        config.write_text(
            f"- name: s3\n  type: s3\n  bucket: {BUCKET}\n  endpoint_url: {endpoint}\n"
            f"  key: {key}\n  secret: {key}\n"
            "- name: gcs\n  type: gcs\n  bucket: b\n  endpoint_url: http://127.0.0.1:9\n"
            "- name: az\n  type: azure\n  container: c\n  account_name: devstoreaccount1\n"
            "- name: sftp\n  type: sftp\n  host: 127.0.0.1\n  port: 9\n  username: u\n"
            "- name: smb\n  type: smb\n  host: 127.0.0.1\n  share: s\n"
        )
        return str(config)

    def py_job(self, tool: str, row: str, endpoint: str, **params: Any) -> list[str]:
        base = {"endpoint": endpoint, "key": self.server.key, "secret": self.server.key}
        base.update(bucket=BUCKET, local=str(self.work), **params)
        return [PY, JOBS, tool, row, json.dumps(base)]

    # ------------------------------------------------------------------ rows
    def commands(self, row: str, endpoint: str) -> dict[str, Callable[[], tuple[list[str], bool]]]:
        """tool -> a function giving (command, timed inside) for a fresh destination."""
        rc, s5 = self.rclone, self.s5cmd
        w = self.work
        rel = os.path.relpath
        many = [rc, "--transfers", "16", "--checkers", "16"] if rc else []
        tools: dict[str, Callable[[], tuple[list[str], bool]]] = {}
        if row == "up-small":
            src = str(self.local_small)

            def ours() -> tuple[list[str], bool]:
                dest = f"s3:{self.fresh('ours')}"
                return self.py_job("ours", row, endpoint, src=f"local:{rel(src, w)}", dest=dest), 1

            tools["ours"] = ours
            tools["fsspec"] = lambda: (
                self.py_job(
                    "fsspec",
                    row,
                    endpoint,
                    src_os=src + "/",
                    dest_s3=f"{BUCKET}/{self.fresh('fs')}",
                ),
                True,
            )
            if rc:
                tools["rclone"] = lambda: ([rc, "copy", src, f"s3:{BUCKET}/{self.fresh('rc')}"], 0)
                tools["rclone16"] = lambda: (
                    [*many, "copy", src, f"s3:{BUCKET}/{self.fresh('rc')}"],
                    False,
                )
            if s5:
                tools["s5cmd"] = lambda: (
                    [
                        s5,
                        "--endpoint-url",
                        endpoint,
                        "cp",
                        src + "/",
                        f"s3://{BUCKET}/{self.fresh('s5')}/",
                    ],
                    False,
                )
        elif row == "down-small":

            def local_dest(stem: str) -> str:
                return str(w / self.fresh(stem))

            def ours() -> tuple[list[str], bool]:
                dest = local_dest("ours")
                return self.py_job(
                    "ours", row, endpoint, src="s3:src-small", dest=f"local:{rel(dest, w)}"
                ), 1

            tools["ours"] = ours
            tools["fsspec"] = lambda: (
                self.py_job(
                    "fsspec",
                    row,
                    endpoint,
                    src_s3=f"{BUCKET}/src-small/",
                    dest_os=local_dest("fs") + "/",
                ),
                True,
            )
            if rc:
                tools["rclone"] = lambda: (
                    [rc, "copy", f"s3:{BUCKET}/src-small", local_dest("rc")],
                    0,
                )
                tools["rclone16"] = lambda: (
                    [*many, "copy", f"s3:{BUCKET}/src-small", local_dest("rc")],
                    0,
                )
            if s5:
                tools["s5cmd"] = lambda: (
                    [
                        s5,
                        "--endpoint-url",
                        endpoint,
                        "cp",
                        f"s3://{BUCKET}/src-small/*",
                        local_dest("s5") + "/",
                    ],
                    False,
                )
        elif row in ("up-large", "resync-large"):
            src = str(self.big)
            fixed = row == "resync-large"

            def target(stem: str) -> str:
                return f"{stem}-resync" if fixed else self.fresh(stem)

            def ours() -> tuple[list[str], bool]:
                dest = f"s3:{target('ours')}/big.bin"
                return self.py_job("ours", row, endpoint, src=f"local:{rel(src, w)}", dest=dest), 1

            tools["ours"] = ours
            if not fixed:
                tools["fsspec"] = lambda: (
                    self.py_job(
                        "fsspec",
                        row,
                        endpoint,
                        src_os=src,
                        dest_s3=f"{BUCKET}/{self.fresh('fs')}/big.bin",
                    ),
                    True,
                )
            if rc:
                tools["rclone"] = lambda: ([rc, "copy", src, f"s3:{BUCKET}/{target('rc')}"], 0)
            if s5:
                verb = "sync" if fixed else "cp"
                tools["s5cmd"] = lambda: (
                    [
                        s5,
                        "--endpoint-url",
                        endpoint,
                        verb,
                        src,
                        f"s3://{BUCKET}/{target('s5')}/big.bin",
                    ],
                    False,
                )
        elif row == "down-large":

            def ours() -> tuple[list[str], bool]:
                dest = f"local:{self.fresh('ours')}/big.bin"
                return self.py_job("ours", row, endpoint, src="s3:src-large/big.bin", dest=dest), 1

            tools["ours"] = ours
            tools["fsspec"] = lambda: (
                self.py_job(
                    "fsspec",
                    row,
                    endpoint,
                    src_s3=f"{BUCKET}/src-large/big.bin",
                    dest_os=str(w / self.fresh("fs") / "big.bin"),
                ),
                True,
            )
            if rc:
                tools["rclone"] = lambda: (
                    [rc, "copy", f"s3:{BUCKET}/src-large/big.bin", str(w / self.fresh("rc"))],
                    0,
                )
            if s5:
                tools["s5cmd"] = lambda: (
                    [
                        s5,
                        "--endpoint-url",
                        endpoint,
                        "cp",
                        f"s3://{BUCKET}/src-large/big.bin",
                        str(w / self.fresh("s5")) + "/",
                    ],
                    False,
                )
        elif row == "local-small":
            src = str(self.local_many)

            def ours() -> tuple[list[str], bool]:
                dest = self.fresh("ours")
                return self.py_job(
                    "ours", row, endpoint, src=f"local:{rel(src, w)}", dest=f"local:{dest}"
                ), 1

            tools["ours"] = ours
            tools["fsspec"] = lambda: (
                self.py_job("fsspec", row, endpoint, src_os=src, dest_os=str(w / self.fresh("fs"))),
                True,
            )
            tools["cp -r"] = lambda: (["cp", "-r", src, str(w / self.fresh("cp"))], False)
            if rc:
                tools["rclone"] = lambda: ([rc, "copy", src, str(w / self.fresh("rc"))], 0)
                tools["rclone16"] = lambda: ([*many, "copy", src, str(w / self.fresh("rc"))], 0)
        elif row == "async-reads":
            keys = [f"async/{i:03d}.bin" for i in range(ASYNC_READS)]
            for tool in ("ours", "fsspec", "aiobotocore", "obstore"):
                tools[tool] = lambda tool=tool: (
                    self.py_job(tool, row, endpoint, keys=keys, size=64 * 1024, src="", dest=""),
                    True,
                )
        elif row == "startup":
            tools["ours"] = lambda: ([PY, "-m", "genro_storage", "--version"], False)
            if rc:
                tools["rclone"] = lambda: ([rc, "version"], False)
            if s5:
                tools["s5cmd"] = lambda: ([s5, "version"], False)
        elif row == "startup-ls":  # a whole command on a local folder of 10 files
            folder = str(self.local_ls)
            tools["ours"] = lambda: ([PY, "-m", "genro_storage", "ls", folder], False)
            if rc:
                tools["rclone"] = lambda: ([rc, "lsf", folder], False)
        elif row == "startup-ls-s3":  # the same on S3, with every driver family configured
            config = self.cli_config(endpoint)
            tools["ours"] = lambda: (
                [PY, "-m", "genro_storage", "-c", config, "ls", "s3:src-ls"],
                False,
            )
            if rc:
                tools["rclone"] = lambda: ([rc, "lsf", f"s3:{BUCKET}/src-ls"], False)
            if s5:
                tools["s5cmd"] = lambda: (
                    [s5, "--endpoint-url", endpoint, "ls", f"s3://{BUCKET}/src-ls/"],
                    False,
                )
        if row in OBSTORE_ROWS and "ours" in tools:
            botocore = tools["ours"]

            def obstore() -> tuple[list[str], Any]:
                cmd, inside = botocore()
                return [*cmd[:2], OBSTORE, *cmd[3:]], inside

            tools[OBSTORE] = obstore
        if self.args.compare and "ours" in tools and row != "startup":
            mine = tools["ours"]

            def before() -> tuple[list[str], Any]:
                cmd, inside = mine()
                return ["env", f"GENRO_BENCH_CODE={self.args.compare}", *cmd], inside

            tools[BEFORE] = before
        return {k: _normal(f) for k, f in tools.items()}

    def row(self, row: str, rtt_ms: float) -> dict[str, Result]:
        proxy = None
        endpoint = self.server.endpoint
        if rtt_ms:
            proxy = NetProxy(
                self.server.port, rtt=rtt_ms / 1000, port=free_port(FIRST_PORT, FIRST_PORT + 49)
            )
            endpoint = proxy.endpoint
        env = self.env(endpoint)
        try:
            tools = self.commands(row, endpoint)
            if self.args.tools:  # --tools: only these (ours always)
                keep = {"ours", OBSTORE, *self.args.tools.split(",")}
                tools = {k: v for k, v in tools.items() if k in keep}
            if row == "resync-large":  # the first copy, by each tool, is not timed
                for make in tools.values():
                    run(make()[0], env, False)
            best: dict[str, Result] = {}
            for _ in range(self.args.rounds):
                for tool, make in tools.items():
                    cmd, inside = make()
                    result = run(cmd, env, inside)
                    if tool not in best or result.seconds < best[tool].seconds:
                        best[tool] = result
        finally:
            if proxy:
                proxy.stop()
        return best


def _normal(f: Callable[[], tuple[list[str], Any]]) -> Callable[[], tuple[list[str], bool]]:
    def make() -> tuple[list[str], bool]:
        cmd, inside = f()
        return cmd, bool(inside)

    return make


def make_tree(root: Path, files: int, size: int) -> None:
    for i in range(files):
        folder = root / f"d{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:05d}.bin").write_bytes(os.urandom(size))


def describe(args: argparse.Namespace) -> dict[str, str]:
    return {
        "up-small": f"{args.files} x {args.size // 1024} KiB local -> S3",
        "down-small": f"{args.files} x {args.size // 1024} KiB S3 -> local",
        "up-large": f"1 x {args.large_mib} MiB local -> S3",
        "down-large": f"1 x {args.large_mib} MiB S3 -> local",
        "resync-large": f"re-sync unchanged {args.large_mib} MiB local -> S3",
        "local-small": f"{args.local_files} x 1 KiB local -> local",
        "async-reads": f"{ASYNC_READS} concurrent async 64 KiB reads",
        "startup": "CLI start-up (--version)",
        "startup-ls": "CLI `ls` of a local folder (10 files)",
        "startup-ls-s3": "CLI `ls s3:` (10 objects; gcs/azure/sftp/smb mounts configured)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default=",".join(r for r in ROWS if r != "local-small"))
    parser.add_argument("--server", default="moto", choices=("moto", "s3rver"))
    parser.add_argument("--rtt", default="0,20", help="round trips to try, ms (comma list)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--large-mib", type=int, default=100)
    parser.add_argument("--local-files", type=int, default=10000)
    parser.add_argument("--tools", help="run only these anchors besides ours: rclone,cp,...")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--compare",
        metavar="DIR",
        help="also run our jobs with the genro_storage package found in DIR (an older "
        "tree, e.g. `git archive REV genro_storage | tar -x -C DIR`): column before/ours",
    )
    args = parser.parse_args()
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = set(rows) - set(ROWS)
    if unknown:
        raise SystemExit(f"unknown rows {sorted(unknown)}: choose from {', '.join(ROWS)}")
    rtts = [float(x) for x in args.rtt.split(",")]
    started = time.perf_counter()
    labels = describe(args)
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="genro-bench-") as tmp:
        work = Path(tmp)
        server = Server(args.server, work)
        try:
            bench = Bench(args, work, server)
            if args.server == "moto":
                bench.fs.mkdir(BUCKET)
            bench.prepare(rows)
            print(f"S3 server: {args.server} {server.endpoint}; best of {args.rounds} rounds")
            print(
                "| row | RTT | ours s (RSS MiB) | ours-obstore s (RSS MiB) "
                "| best anchor s (RSS MiB) | best/ours | best/ours-obstore | others |"
            )
            print("|---|---|---|---|---|---|---|---|")
            for row in rows:
                for rtt in rtts if row not in LOOPBACK_ONLY else [0.0]:
                    best = bench.row(row, rtt)
                    mib = args.large_mib if row in LARGE else None
                    figures.append(report(labels[row], rtt, best, mib))
        finally:
            server.stop()
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


def _cpu_per_mib(result: Result, mib: int) -> str:
    """The timed part's CPU per MiB (our jobs) and, in brackets, the whole process's
    (start-up included: the only figure for rclone and s5cmd)."""
    whole = f"({(result.process_cpu or 0) / mib * 1000:.2f})"
    if result.cpu is None:
        return whole
    return f"{result.cpu / mib * 1000:.2f} {whole}"


def report(
    label: str, rtt: float, best: dict[str, Result], mib: int | None = None
) -> dict[str, Any]:
    """Print one row; ``mib``: the size of a large-object row (CPU per MiB is shown)."""
    ours = best.pop("ours")
    before = best.pop(BEFORE, None)
    mine = best.pop(OBSTORE, None)  # ours with client: obstore
    anchor_name = min(best, key=lambda k: best[k].seconds) if best else ""
    anchor = best.get(anchor_name)
    ratio = anchor.seconds / ours.seconds if anchor else float("nan")
    ratio_mine = anchor.seconds / mine.seconds if anchor and mine else float("nan")
    mine_text = f"{mine.seconds:.3f} ({mine.rss_mib:.0f})" if mine else "-"
    ours_too = [("ours", ours), *([(OBSTORE, mine)] if mine else [])]
    others = ", ".join(
        f"{k} {v.seconds:.2f} ({v.rss_mib:.0f})" for k, v in best.items() if k != anchor_name
    )
    anchor_text = f"{anchor_name} {anchor.seconds:.3f} ({anchor.rss_mib:.0f})" if anchor else "-"
    if before is not None:
        others = f"before {before.seconds:.3f} (x{before.seconds / ours.seconds:.2f}), " + others
    if mib:  # client CPU per MiB, best round of each tool
        per_mib = [*ours_too, *(([(BEFORE, before)]) if before else []), *best.items()]
        others += "; CPU ms/MiB (whole process) " + ", ".join(
            f"{k} {_cpu_per_mib(v, mib)}" for k, v in per_mib
        )
    elif ours.cpu is not None:  # client CPU per read (async reads), best round of each tool
        reads = ASYNC_READS
        per_read = [*ours_too, *(([(BEFORE, before)]) if before else []), *best.items()]
        others += "; CPU ms/read " + ", ".join(
            f"{k} {v.cpu / reads * 1000:.2f}" for k, v in per_read if v.cpu is not None
        )
    print(
        f"| {label} | {rtt:g} ms | {ours.seconds:.3f} ({ours.rss_mib:.0f}) | {mine_text} "
        f"| {anchor_text} | {ratio:.2f} | {ratio_mine:.2f} | {others} |",
        flush=True,
    )
    return {
        "row": label,
        "rtt_ms": rtt,
        "ours": vars(ours),
        OBSTORE: vars(mine) if mine is not None else None,
        "anchor": anchor_name,
        "ratio": ratio,
        "tools": {k: vars(v) for k, v in best.items()},
        "before": vars(before) if before is not None else None,
    }


if __name__ == "__main__":
    main()
