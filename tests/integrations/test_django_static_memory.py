"""``STATIC_URL`` on a memory mount: what the middleware answers when the static storage
has no local files (the kept answers are for local disk only).

A memory mount lives in one process, so ``collectstatic`` and the requests run in process
(Django's ``call_command``, ``RequestFactory`` through the sync and the async middleware).
The S3 counterparts (streamed by gunicorn and uvicorn, ``delivery: redirect``,
``redirect_to_url`` with a CDN address) are in ``test_django_static.py`` on moto.
"""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path
from typing import Any

import brotli
import pytest

pytest.importorskip("django")

from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.test import AsyncRequestFactory, RequestFactory

from genro_storage.integrations.django.middleware import StaticFilesMiddleware
from tests.integrations.django_static.assets import CSS_NAME, JS_NAME, write_assets
from tests.integrations.test_django_static_answers import afallthrough, fallthrough

# closing a response sends request_finished, whose receiver checks the DB connection
pytestmark = pytest.mark.django_db


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """The test site's stylesheet and a 200 KiB script (its 1 MiB one would make
    collectstatic's brotli take seconds per test)."""
    return write_assets(tmp_path / "src", js_size=200 * 1024)


@pytest.fixture
def collected(sources: Path, settings: Any) -> dict[str, str]:
    """The test site's assets collected onto a fresh memory mount; returns the manifest."""
    settings.STATICFILES_DIRS = [str(sources)]
    settings.GENRO_STORAGE_MOUNTS = [
        {"name": "static", "type": "memory", "base_path": f"static-{uuid.uuid4().hex}"}
    ]
    settings.GENRO_STORAGE_MOUNT = "static"  # Django 4.2 drops the OPTIONS (see answers test)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "genro_storage.integrations.django.GenroStaticStorage"},
    }
    settings.GENRO_STORAGE_STATIC = {}
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    manifest = dict(storage.load_manifest()[0])  # type: ignore[attr-defined]
    assert storage.exists(f"{manifest[CSS_NAME]}.gz")  # type: ignore[attr-defined]
    return manifest


def body(response: Any) -> bytes:
    if response.streaming:
        data = b"".join(response.streaming_content)
    else:
        data = response.content
    response.close()
    return bytes(data)


async def abody(response: Any) -> bytes:
    if not response.streaming:
        return bytes(response.content)
    data = b"".join([chunk async for chunk in response.streaming_content])
    response.close()
    return data


async def acall(name: str, method: str, headers: dict[str, str]) -> tuple[Any, bytes]:
    mw = StaticFilesMiddleware(afallthrough)
    request = AsyncRequestFactory().generic(method, f"/static/{name}", headers=headers)
    response = await mw(request)
    return response, await abody(response)


def call(name: str, asgi: bool, method: str = "GET", **headers: str) -> tuple[Any, bytes]:
    """The middleware's answer for ``/static/<name>`` and its body, sync or async."""
    if asgi:
        return async_to_sync(acall)(name, method, headers)
    mw = StaticFilesMiddleware(fallthrough)
    response = mw(RequestFactory().generic(method, f"/static/{name}", headers=headers))
    return response, body(response)


@pytest.fixture(params=["wsgi", "asgi"])
def asgi(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "asgi")


def test_memory_mount_streams_what_collectstatic_wrote(
    collected: dict[str, str], sources: Path, asgi: bool
) -> None:
    assert StaticFilesMiddleware(fallthrough).hot is None  # no local file to keep
    css, text = collected[CSS_NAME], (sources / CSS_NAME).read_bytes()
    response, data = call(css, asgi, accept_encoding="identity")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=31536000, immutable"
    assert response["Content-Type"].startswith("text/css")
    assert "Content-Encoding" not in response
    assert data == text
    assert response["Content-Length"] == str(len(text))
    etag = response["ETag"]

    again, data = call(css, asgi, if_none_match=etag)
    assert (again.status_code, data) == (304, b"")

    packed, data = call(css, asgi, accept_encoding="br, gzip")
    assert packed["Content-Encoding"] == "br" and "Accept-Encoding" in packed["Vary"]
    assert brotli.decompress(data) == text

    zipped, data = call(css, asgi, accept_encoding="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(data) == text

    part, data = call(css, asgi, range="bytes=0-5", accept_encoding="identity")
    assert (part.status_code, data) == (206, b".rule-")

    head, data = call(css, asgi, "HEAD", accept_encoding="identity")
    assert (head.status_code, head["Content-Length"], data) == (200, str(len(text)), b"")

    plain, data = call(CSS_NAME, asgi, accept_encoding="identity")
    assert plain["Cache-Control"] == "max-age=60"

    script, data = call(collected[JS_NAME], asgi, accept_encoding="identity")
    assert script.status_code == 200 and data == (sources / JS_NAME).read_bytes()

    missing, data = call("css/missing.css", asgi)
    assert (missing.status_code, data) == (404, b"site 404")


def test_memory_mount_redirects_to_its_url_when_asked(
    collected: dict[str, str], settings: Any, asgi: bool
) -> None:
    """``redirect_to_url`` sends clients to the name's URL on the storage (here a CDN
    ``STATIC_URL``, the storage's ``base_url``); a name the storage lacks still falls
    through to the site."""
    settings.STATIC_URL = "https://cdn.example.com/static/"
    settings.GENRO_STORAGE_STATIC = {"redirect_to_url": True}
    css = collected[CSS_NAME]
    response, _ = call(css, asgi)
    assert response.status_code == 302
    assert response["Location"] == f"https://cdn.example.com/static/{css}"
    missing, data = call("css/missing.css", asgi)
    assert (missing.status_code, data) == (404, b"site 404")


def test_redirect_delivery_streams_from_a_mount_without_presigned_urls(
    collected: dict[str, str], sources: Path, settings: Any, asgi: bool
) -> None:
    """``delivery: redirect`` needs a URL the client can fetch by itself (a presigned
    object-store URL): a memory mount has none, so its files are streamed as above."""
    settings.GENRO_STORAGE_STATIC = {"delivery": "redirect"}
    css = collected[CSS_NAME]
    response, data = call(css, asgi, accept_encoding="identity")
    assert response.status_code == 200 and data == (sources / CSS_NAME).read_bytes()
    assert response["Cache-Control"] == "max-age=31536000, immutable"
    missing, data = call("css/missing.css", asgi)
    assert (missing.status_code, data) == (404, b"site 404")
