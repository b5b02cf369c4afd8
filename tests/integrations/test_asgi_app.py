"""The ASGI app: every case of ``_cases.py`` in process, under uvicorn and under granian
(a Rust server that sends files itself through ASGI's ``pathsend``), plus mounting."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from genro_storage.serving.asgi_app import ASGIApp
from tests.integrations._cases import ATTACKS, FileCases, LocalCases, S3Cases, raw_request
from tests.integrations._site import FILES
from tests.integrations.conftest import Client, make_client


@pytest.fixture(params=["inproc-asgi", "uvicorn", "granian"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    yield from make_client(request.param, request)


class TestFiles(FileCases):
    pass


class TestLocalRoutes(LocalCases):
    pass


class TestS3(S3Cases):
    pass


def call(app: ASGIApp, scope: dict[str, Any]) -> tuple[int, dict[bytes, bytes], bytes]:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not messages:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    base = {"type": "http", "method": "GET", "headers": [], "query_string": b"", "root_path": ""}
    asyncio.run(app({**base, **scope}, receive, send))
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return start["status"], dict(start["headers"]), body


@pytest.mark.parametrize("with_raw_path", [True, False], ids=["raw_path", "path_only"])
@pytest.mark.parametrize("target", ATTACKS.values(), ids=ATTACKS.keys())
def test_traversal_attempt_is_404(asgi_app: ASGIApp, target: str, with_raw_path: bool) -> None:
    scope: dict[str, Any] = {"path": unquote(target)}
    if with_raw_path:
        scope["raw_path"] = target.encode("latin-1")
    status, _, body = call(asgi_app, scope)
    assert status == 404 and b"SECRET" not in body


@pytest.mark.parametrize("target", ATTACKS.values(), ids=ATTACKS.keys())
def test_traversal_attempt_over_uvicorn(uvicorn_url: str, target: str) -> None:
    status, data = raw_request(urlsplit(uvicorn_url).port or 80, target)
    assert status in (400, 404) and b"SECRET" not in data


def test_mounts_under_starlette(asgi_app: ASGIApp) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    host = Starlette(routes=[Mount("/storage", app=asgi_app)])

    async def fetch() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(host), base_url="http://t") as c:
            return await c.get("/storage/local/hello.txt"), await c.get("/storage/local/dir/")

    file, listing = asyncio.run(fetch())
    assert file.content == FILES["hello.txt"]
    assert b"Index of /storage/local/dir/" in listing.content


def test_lifespan_is_answered(asgi_app: ASGIApp) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(asgi_app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def _record_threads(backend: Any, method: str, threads: list[int]) -> None:
    """Wrap one method of a real backend object so it notes the thread it runs in."""
    original = getattr(backend, method)

    def recorded(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return original(*args, **kwargs)

    setattr(backend, method, recorded)


def test_local_routes_answer_in_the_event_loop_others_in_a_worker_thread(tmp_path: Any) -> None:
    from genro_storage import StorageManager

    (tmp_path / "disk").mkdir()
    (tmp_path / "disk" / "a.txt").write_text("local bytes")
    storage = StorageManager()
    storage.configure(
        [
            {"name": "disk", "type": "local", "path": str(tmp_path / "disk")},
            {"name": "sub", "path": "disk:"},
            {"name": "mem", "type": "memory", "base_path": f"inline-{id(tmp_path)}"},
        ]
    )
    storage.node("mem:a.txt").write_text("memory bytes")
    threads: list[int] = []
    _record_threads(storage.get_backend("disk"), "local_stat", threads)
    _record_threads(storage.get_backend("mem"), "info", threads)
    _record_threads(storage.get_backend("disk"), "list_detail", threads)
    serve = {"/d": "disk", "/s": "sub", "/m": "mem", "/i": {"mount": "disk", "index": True}}
    app = ASGIApp(storage, serve=serve)
    loop_thread = threading.get_ident()  # asyncio.run() runs the loop in this thread

    status, headers, body = call(app, {"path": "/d/a.txt"})
    assert (status, body) == (200, b"local bytes") and threads[-1] == loop_thread
    etag = headers[b"etag"]
    status, _, body = call(app, {"path": "/d/a.txt", "headers": [(b"if-none-match", etag)]})
    assert (status, body) == (304, b"") and threads[-1] == loop_thread
    status, _, body = call(app, {"path": "/s/a.txt"})  # a relative mount over local disk
    assert (status, body) == (200, b"local bytes") and threads[-1] == loop_thread

    status, _, body = call(app, {"path": "/m/a.txt"})
    assert (status, body) == (200, b"memory bytes") and threads[-1] != loop_thread
    status, _, _ = call(app, {"path": "/i/"})  # a listing reads a directory: a thread
    assert status == 200 and threads[-1] != loop_thread

    class Custom(ASGIApp):  # a subclass's hook may block: its answers take the thread
        def check_access(self, route: Any, request: Any) -> bool:
            return True

    status, _, _ = call(Custom(storage, serve=serve), {"path": "/d/a.txt"})
    assert status == 200 and threads[-1] != loop_thread
