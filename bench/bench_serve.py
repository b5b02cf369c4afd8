"""Serving benchmark: our WSGI/ASGI apps against whitenoise, Starlette, servestatic, nginx.

    .venv/bin/python bench/bench_serve.py [--duration 2] [--rounds 3] [--connections 8]
                                          [--ports 19740-19799] [--skip-rss] [--only wsgi|asgi]
                                          [--scenario 304 ...] [--twin]

One run, the same files, the same machine, loopback only. For each server (our apps twice:
default route and ``cache_stat: 60``): a 1 KiB file (req/s), a 10 MiB file (MiB/s), a 304
(req/s), a 1 KiB Range (req/s) and a 4 KiB stylesheet with ``.br``/``.gz`` siblings asked with
``Accept-Encoding: gzip, br`` (req/s) with ``wrk``, and the serving process's CPU time per
request in those runs; then the peak RSS of the serving process while 4 clients download a
200 MiB file, against its idle RSS. Servers run one process each (gunicorn: 1 gthread
worker, 8 threads; uvicorn and granian: 1 process; nginx: 1 worker), pinned to CPU 0 and wrk
to CPU 1 when ``taskset`` exists. Our ASGI app also runs under granian (Rust, ``pathsend``).
Ports come from 19740-19799 (``--ports`` to change). ``--twin`` also runs a second, identical
whitenoise (WSGI) and servestatic (ASGI) server: the ratio between two copies of the same
code is the spread the bench has between identical servers. Needs wrk, nginx, gunicorn, uvicorn,
granian, whitenoise, starlette, servestatic (the ``dev`` extra and ``scripts/install.sh``).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
TASKSET = shutil.which("taskset")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HUGE = 200 * 1024 * 1024
PORTS = (19740, 19799)  # --ports

# (label, server kind, app spec)
SERVERS = [
    ("genro WSGI", "gunicorn", "bench._apps:ours_wsgi()"),
    ("genro WSGI cache_stat", "gunicorn", "bench._apps:ours_wsgi_cached()"),
    ("whitenoise", "gunicorn", "bench._apps:whitenoise()"),
    ("whitenoise autorefresh", "gunicorn", "bench._apps:whitenoise_autorefresh()"),
    ("genro ASGI", "uvicorn", "bench._apps:ours_asgi"),
    ("genro ASGI cache_stat", "uvicorn", "bench._apps:ours_asgi_cached"),
    ("Starlette", "uvicorn", "bench._apps:starlette"),
    ("servestatic", "uvicorn", "bench._apps:servestatic"),
    ("genro ASGI granian", "granian", "bench._apps:ours_asgi"),
    ("nginx", "nginx", ""),
]
# --twin: the same app again, to measure the bench's spread between identical servers
TWINS = [
    ("whitenoise twin", "gunicorn", "bench._apps:whitenoise()"),
    ("servestatic twin", "uvicorn", "bench._apps:servestatic"),
]
# The tables: (ours, theirs) pairs whose ratio is printed; the first of a table is its own.
WSGI_RATIOS = [
    ("genro WSGI", "whitenoise"),
    ("genro WSGI", "whitenoise autorefresh"),
    ("genro WSGI cache_stat", "whitenoise"),
]
ASGI_RATIOS = [
    ("genro ASGI", "Starlette"),
    ("genro ASGI", "servestatic"),
    ("genro ASGI cache_stat", "Starlette"),
    ("genro ASGI cache_stat", "servestatic"),
    ("genro ASGI granian", "genro ASGI"),
    ("genro ASGI granian", "nginx"),
]
# (label, path, extra header, expected status, unit)
SCENARIOS = [
    ("1 KiB file", "/static/small.css", None, 200, "req/s"),
    ("10 MiB file", "/static/big.bin", None, 200, "MiB/s"),
    ("304", "/static/small.css", "etag", 304, "req/s"),
    ("1 KiB range", "/static/big.bin", "Range: bytes=0-1023", 206, "req/s"),
    ("precompressed", "/static/pre.css", "Accept-Encoding: gzip, br", 200, "req/s"),
]
NGINX_CONF = """
worker_processes 1; daemon off; pid {run}/nginx.pid; error_log {run}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path {run}/b; proxy_temp_path {run}/p; fastcgi_temp_path {run}/f;
  uwsgi_temp_path {run}/u; scgi_temp_path {run}/s;
  include /etc/nginx/mime.types;
  server {{
    listen 127.0.0.1:{port};
    location /static/ {{ alias {root}/; gzip_static on; add_header Cache-Control "max-age=60";
      add_header Access-Control-Allow-Origin "*"; }}
  }}
}}
"""


def free_port() -> int:
    start, end = PORTS
    for port in range(start, end + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}-{end}")


def _brotli(data: bytes) -> bytes:
    try:
        import brotli
    except ImportError:  # the servers only send the file: its bytes need not be brotli
        return gzip.compress(data, 9, mtime=0)
    return bytes(brotli.compress(data))


def pinned(cpu: int, args: list[str]) -> list[str]:
    return [TASKSET, "-c", str(cpu), *args] if TASKSET and (os.cpu_count() or 1) > 1 else args


def make_site(base: Path) -> Path:
    root = base / "site"
    root.mkdir()
    (root / "small.css").write_bytes(b"a{color:red}\n" * 78 + b"/*12345*/\n")  # 1024 bytes
    (root / "big.bin").write_bytes(os.urandom(10 * 1024 * 1024))
    # a 4 KiB stylesheet with its .gz and .br siblings (the "precompressed" row): asked
    # with "Accept-Encoding: gzip, br", every Python server sends the .br (nginx, without
    # its brotli module, the .gz)
    css = b"".join(b".c%d{color:#%06x}\n" % (i, i * 2654435761 % 2**24) for i in range(190))
    (root / "pre.css").write_bytes(css[:4096])
    (root / "pre.css.gz").write_bytes(gzip.compress(css[:4096], 9, mtime=0))
    (root / "pre.css.br").write_bytes(_brotli(css[:4096]))
    with open(root / "huge.bin", "wb") as fh:
        fh.truncate(HUGE)
    for path in (base, root):  # nginx workers run as an unprivileged user
        path.chmod(0o755)
    return root


def start(kind: str, app: str, port: int, root: Path, run: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BENCH_ROOT": str(root), "PYTHONPATH": str(REPO)}
    if kind == "gunicorn":
        args = [PY, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "-k", "gthread",
                "--threads", "8", "--log-level", "warning", app]  # fmt: skip
    elif kind == "uvicorn":
        args = [PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "--factory",
                "--log-level", "warning", "--no-access-log", app]  # fmt: skip
    elif kind == "granian":  # Rust server; sends local files itself (ASGI pathsend)
        args = [PY, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                "--port", str(port), "--factory", "--workers", "1", "--no-ws",
                "--log-level", "warning", app]  # fmt: skip
    else:
        conf = run / "nginx.conf"
        conf.write_text(NGINX_CONF.format(run=run, port=port, root=root))
        args = [NGINX, "-c", str(conf), "-p", str(run)]
    proc = subprocess.Popen(
        pinned(0, args), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} {app} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"{kind} {app} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)  # only the PID we started
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


def request(port: int, path: str, header: str | None) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = dict([header.split(": ", 1)]) if header else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def wrk(port: int, path: str, header: str | None, seconds: float, connections: int) -> dict:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    if header:
        args += ["-H", header]
    args.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(pinned(1, args), capture_output=True, text=True, timeout=seconds + 30)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    count = re.search(r"(\d+) requests in", out.stdout)
    return {
        "requests": int(count.group(1)) if count else 0,
        "req/s": float(rps.group(1)) if rps else 0.0,
        "MiB/s": float(transfer.group(1)) * _UNITS[transfer.group(2)] / 2**20 if transfer else 0.0,
        "errors": int(errors.group(1)) if errors else 0,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serving_pid(proc: subprocess.Popen[bytes]) -> int:
    """The process that serves: gunicorn's worker (a child), else the process itself."""
    pid = proc.pid
    for _ in range(3):  # through taskset (exec'd, same pid) and gunicorn's master
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not children:
            return pid
        pid = int(children[0])
    return pid


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def rss_under_load(port: int, pid: int, clients: int = 4) -> tuple[int, int]:
    """(idle RSS, peak RSS) while ``clients`` download the 200 MiB file at once."""
    idle = rss(pid)

    def download() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", "/static/huge.bin")
        response = conn.getresponse()
        while response.read(1024 * 1024):
            pass
        conn.close()

    threads = [threading.Thread(target=download) for _ in range(clients)]
    for thread in threads:
        thread.start()
    peak = idle
    deadline = time.monotonic() + 120
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        peak = max(peak, rss(pid))
        time.sleep(0.01)
    for thread in threads:
        thread.join(5)
    return idle, peak


def run_all(root: Path, run: Path, args: argparse.Namespace) -> dict[str, dict]:
    """Start every server, then interleave: each round runs each scenario on each server in
    turn, so a burst of load from elsewhere hits all of them alike; the best round counts."""
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    results: dict[str, dict] = {label: {} for label, *_ in SERVERS}
    try:
        for label, kind, app in SERVERS:
            port = free_port()
            procs[label] = (start(kind, app, port, root, run), port)
        headers: dict[tuple[str, str], str | None] = {}
        for label, (_, port) in procs.items():
            etag = request(port, "/static/small.css", None)[1].get("etag", '"none"')
            wrk(port, "/static/small.css", None, 1, args.connections)  # warm-up
            for name, path, header, expected, _unit in SCENARIOS:
                header = f"If-None-Match: {etag}" if header == "etag" else header
                status, sent = request(port, path, header)
                headers[label, name] = header
                if name == "precompressed":
                    results[label]["encoding"] = sent.get("content-encoding", "identity")
                if status != expected:
                    results[label][name] = f"HTTP {status}"
        # after the first requests: gunicorn's worker (the serving process) exists by then
        pids = {label: serving_pid(proc) for label, (proc, _) in procs.items()}
        for round_ in range(args.rounds):
            for name, path, _, _, unit in SCENARIOS:
                for label, (_, port) in procs.items():
                    if isinstance(results[label].get(name), str):
                        continue
                    pid = pids[label]
                    cpu = cpu_seconds(pid)
                    figures = wrk(port, path, headers[label, name], args.duration, args.connections)
                    cpu = (cpu_seconds(pid) - cpu) / max(figures["requests"], 1) * 1e6
                    best = max(results[label].get(name, 0.0), figures[unit])
                    results[label][name] = best if not figures["errors"] else "errors"
                    least = min(results[label].get(f"{name} cpu", float("inf")), cpu)
                    results[label][f"{name} cpu"] = least
            print(f"  round {round_ + 1}: {results}", file=sys.stderr, flush=True)
        for label, kind, _ in SERVERS:
            if kind != "nginx" and not args.skip_rss:
                proc, port = procs[label]
                idle, peak = rss_under_load(port, serving_pid(proc))
                results[label]["rss"] = (idle / 2**20, peak / 2**20)
    finally:
        for proc, _ in procs.values():
            stop(proc)
    return results


def fmt(value: object) -> str:
    return f"{value:,.0f}" if isinstance(value, float) else str(value)


def ratio(a: object, b: object) -> str:
    return f"{a / b:.2f}" if isinstance(a, float) and isinstance(b, float) and b else "n/a"


def table(
    r: dict[str, dict], labels: list[str], pairs: list[tuple[str, str]], cpu: bool = False
) -> None:
    """One markdown table: the figures of ``labels``, then the ratio of each pair (ours /
    theirs for throughput; theirs / ours for CPU per request, so above 1 is better)."""
    print("\n| scenario | " + " | ".join(labels) + " | "
          + " | ".join(f"{a} / {b}" for a, b in pairs) + " |")  # fmt: skip
    print("|---|" + "---:|" * (len(labels) + len(pairs)))
    for name, *_, unit in SCENARIOS:
        key = f"{name} cpu" if cpu else name
        show = (lambda v: f"{v:.0f}" if isinstance(v, float) else str(v)) if cpu else fmt
        figures = [show(r[label].get(key)) for label in labels]
        ratios = [
            ratio(r[b].get(key), r[a].get(key)) if cpu else ratio(r[a].get(key), r[b].get(key))
            for a, b in pairs
        ]
        scenario = f"{name} (µs CPU/request)" if cpu else f"{name} ({unit})"
        print(f"| {scenario} | " + " | ".join(figures + ratios) + " |")


def main() -> int:
    global SERVERS, SCENARIOS, PORTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    parser.add_argument("--ports", default="19740-19799", help="loopback port range FIRST-LAST")
    parser.add_argument("--skip-rss", action="store_true", help="no 200 MiB downloads")
    parser.add_argument(
        "--only", choices=("wsgi", "asgi"), help="run only the WSGI or the ASGI table's servers"
    )
    names = [name for name, *_ in SCENARIOS]
    parser.add_argument(
        "--scenario", action="append", choices=names, help="run only this scenario (repeatable)"
    )
    parser.add_argument(
        "--twin", action="store_true", help="also a second whitenoise/servestatic (self / self)"
    )
    args = parser.parse_args()
    if args.scenario:
        SCENARIOS = [s for s in SCENARIOS if s[0] in args.scenario]
    if args.twin:
        SERVERS = [*SERVERS, *TWINS]
        WSGI_RATIOS.append(("whitenoise twin", "whitenoise"))
        ASGI_RATIOS.append(("servestatic twin", "servestatic"))
    if args.only:
        table_of = {"gunicorn": "wsgi", "uvicorn": "asgi", "granian": "asgi", "nginx": "asgi"}
        SERVERS = [s for s in SERVERS if table_of[s[1]] == args.only]
    first, _, last = args.ports.partition("-")
    PORTS = (int(first), int(last or first))
    with tempfile.TemporaryDirectory(prefix="genro-bench-") as tmp:
        root = make_site(Path(tmp))
        run = Path(tmp) / "nginx"
        run.mkdir()
        r = run_all(root, run, args)
    print(
        f"\nwrk -t1 -c{args.connections} -d{args.duration:g}s, best of {args.rounds} interleaved"
        " rounds, loopback, one server process each"
    )
    wsgi = ["genro WSGI", "genro WSGI cache_stat", "whitenoise", "whitenoise autorefresh"]
    asgi = [
        "genro ASGI", "genro ASGI cache_stat", "Starlette", "servestatic",
        "genro ASGI granian", "nginx",
    ]  # fmt: skip
    if args.twin:
        wsgi.append("whitenoise twin")
        asgi.append("servestatic twin")
    show = [t for t in (("wsgi", wsgi, WSGI_RATIOS), ("asgi", asgi, ASGI_RATIOS))
            if args.only in (None, t[0])]  # fmt: skip
    print("\nThroughput (best round):")
    for _, labels, pairs in show:
        table(r, labels, pairs)
    sent = ", ".join(f"{label} {r[label].get('encoding')}" for label, *_ in SERVERS)
    print(f"\nprecompressed row, Content-Encoding sent: {sent}")
    print("\nCPU time of the serving process per request (lowest round; less sensitive than")
    print("throughput to load from other processes on the machine):")
    for _, labels, pairs in show:
        table(r, labels, pairs, cpu=True)
    if args.skip_rss:
        return 0
    print("\nPeak RSS while 4 clients download a 200 MiB file (idle -> peak, growth):\n")
    for label, kind, _ in SERVERS:
        if kind == "nginx":
            continue
        idle, peak = r[label]["rss"]
        print(f"- {label}: {idle:.1f} -> {peak:.1f} MiB (+{peak - idle:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
