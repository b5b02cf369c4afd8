"""The ASGI app: every case of ``_cases.py`` in process, under uvicorn and under granian
(a Rust server that sends files itself through ASGI's ``pathsend``), plus mounting."""

from __future__ import annotations

import asyncio
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
