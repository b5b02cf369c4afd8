"""SFTP transfers side by side: genro-storage vs rclone and OpenSSH's sftp, one sshd.

    .venv/bin/python bench/bench_sftp.py [--mib 100] [--rounds 3] [--rtt 0]

Starts the suite's OpenSSH sshd (``scripts/services-start.sh`` with only ``sftp``) on
``GENRO_BENCH_PORT`` (default 19760) + 4, writes a random file of ``--mib`` MiB, then
per round, tools interleaved: a download (remote file -> local file) and an upload
(local -> remote) by each tool as a fresh process (interpreter or binary start, SSH
handshake and transfer: what a user waits for), plus our streamed read (``open('rb')``,
1 MiB reads) timed inside its process. The best round counts. The ratio is
best rclone / ours: above 1.0 we are faster. Every copy is checked against the source.
Everything started is stopped by its PID.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
BASE = int(os.environ.get("GENRO_BENCH_PORT", "19760"))

OURS = """
import sys, time
from genro_storage import StorageManager
host, port, user, password, remote, local, direction = sys.argv[1:8]
manager = StorageManager(env=False)
manager.configure([
    {"name": "far", "type": "sftp", "host": host, "port": int(port), "username": user,
     "password": password, "path": "/"},
    {"name": "here", "type": "local", "path": "/"},
])
if direction == "down":
    manager.node("far:" + remote).copy_to("here:" + local)
elif direction == "stream":
    started = time.perf_counter()
    with manager.node("far:" + remote).open("rb") as stream:
        while stream.read(1 << 20):
            pass
    print(f"stream {time.perf_counter() - started:.4f}")
else:
    manager.node("here:" + local).copy_to("far:" + remote)
manager.close()
"""


def services(run: Path) -> dict[str, str]:
    env = {**os.environ, "GENRO_SVC_ONLY": "sftp", "GENRO_SVC_PORT_BASE": str(BASE)}
    subprocess.run(
        ["bash", str(ROOT / "scripts/services-start.sh"), str(run)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    values: dict[str, str] = {}
    for line in (run / "services.env").read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value.strip("'")
    return values


def timed(args: list[str], stdin: str | None = None) -> tuple[float, str]:
    # PYTHONPATH: the genro_storage of this checkout, not the one the venv installed
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, env=env)
    took = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{args[0]} failed ({done.returncode}): {done.stderr[-800:]}")
    return took, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for tool in ("rclone", "sftp"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (scripts/install.sh installs it)")

    run = Path(tempfile.mkdtemp(prefix="genro-bench-sftp-", dir="/tmp"))
    os.chmod(run, 0o755)  # sshd acts as the test user inside
    try:
        env = services(run)
        host, port = env["SVC_SFTP_HOST"], env["SVC_SFTP_PORT"]
        user, password, key = env["SVC_SFTP_USER"], env["SVC_SFTP_PASSWORD"], env["SVC_SFTP_KEY"]
        remote_dir = Path(env["SVC_SFTP_ROOT"])
        source = run / "source.bin"
        with open(source, "wb") as out:
            for _ in range(args.mib):
                out.write(os.urandom(1 << 20))
        shutil.copyfile(source, remote_dir / "down.bin")
        shutil.chown(remote_dir / "down.bin", user)
        obscured = subprocess.run(
            ["rclone", "obscure", password], capture_output=True, text=True, check=True
        ).stdout.strip()
        rclone_remote = f":sftp,host={host},port={port},user={user},pass={obscured}:"
        ssh = [
            "-q", "-i", key, "-P", port, "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
        ]  # fmt: skip

        def ours(direction: str, local: Path, remote: str) -> list[str]:
            return [PY, "-c", OURS, host, port, user, password, remote, str(local), direction]

        jobs = {
            "down": {
                "ours": lambda out: ours("down", out, str(remote_dir / "down.bin")),
                "rclone": lambda out: [
                    "rclone", "--config", "/dev/null", "copyto",
                    f"{rclone_remote}{remote_dir / 'down.bin'}", str(out),
                ],
                "sftp": lambda out: [
                    "sftp", *ssh, f"{user}@{host}:{remote_dir / 'down.bin'}", str(out),
                ],
            },
            "up": {
                "ours": lambda name: ours("up", source, str(remote_dir / name)),
                "rclone": lambda name: [
                    "rclone", "--config", "/dev/null", "copyto", str(source),
                    f"{rclone_remote}{remote_dir / name}",
                ],
                "sftp": lambda name: ["sftp", *ssh, "-b", "-", f"{user}@{host}"],
            },
            "up-stdin": {  # sftp's batch names the local source
                "sftp": lambda name: f"put {source} {remote_dir / name}\n",
            },
        }  # fmt: skip
        best: dict[tuple[str, str], float] = {}
        for round_ in range(args.rounds):
            for tool in ("ours", "rclone", "sftp"):
                out = run / f"down-{tool}.bin"
                took, _ = timed(jobs["down"][tool](out))
                if not filecmp.cmp(source, out, shallow=False):
                    raise SystemExit(f"{tool}: the downloaded file differs")
                out.unlink()
                best[tool, "down"] = min(best.get((tool, "down"), took), took)
                if tool == "ours":
                    _, printed = timed(ours("stream", out, str(remote_dir / "down.bin")))
                    stream = float(printed.split()[-1])
                    best[tool, "stream"] = min(best.get((tool, "stream"), stream), stream)
                name = f"up-{tool}-{round_}.bin"
                stdin = jobs["up-stdin"].get(tool)
                took, _ = timed(jobs["up"][tool](name), stdin(name) if stdin else None)
                if not filecmp.cmp(source, remote_dir / name, shallow=False):
                    raise SystemExit(f"{tool}: the uploaded file differs")
                (remote_dir / name).unlink()
                best[tool, "up"] = min(best.get((tool, "up"), took), took)
        mib = args.mib
        print(f"SFTP, {mib} MiB, best of {args.rounds} rounds (MiB/s; ratio rclone / ours)")
        print("| row | genro | rclone | OpenSSH sftp | ratio |")
        print("|---|---|---|---|---|")
        for row in ("down", "up"):
            ours_s, rclone_s, sftp_s = (best[t, row] for t in ("ours", "rclone", "sftp"))
            print(
                f"| {row} | {mib / ours_s:.1f} | {mib / rclone_s:.1f} | {mib / sftp_s:.1f} "
                f"| {rclone_s / ours_s:.2f} |"
            )
        print(f"| stream read (ours, in process) | {mib / best['ours', 'stream']:.1f} | | | |")
    finally:
        subprocess.run(["bash", str(ROOT / "scripts/services-stop.sh"), str(run)], check=False)
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    main()
