"""Django static files: our StaticFilesMiddleware against WhiteNoiseMiddleware, same site.

    .venv/bin/python bench/bench_django_static.py [--duration 2] [--connections 8]

One Django site (``tests/integrations/django_static``), collected twice from the same
sources: with ``GenroStaticStorage`` onto a local mount (our middleware serves it) and
with whitenoise's ``CompressedManifestStaticFilesStorage`` (``WhiteNoiseMiddleware``
serves it). Each runs under gunicorn (1 gthread worker, 8 threads) and uvicorn (1
process), pinned to CPU 0 with wrk on CPU 1 when ``taskset`` exists. Cases (wrk, req/s
and MiB/s): the hashed 1 KiB stylesheet, a 304 for it, the hashed 1 MiB script without
compression, and the same script precompressed (``Accept-Encoding: br, gzip``). Prints
the ratio ours / whitenoise per case (above 1.0: we are faster), best of ``--rounds``
(2) runs with the servers alternating, to damp the noise of a shared machine. About
100 seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_serve import cpu_seconds, free_port, pinned, request, serving_pid, stop, wrk  # noqa: E402
from tests.integrations.django_static.assets import CSS_NAME, JS_NAME, write_assets  # noqa: E402

PY = sys.executable
SETTINGS = "tests.integrations.django_static.settings"
SERVERS = [("gunicorn", "wsgi:application"), ("uvicorn", "asgi:application")]
MODES = ("genro", "whitenoise")


def site_env(mode: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GENRO_STORAGE"))}
    env.update(
        PYTHONPATH=str(REPO),
        DJANGO_SETTINGS_MODULE=SETTINGS,
        STATIC_SITE_MODE=mode,
        STATIC_SITE_SRC=str(work / "src"),
        STATIC_SITE_ROOT=str(work / "whitenoise"),
        STATIC_SITE_MOUNT=json.dumps({"type": "local", "path": str(work / "genro")}),
        STATIC_SITE_OPTIONS=json.dumps({"cache_stat": 5}),
    )
    return env


def collect(mode: str, work: Path) -> dict[str, str]:
    """Run collectstatic; return the manifest's paths."""
    subprocess.run(
        [PY, "-m", "django", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=site_env(mode, work),
        check=True,
    )
    root = work / ("genro" if mode == "genro" else "whitenoise")
    return dict(json.loads((root / "staticfiles.json").read_text())["paths"])


def start(mode: str, kind: str, app: str, port: int, work: Path) -> subprocess.Popen[bytes]:
    target = f"tests.integrations.django_static.{app}"
    if kind == "gunicorn":
        args = [PY, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1", "-k", "gthread",
                "--threads", "8", "--log-level", "warning", target]  # fmt: skip
    else:
        args = [PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--no-access-log", target]  # fmt: skip
    proc = subprocess.Popen(
        pinned(0, args),
        cwd=REPO,
        env=site_env(mode, work),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import socket
    import time

    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} {mode} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"{kind} {mode} did not start")


def cases(manifest: dict[str, str], port: int) -> list[tuple[str, str, str | None]]:
    css, js = f"/static/{manifest[CSS_NAME]}", f"/static/{manifest[JS_NAME]}"
    status, headers = request(port, css, "Accept-Encoding: identity")
    if status != 200 or "etag" not in headers:
        raise RuntimeError(f"{css}: {status} {headers}")
    return [
        ("1 KiB CSS", css, "Accept-Encoding: identity"),
        ("304", css, f"If-None-Match: {headers['etag']}"),
        ("1 MiB JS", js, "Accept-Encoding: identity"),
        ("1 MiB JS br", js, "Accept-Encoding: br, gzip"),
    ]


def measure(
    mode: str,
    kind: str,
    app: str,
    work: Path,
    manifest: dict[str, str],
    args: argparse.Namespace,
    results: dict[tuple[str, str, str], dict[str, float]],
) -> None:
    """One server, every case; keeps each case's best run in ``results``."""
    port = free_port()
    proc = start(mode, kind, app, port, work)
    try:
        pid = serving_pid(proc)
        for label, path, header in cases(manifest, port):
            wrk(port, path, header, 0.5, args.connections)  # warm up
            before = cpu_seconds(pid)
            result = wrk(port, path, header, args.duration, args.connections)
            if result["errors"]:
                raise RuntimeError(f"{mode} {kind} {label}: {result}")
            cpu = cpu_seconds(pid) - before
            result["cpu ms/req"] = 1000 * cpu / max(result["requests"], 1)
            best = results.get((kind, mode, label))
            if best is None or result["req/s"] > best["req/s"]:
                results[(kind, mode, label)] = result
    finally:
        stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="best of N, servers alternating")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is required (scripts/install.sh)")
        return 2
    results: dict[tuple[str, str, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-django-static-") as tmp:
        work = Path(tmp)
        write_assets(work / "src")
        (work / "genro").mkdir()
        manifests = {mode: collect(mode, work) for mode in MODES}
        for _round in range(args.rounds):
            for kind, app in SERVERS:
                for mode in MODES:
                    measure(mode, kind, app, work, manifests[mode], args, results)
    print(
        f"wrk -c{args.connections} -d{args.duration:g}s, best of {args.rounds} alternating "
        "rounds, one serving process, loopback\n"
    )
    print(f"{'server':9} {'case':12} {'genro':>12} {'whitenoise':>12} {'ratio':>7}  cpu ms/req")
    for kind, _ in SERVERS:
        for label in ("1 KiB CSS", "304", "1 MiB JS", "1 MiB JS br"):
            ours, theirs = results[(kind, "genro", label)], results[(kind, "whitenoise", label)]
            unit = "MiB/s" if label == "1 MiB JS" else "req/s"
            a, b = ours[unit], theirs[unit]
            print(
                f"{kind:9} {label:12} {a:>8.0f} {unit[:3]} {b:>8.0f} {unit[:3]} "
                f"{a / b if b else 0:>7.2f}  {ours['cpu ms/req']:.2f} / {theirs['cpu ms/req']:.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
