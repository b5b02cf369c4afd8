"""Django static files: our StaticFilesMiddleware against WhiteNoiseMiddleware, same site.

    .venv/bin/python bench/bench_django_static.py [--duration 1] [--rounds 4] [--connections 8]

One Django site (``tests/integrations/django_static``), collected twice from the same
sources: with ``GenroStaticStorage`` onto a local mount (our middleware serves it) and
with whitenoise's ``CompressedManifestStaticFilesStorage`` (``WhiteNoiseMiddleware``
serves it). Each runs under gunicorn (1 gthread worker, 8 threads) and uvicorn (1
process), pinned to CPU 0 with wrk on CPU 1 when ``taskset`` exists. Cases (wrk, req/s
and MiB/s): the hashed 1 KiB stylesheet, a 304 for it, the hashed 1 MiB script without
compression, and the same script precompressed (``Accept-Encoding: br, gzip``). Prints
the ratio ours / whitenoise per case (above 1.0: we are faster), and the CPU time per
request of each serving process (the least of the runs) with its ratio whitenoise / ours
(above 1.0: we spend less), the figure a loaded machine disturbs least. Both sites run at once
under one server kind and every case is measured ``--rounds`` (4) times per site, the
sites alternating run by run, best run kept: a shared machine's noise then hits both
alike. About two minutes (``--server``/``--case`` pick rows).

uvicorn runs twice: as installed, and with ``--reset-contextvars`` (``uvicorn-rc``).
Django's ASGI handler enters a fresh ``ThreadSensitiveContext`` per request: its first
thread-sensitive hop (``request_started``'s receivers) starts a one-thread executor and
the exit joins it from another new thread, two threads per request. Plain uvicorn leaks
context variables between the requests of a keep-alive connection (CPython issue 140947,
which ``--reset-contextvars`` works around): when the client's next request arrives
before the previous response's last message, uvicorn pauses reading and resumes it from
inside that request's task, and the connection's later requests then inherit its
``ThreadSensitiveContext`` and reuse its executor, starting no thread. Whitenoise's 304
is a ``FileResponse(())`` whose empty body goes through a ``sync_to_async`` hop after the
headers (which a client takes as the whole 304), so it hits that path every time; our
304 is sent in one go and pays Django's two threads (strace: 24 ``clone3`` for 1,910
whitenoise requests, 3,482 for 1,737 of ours). The ``uvicorn-rc`` rows compare the two
middlewares without that accident.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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
# (label, module:app); "uvicorn-rc" is uvicorn with --reset-contextvars (see the module doc)
SERVERS = [
    ("gunicorn", "wsgi:application"),
    ("uvicorn", "asgi:application"),
    ("uvicorn-rc", "asgi:application"),
]
# not run by default (--server uvicorn-wrap): our site's ASGI application wrapped in
# StaticFilesASGI (kept static answers sent before Django), against whitenoise's middleware
EXTRA_SERVERS = [("uvicorn-wrap", "asgi:application")]
MODES = ("genro", "whitenoise")
LABELS = ("1 KiB CSS", "304", "1 MiB JS", "1 MiB JS br")


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
        if kind == "uvicorn-rc":
            args.append("--reset-contextvars")
    env = site_env(mode, work)
    if kind == "uvicorn-wrap" and mode == "genro":
        env["STATIC_SITE_ASGI"] = "wrapped"
    proc = subprocess.Popen(
        pinned(0, args),
        cwd=REPO,
        env=env,
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


def measure_kind(
    kind: str,
    app: str,
    work: Path,
    manifests: dict[str, dict[str, str]],
    args: argparse.Namespace,
    results: dict[tuple[str, str, str], dict[str, float]],
    paired: dict[tuple[str, str], list[float]],
) -> None:
    """Both sites up at once under ``kind``; each case run ``rounds`` times per site, the
    sites alternating run by run (who goes first swaps each round), best run kept; the
    ratio of each round's two runs (back to back) goes to ``paired``."""
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        ports: dict[str, int] = {}
        for mode in MODES:  # one at a time: free_port() may hand out a port twice
            ports[mode] = free_port()
            procs[mode] = start(mode, kind, app, ports[mode], work)
        pids = {mode: serving_pid(procs[mode]) for mode in MODES}
        plans = {mode: cases(manifests[mode], ports[mode]) for mode in MODES}
        for index, label in enumerate(LABELS):
            if args.case and label not in args.case:
                continue
            for mode in MODES:
                _, path, header = plans[mode][index]
                wrk(ports[mode], path, header, 1, args.connections)  # warm up
            for round_ in range(args.rounds):
                this_round: dict[str, float] = {}
                for mode in MODES if round_ % 2 == 0 else MODES[::-1]:
                    _, path, header = plans[mode][index]
                    before = cpu_seconds(pids[mode])
                    result = wrk(ports[mode], path, header, args.duration, args.connections)
                    if result["errors"]:
                        raise RuntimeError(f"{mode} {kind} {label}: {result}")
                    cpu = cpu_seconds(pids[mode]) - before
                    this_round[mode] = result["req/s"]
                    result["cpu ms/req"] = 1000 * cpu / max(result["requests"], 1)
                    best = results.get((kind, mode, label))
                    if best is not None:  # the least CPU per request of any run
                        result["cpu ms/req"] = min(result["cpu ms/req"], best["cpu ms/req"])
                    if best is None or result["req/s"] > best["req/s"]:
                        results[(kind, mode, label)] = result
                    else:
                        best["cpu ms/req"] = result["cpu ms/req"]
                theirs = this_round["whitenoise"]
                ratio = this_round["genro"] / theirs if theirs else 0.0
                paired.setdefault((kind, label), []).append(ratio)
    finally:
        for proc in procs.values():
            stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=1, help="seconds per run (wrk: whole)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4, help="best of N runs per case")
    kinds = [k for k, _ in SERVERS + EXTRA_SERVERS]
    parser.add_argument("--server", choices=kinds, action="append",
                        help="only this server (repeatable; default: all but extras)")  # fmt: skip
    parser.add_argument("--case", choices=LABELS, action="append",
                        help="only this case (repeatable; default: all)")  # fmt: skip
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is required (scripts/install.sh)")
        return 2
    results: dict[tuple[str, str, str], dict[str, float]] = {}
    paired: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-django-static-") as tmp:
        work = Path(tmp)
        write_assets(work / "src")
        (work / "genro").mkdir()
        manifests = {mode: collect(mode, work) for mode in MODES}
        for kind, app in SERVERS + EXTRA_SERVERS:
            if (args.server and kind not in args.server) or (
                not args.server and (kind, app) in EXTRA_SERVERS
            ):
                continue
            measure_kind(kind, app, work, manifests, args, results, paired)
    print(
        f"wrk -c{args.connections} -d{args.duration:g}s, {args.rounds} rounds per case, the two "
        "sites back to back in each (order alternating), one serving process each, loopback\n"
        "best: ratio of each site's best run; paired: median of the rounds' ratios; cpu: "
        "ms/req, least of the runs (genro / whitenoise), cpu ratio whitenoise / genro\n"
    )
    print(
        f"{'server':10} {'case':11} {'genro':>10} {'whitenoise':>10} {'best':>5} "
        f"{'paired':>6}  {'cpu genro / whitenoise':>22} {'cpu ratio':>9}"
    )
    for kind, _ in SERVERS + EXTRA_SERVERS:
        for label in LABELS:
            if (kind, "genro", label) not in results:
                continue
            ours, theirs = results[(kind, "genro", label)], results[(kind, "whitenoise", label)]
            unit = "MiB/s" if label == "1 MiB JS" else "req/s"
            a, b = ours[unit], theirs[unit]
            mine, other = ours["cpu ms/req"], theirs["cpu ms/req"]
            print(
                f"{kind:10} {label:11} {a:>6.0f} {unit[:3]} {b:>6.0f} {unit[:3]} "
                f"{a / b if b else 0:>5.2f} {statistics.median(paired[(kind, label)]):>6.2f}  "
                f"{mine:>10.3f} / {other:.3f} {other / mine if mine else 0:>9.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
