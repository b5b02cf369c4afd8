"""In-process cost of one request through the WSGI and ASGI apps (no server, no socket).

    .venv/bin/python bench/profile_serve.py [--count 20000] [--profile SCENARIO]

Times a loop of calls to ``WSGIApp`` (a fake ``start_response``, a gunicorn-like environ)
and ``ASGIApp`` (fake receive/send, one event loop) against a local mount, for the same
requests as ``bench_serve.py``: a 1 KiB file, a 304, a 1 KiB range of a 10 MiB file. Prints
microseconds per request for the default route and for a route with ``cache_stat``, and
the same requests to whitenoise (WSGI) and servestatic (ASGI) when they are installed.
``--profile 304`` (or ``1k``, ``range``) runs cProfile over the WSGI loop instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from wsgiref.util import FileWrapper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genro_storage.serving.asgi_app import ASGIApp
from genro_storage.serving.wsgi_app import WSGIApp

SERVE: dict[str, Any] = {
    "mount": "site",
    "cache_max_age": 60,
    "headers": {"Access-Control-Allow-Origin": "*"},
}


def environ_for(path: str, header: tuple[str, str] | None) -> dict[str, Any]:
    """What gunicorn's gthread worker puts in the environ for a wrk request."""
    environ: dict[str, Any] = {
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
        "wsgi.input_terminated": True,
        "SERVER_SOFTWARE": "gunicorn/23.0.0",
        "wsgi.input": None,
        "gunicorn.socket": None,
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": "",
        "RAW_URI": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:19900",
        "wsgi.url_scheme": "http",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "19900",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
    }
    if header:
        environ["HTTP_" + header[0].upper().replace("-", "_")] = header[1]
    return environ


def scope_for(path: str, header: tuple[str, str] | None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:19900")]
    if header:
        headers.append((header[0].lower().encode(), header[1].encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "server": ("127.0.0.1", 19900),
        "client": ("127.0.0.1", 40000),
        "extensions": {},
    }


def make_site(base: Path) -> Path:
    root = base / "site"
    root.mkdir()
    (root / "small.css").write_bytes(b"a{color:red}\n" * 78 + b"/*12345*/\n")
    (root / "big.bin").write_bytes(os.urandom(10 * 1024 * 1024))
    time.sleep(2.1)  # settled (serving/hot.py SETTLED): small bodies are kept, as in a site
    return root


def one(app: Any, asgi: bool, path: str, header: tuple[str, str] | None) -> tuple[int, dict]:
    """The status and headers of one request to ``app``."""
    seen: list[tuple[int, dict]] = []
    if not asgi:
        body = app(
            environ_for(path, header), lambda s, h, e=None: seen.append((int(s[:3]), dict(h)))
        )
        list(body)
        return seen[0]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            seen.append((message["status"], headers))

    asyncio.run(app(scope_for(path, header), receive, send))
    return seen[0]


def scenarios(app: Any, asgi: bool = False) -> dict[str, tuple[str, tuple[str, str] | None, int]]:
    """The three requests, the 304 with ``app``'s own ETag; each checked once."""
    found = one(app, asgi, "/static/small.css", None)[1]
    etag = {k.lower(): v for k, v in found.items()}["etag"]
    cases = {
        "1k": ("/static/small.css", None, 200),
        "304": ("/static/small.css", ("If-None-Match", etag), 304),
        "range": ("/static/big.bin", ("Range", "bytes=0-1023"), 206),
    }
    for path, header, expected in cases.values():
        status = one(app, asgi, path, header)[0]
        assert status == expected, (app, path, header, status)
    return cases


def peers(root: Path) -> dict[str, tuple[Any, Any]]:
    """The Python peers of bench_serve.py, built as bench/_apps.py builds them."""
    found: dict[str, tuple[Any, Any]] = {}

    def not_found(environ: Any, start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]

    try:
        from whitenoise import WhiteNoise

        found["whitenoise"] = (
            WhiteNoise(not_found, root=str(root), prefix="static/", max_age=60),
            wsgi_loop,
        )
    except ImportError:
        pass
    try:
        from servestatic import ServeStaticASGI

        app = ServeStaticASGI(None, root=str(root), prefix="static/", max_age=60)
        found["servestatic"] = (app, asgi_loop)
    except ImportError:
        pass
    return found


def wsgi_loop(app: WSGIApp, path: str, header: tuple[str, str] | None, count: int) -> None:
    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        pass

    for _ in range(count):
        environ = environ_for(path, header)  # a fresh dict per request, as a server does
        body = app(environ, start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()


async def _asgi_loop(app: ASGIApp, path: str, header: tuple[str, str] | None, count: int) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    for _ in range(count):
        await app(scope_for(path, header), receive, send)


def timed(func: Any, *args: Any) -> float:
    """Best of 15 calls of ``func(*args, count)``, CPU microseconds per request (process
    CPU time: a busy machine's other processes delay the loop, they do not add to it)."""
    *args, count = args
    best = float("inf")
    for _ in range(15):
        start = time.process_time()
        func(*args, count)
        best = min(best, time.process_time() - start)
    return best / count * 1e6


def asgi_loop(app: ASGIApp, path: str, header: tuple[str, str] | None, count: int) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_asgi_loop(app, path, header, count))
    finally:
        loop.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--profile", choices=("1k", "304", "range"))
    parser.add_argument("--cached", action="store_true", help="profile the cache_stat route")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="genro-prof-") as tmp:
        root = make_site(Path(tmp))
        mounts = [{"name": "site", "type": "local", "path": str(root)}]
        configs = {"default": {"/static": SERVE}}
        cached: dict[str, Any] = {"/static": {**SERVE, "cache_stat": 60}}
        try:
            WSGIApp(mounts, cached)
            configs["cache_stat"] = cached
        except Exception:  # an older tree without the option
            pass
        if args.profile:
            serve = configs["cache_stat" if args.cached else "default"]
            app = WSGIApp(mounts, serve)
            path, header, _expected = scenarios(app)[args.profile]
            profiler = cProfile.Profile()
            profiler.runcall(wsgi_loop, app, path, header, args.count)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            return 0
        print(f"µs per request, in process, CPU time, best of 15 loops of {args.count}\n")
        print("| config | adapter | 1 KiB | 304 | 1 KiB range |")
        print("|---|---|---:|---:|---:|")
        for name, serve in configs.items():
            wsgi = WSGIApp(mounts, serve)
            asgi = ASGIApp(mounts, serve)
            cases = scenarios(wsgi)
            for label, app, loop, count in (
                ("WSGI", wsgi, wsgi_loop, args.count),
                ("ASGI", asgi, asgi_loop, args.count // 4),
            ):
                row = [timed(loop, app, path, header, count) for path, header, _ in cases.values()]
                print(f"| {name} | {label} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
        for name, (app, loop) in peers(root).items():
            count = args.count if loop is wsgi_loop else args.count // 4
            label = "WSGI" if loop is wsgi_loop else "ASGI"
            cases = scenarios(app, asgi=label == "ASGI")
            row = [timed(loop, app, path, header, count) for path, header, _ in cases.values()]
            print(f"| {name} | {label} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
