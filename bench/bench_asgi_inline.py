"""The ASGI app in process: a local route answered in the event loop vs in a worker thread.

    .venv/bin/python bench/bench_asgi_inline.py

No server and no socket: the app is called directly (as a server would), 3000 requests a
round, best of 3 interleaved rounds, for a 1 KiB file (200) and a conditional GET (304).
It isolates what skipping the thread hop saves; ``bench_serve.py`` measures the whole
server under ``wrk``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from typing import Any

from genro_storage import StorageManager
from genro_storage.serving.app import Request
from genro_storage.serving.asgi_app import ASGIApp


class Threaded(ASGIApp):
    """The same app, every answer computed in a worker thread (the behaviour before)."""

    def answers_inline(self, request: Request) -> bool:
        return False


async def one(app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    out: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    scope = {"type": "http", "method": "GET", "path": "/d/s.css", "headers": headers}
    await app({**scope, "query_string": b"", "root_path": ""}, receive, send)
    return out[0]


async def rate(app: ASGIApp, headers: list[tuple[bytes, bytes]], n: int = 3000) -> float:
    started = time.perf_counter()
    for _ in range(n):
        await one(app, headers)
    return n / (time.perf_counter() - started)


async def main() -> None:
    root = tempfile.mkdtemp(prefix="genro-bench-")
    with open(os.path.join(root, "s.css"), "w") as fh:
        fh.write("x" * 1024)
    storage = StorageManager()
    storage.configure([{"name": "disk", "type": "local", "path": root}])
    apps = {"inline": ASGIApp(storage, {"/d": "disk"}), "thread": Threaded(storage, {"/d": "disk"})}
    etag = dict((await one(apps["inline"], []))["headers"])[b"etag"]
    for label, headers in [("1 KiB 200", []), ("304", [(b"if-none-match", etag)])]:
        best: dict[str, float] = {}
        for _ in range(3):
            for name, app in apps.items():
                best[name] = max(best.get(name, 0.0), await rate(app, headers))
        print(
            f"{label}: event loop {best['inline']:.0f} req/s, worker thread "
            f"{best['thread']:.0f} req/s, ratio {best['inline'] / best['thread']:.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
