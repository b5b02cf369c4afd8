"""StaticFilesMiddleware's kept answers (``serving/hot.py``, ``responses.py``) on a local
mount, in process.

Each answer taken from the table is compared with what the serve core decides for the
same request (the path every other request takes): same status, same headers, same
bytes. Then freshness: an edited, replaced or removed file, with ``autorefresh`` (a stat
every request) and within a ``cache_stat`` TTL (the ``fstat`` check when a file is
opened); the table filled at start-up from the manifest, and again when ``collectstatic``
changes it. Under WSGI (``RequestFactory``) and ASGI (``AsyncRequestFactory``).
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import brotli
import pytest

pytest.importorskip("django")

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotFound
from django.test import AsyncRequestFactory, RequestFactory

from genro_storage.integrations.django.middleware import StaticFilesMiddleware
from genro_storage.integrations.django.responses import StaticFileResponse
from genro_storage.serving import hot
from tests.integrations.conftest import past_the_window

CSS = b"".join(b".rule-%d { color: red; margin: %dpx; }\n" % (i, i) for i in range(60))
JS = b"".join(b"function f%d(a) { return a * %d; }\n" % (i, i) for i in range(4000))  # > 64 KiB
HASHED_CSS = "css/site.0123456789ab.css"
HASHED_JS = "js/app.0123456789ab.js"
# closing a response sends request_finished, whose receiver checks the DB connection
pytestmark = pytest.mark.django_db


def fallthrough(request: HttpRequest) -> HttpResponse:
    return HttpResponseNotFound(b"site 404")


async def afallthrough(request: HttpRequest) -> HttpResponse:
    return HttpResponseNotFound(b"site 404")


@pytest.fixture
def root(tmp_path: Path, settings: Any) -> Path:
    """A static folder as collectstatic leaves it: hashed and plain names, siblings."""
    root = tmp_path / "static"
    for name, data in ((HASHED_CSS, CSS), ("css/site.css", CSS), (HASHED_JS, JS)):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        gz, br = compressed(data)
        (root / f"{name}.gz").write_bytes(gz)
        (root / f"{name}.br").write_bytes(br)
    (root / "img").mkdir()
    (root / "img" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    write_manifest(root, {"css/site.css": HASHED_CSS, "js/app.js": HASHED_JS})
    settings.GENRO_STORAGE_MOUNTS = [{"name": "static", "type": "local", "path": str(root)}]
    # the mount comes from GENRO_STORAGE_MOUNT, not OPTIONS: Django 4.2's
    # override_settings(STORAGES=...) drops the OPTIONS of the staticfiles entry
    settings.GENRO_STORAGE_MOUNT = "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "genro_storage.integrations.django.GenroStaticStorage"},
    }
    settings.GENRO_STORAGE_STATIC = {"autorefresh": False}
    return root


@functools.cache
def compressed(data: bytes) -> tuple[bytes, bytes]:
    """gzip and brotli siblings of ``data``, made once: brotli's default quality (11)
    takes 0.16 s for the script, and every test here builds the folder anew."""
    return gzip.compress(data, mtime=0), brotli.compress(data)


def write_manifest(root: Path, paths: dict[str, str]) -> None:
    """``staticfiles.json`` as Django's ManifestStaticFilesStorage writes it."""
    manifest = {"paths": paths, "version": "1.1", "hash": "0123456789ab"}
    (root / "staticfiles.json").write_text(json.dumps(manifest))


def middleware(asgi: bool = False) -> StaticFilesMiddleware:
    made = StaticFilesMiddleware(afallthrough if asgi else fallthrough)
    assert made.hot is not None and made.hot is made.server.hot  # the serve core's table
    return made


def kept(mw: StaticFilesMiddleware, name: str) -> bool:
    """True when the serve core's table keeps answers for ``name``."""
    assert mw.hot is not None
    return mw.target(name) in mw.hot


def stat_clock(mw: StaticFilesMiddleware, now: list[float]) -> None:
    """Make the routes' ``cache_stat`` clock read ``now[0]`` (a monotonic time)."""
    for route in mw.server.routes:
        assert route.stat_cache is not None
        route.stat_cache.clock = lambda: now[0]


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge every file's last change long past: small bodies are kept."""
    monkeypatch.setattr(hot, "SETTLED", 0.0)


@pytest.fixture
def unsettled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge every file changed just now, however slow the machine: no body is kept."""
    monkeypatch.setattr(hot, "SETTLED", 1e9)


def get(mw: StaticFilesMiddleware, name: str, method: str = "GET", **headers: str) -> Any:
    factory = RequestFactory()
    request = factory.generic(method, f"/static/{name}", headers=headers)
    return mw(request)


async def aget(mw: StaticFilesMiddleware, name: str, method: str = "GET", **headers: str) -> Any:
    request = AsyncRequestFactory().generic(method, f"/static/{name}", headers=headers)
    return await mw(request)


def etag_of(mw: StaticFilesMiddleware, name: str, **headers: str) -> str:
    response = get(mw, name, **headers)
    response.close()
    return str(response["ETag"])


def body(response: HttpResponseBase) -> bytes:
    if response.streaming:
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        content = response.content  # type: ignore[attr-defined]
    response.close()
    return bytes(content)


async def abody(response: HttpResponseBase) -> bytes:
    if not response.streaming:
        return bytes(response.content)  # type: ignore[attr-defined]
    content = response.streaming_content  # type: ignore[attr-defined]
    assert isinstance(content, AsyncIterator), "ASGI responses must stream asynchronously"
    data = b"".join([chunk async for chunk in content])
    response.close()
    return data


def core_answer(mw: StaticFilesMiddleware, name: str, method: str = "GET", **headers: str):
    """What the serve core decides for the same request (no table)."""
    lowered = {k.lower().replace("_", "-"): v for k, v in headers.items()}
    request = RequestFactory().generic(method, f"/static/{name}")
    return mw.decide(request, name, lowered)


def header_list(response: HttpResponseBase) -> list[tuple[str, str]]:
    return [(k.lower(), v) for k, v in response.items()]


CASES = [
    pytest.param(HASHED_CSS, {}, id="hashed-identity"),
    pytest.param(HASHED_CSS, {"accept_encoding": "br, gzip"}, id="hashed-br"),
    pytest.param(HASHED_CSS, {"accept_encoding": "gzip, deflate"}, id="hashed-gzip"),
    pytest.param("css/site.css", {"accept_encoding": "gzip;q=0.5, br;q=0.1"}, id="plain-gzip"),
    pytest.param("css/site.css", {"accept_encoding": "identity"}, id="plain-identity"),
    pytest.param(HASHED_JS, {"accept_encoding": "br"}, id="large-br"),
    pytest.param(HASHED_JS, {}, id="large-identity"),
    pytest.param("img/dot.png", {"accept_encoding": "br, gzip"}, id="image"),
    pytest.param("css/site.css.gz", {}, id="sibling-by-name"),
]


@pytest.mark.parametrize(("name", "headers"), CASES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_table_answers_what_the_serve_core_decides(
    root: Path, name: str, headers: dict[str, str], method: str
) -> None:
    mw = middleware()
    expected = core_answer(mw, name, method, **headers)
    response = get(mw, name, method, **headers)
    assert kept(mw, name)  # answered from the table
    assert response.status_code == expected.plan.status == 200
    assert header_list(response) == [(k.lower(), v) for k, v in expected.plan.headers]
    data = body(response)
    if method == "HEAD":
        assert data == b""
        return
    coding = response.get("Content-Encoding")
    plain = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](data)
    assert plain == (root / name).read_bytes()
    if isinstance(response, StaticFileResponse):  # sendfile under a WSGI server
        assert response.file_to_stream is not None


@pytest.mark.parametrize(("name", "headers"), CASES)
def test_revalidation_with_the_current_etag_is_the_core_304(
    root: Path, name: str, headers: dict[str, str]
) -> None:
    mw = middleware()
    etag = etag_of(mw, name, **headers)
    expected = core_answer(mw, name, **headers, if_none_match=etag)
    response = get(mw, name, **headers, if_none_match=etag)
    assert response.status_code == expected.plan.status == 304
    assert header_list(response) == [(k.lower(), v) for k, v in expected.plan.headers]
    assert body(response) == b""


def test_caching_headers_of_hashed_and_plain_names(root: Path) -> None:
    mw = middleware()
    hashed = get(mw, HASHED_CSS, accept_encoding="br, gzip")
    assert hashed["Cache-Control"] == "max-age=31536000, immutable"
    assert hashed["Content-Encoding"] == "br"
    assert hashed["Vary"] == "Accept-Encoding"
    assert hashed["Content-Type"] == "text/css; charset=utf-8"
    assert hashed["ETag"] and hashed["Last-Modified"]
    plain = get(mw, "css/site.css", accept_encoding="identity")
    assert plain["Cache-Control"] == "max-age=60"
    assert "Content-Encoding" not in plain and plain["Vary"] == "Accept-Encoding"
    image = get(mw, "img/dot.png", accept_encoding="br, gzip")
    assert image["Content-Type"] == "image/png" and "Vary" not in image
    for response in (hashed, plain, image):
        response.close()


def test_304_needs_no_file(root: Path, unsettled: None) -> None:
    """Revalidations are answered from memory: even a file removed since (within the
    TTL) gets its 304, while a GET finds it gone and falls through to the site. (A file
    whose bytes are kept is sent from memory within the TTL: judged unsettled here, as it
    is when the test runs fast; on a loaded machine it could settle before the GET.)"""
    mw = middleware()
    etag = etag_of(mw, HASHED_CSS)
    os.unlink(root / HASHED_CSS)
    assert get(mw, HASHED_CSS, if_none_match=etag).status_code == 304
    gone = get(mw, HASHED_CSS)
    assert gone.status_code == 404 and gone.content == b"site 404"


def test_other_requests_go_to_the_serve_core(root: Path) -> None:
    mw = middleware()
    etag = etag_of(mw, HASHED_CSS)
    ranged = get(mw, HASHED_CSS, range="bytes=0-9")
    assert ranged.status_code == 206 and body(ranged) == CSS[:10]
    listed = get(mw, HASHED_CSS, if_none_match=f'"nope", {etag}')
    assert listed.status_code == 304
    weak = get(mw, HASHED_CSS, if_none_match=f"W/{etag}")
    assert weak.status_code == 304
    stale = get(mw, HASHED_CSS, if_none_match='"stale"')
    assert stale.status_code == 200 and body(stale) == CSS
    failed = get(mw, HASHED_CSS, if_match='"stale"')
    assert failed.status_code == 412
    modified = get(mw, HASHED_CSS)
    modified.close()
    since = get(mw, HASHED_CSS, if_modified_since=modified["Last-Modified"])
    assert since.status_code == 304
    posted = get(mw, HASHED_CSS, "POST")
    assert posted.status_code == 404  # not a static request: the site answers


@pytest.mark.parametrize(
    "name",
    ["../static/css/site.css", "css//site.css", "css/./site.css", "css/%2e%2e/x", "css/", ""],
)
def test_odd_names_are_not_taken_from_the_table(root: Path, name: str) -> None:
    mw = middleware()
    response = get(mw, name)
    assert not kept(mw, name)
    if response.status_code == 200:  # normalised by the serve core: the same file
        assert body(response) == CSS
    else:
        assert response.status_code == 404


def test_a_symlink_out_of_the_mount_is_not_served(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.css"
    secret.write_bytes(b"secret")
    os.symlink(secret, root / "css" / "leak.css")
    mw = middleware()
    response = get(mw, "css/leak.css")
    assert response.status_code == 404 and response.content == b"site 404"
    assert not kept(mw, "css/leak.css")


def test_edits_show_at_once_with_autorefresh(root: Path, settings: Any) -> None:
    settings.GENRO_STORAGE_STATIC = {"autorefresh": True}
    mw = middleware()
    first = get(mw, "css/site.css")
    old_etag = first["ETag"]
    assert body(first) == CSS
    edited = CSS.replace(b"red", b"tan")  # same size
    (root / "css" / "site.css").write_bytes(edited)
    os.unlink(root / "css" / "site.css.br")
    past_the_window()
    again = get(mw, "css/site.css", if_none_match=old_etag)
    assert again.status_code == 200 and again["ETag"] != old_etag
    assert body(again) == edited
    assert get(mw, "css/site.css", if_none_match=again["ETag"]).status_code == 304
    # the .br sibling is gone: gzip is chosen now
    coded = get(mw, "css/site.css", accept_encoding="br, gzip")
    assert coded["Content-Encoding"] == "gzip"
    assert gzip.decompress(body(coded)) == CSS  # the sibling still holds the old text
    added = root / "css" / "new.css"
    added.write_bytes(b"a{}")
    past_the_window()
    assert body(get(mw, "css/new.css")) == b"a{}"


def test_autorefresh_follows_debug(root: Path, settings: Any) -> None:
    settings.GENRO_STORAGE_STATIC = {}
    settings.DEBUG = True
    assert all(route.stat_cache is None for route in middleware().server.routes)
    settings.DEBUG = False
    caches = [route.stat_cache for route in middleware().server.routes]
    assert [cache.ttl for cache in caches if cache is not None] == [5, 5]


def test_a_replaced_file_is_never_sent_with_old_headers(
    root: Path, settings: Any, unsettled: None
) -> None:
    """Within the TTL the headers are kept, but the file opened for a 200 is checked
    against the stat they were built from: a replacement is sent with its own."""
    settings.GENRO_STORAGE_STATIC = {"cache_stat": 3600}
    mw = middleware()
    assert body(get(mw, "css/site.css")) == CSS
    bigger = CSS * 3
    staged = root / "css" / "staged"
    staged.write_bytes(bigger)
    os.replace(staged, root / "css" / "site.css")
    past_the_window()
    response = get(mw, "css/site.css")
    assert response["Content-Length"] == str(len(bigger))
    assert body(response) == bigger


@pytest.mark.anyio
@pytest.mark.parametrize("asgi", [False, True])
async def test_a_large_file_replaced_by_one_of_its_size_gets_its_own_etag(
    root: Path, settings: Any, asgi: bool
) -> None:
    """Sent from the file (sendfile, or streamed): same length, other bytes and stat."""
    settings.GENRO_STORAGE_STATIC = {"cache_stat": 3600}
    mw = middleware(asgi)
    first = await aget(mw, HASHED_JS) if asgi else get(mw, HASHED_JS)
    assert (await abody(first) if asgi else body(first)) == JS
    other = JS.replace(b"return", b"RETURN")
    staged = root / "js" / "staged"
    staged.write_bytes(other)
    os.replace(staged, root / HASHED_JS)
    past_the_window()
    again = await aget(mw, HASHED_JS) if asgi else get(mw, HASHED_JS)
    assert again["ETag"] != first["ETag"]
    assert (await abody(again) if asgi else body(again)) == other


def test_small_settled_files_are_kept_in_memory(root: Path, settled: None) -> None:
    mw = middleware()
    first = get(mw, "css/site.css", accept_encoding="identity")
    assert not first.streaming and first.content == CSS
    assert int(first["Content-Length"]) == len(CSS)
    coded = get(mw, "css/site.css", accept_encoding="br")
    assert not coded.streaming and brotli.decompress(coded.content) == CSS
    for name in ("css/site.css", "css/site.css.br"):
        os.unlink(root / name)  # within cache_stat: answered from memory, no file opened
    again = get(mw, "css/site.css", accept_encoding="identity")
    assert (again.status_code, again.content) == (200, CSS)
    coded = get(mw, "css/site.css", accept_encoding="br")
    assert brotli.decompress(coded.content) == CSS
    large = get(mw, HASHED_JS)  # over the kept bodies' limit: sent from the file
    assert isinstance(large, StaticFileResponse) and body(large) == JS


def test_files_changed_just_now_are_not_kept(root: Path, unsettled: None) -> None:
    """A file whose ctime is under 2 s old could change again without its stat moving:
    its bytes are read from the file on each request until it settles."""
    mw = middleware()
    assert body(get(mw, "css/site.css")) == CSS
    os.unlink(root / "css" / "site.css")
    gone = get(mw, "css/site.css")  # not kept: read again, and found gone
    assert gone.status_code == 404 and gone.content == b"site 404"


def test_kept_bytes_follow_edits_with_autorefresh(root: Path, settings: Any, settled: None) -> None:
    settings.GENRO_STORAGE_STATIC = {"autorefresh": True}
    mw = middleware()
    assert get(mw, "css/site.css").content == CSS
    edited = CSS.replace(b"red", b"tan")  # same size
    time.sleep(0.01)  # a later tick of the file system's clock
    (root / "css" / "site.css").write_bytes(edited)
    past_the_window()
    assert get(mw, "css/site.css").content == edited


def test_kept_bytes_within_the_ttl_keep_their_headers(
    root: Path, settings: Any, settled: None
) -> None:
    """Within ``cache_stat`` a kept file answers as it was when read: old bytes with the
    old length and ETag, never a mix; once the TTL ends, the new file."""
    settings.GENRO_STORAGE_STATIC = {"cache_stat": 10}
    mw = middleware()
    now = [time.monotonic()]
    stat_clock(mw, now)
    old = get(mw, "css/site.css")
    bigger = CSS * 2
    (root / "css" / "site.css").write_bytes(bigger)
    same = get(mw, "css/site.css")
    assert (same.content, same["ETag"], same["Content-Length"]) == (
        CSS,
        old["ETag"],
        str(len(CSS)),
    )
    now[0] += 11
    fresh = get(mw, "css/site.css")
    assert fresh.content == bigger and fresh["Content-Length"] == str(len(bigger))


def test_the_ttl_bounds_how_long_a_stat_is_trusted(
    root: Path, settings: Any, settled: None
) -> None:
    settings.GENRO_STORAGE_STATIC = {"cache_stat": 10}
    mw = middleware()
    now = [time.monotonic()]
    stat_clock(mw, now)
    etag = etag_of(mw, "css/site.css")
    (root / "css" / "site.css").write_bytes(CSS.replace(b"red", b"tan"))
    now[0] += 5  # within the TTL: still the 304 it answered before
    assert get(mw, "css/site.css", if_none_match=etag).status_code == 304
    now[0] += 6  # past it: stat'ed again, the edit shows
    fresh = get(mw, "css/site.css", if_none_match=etag)
    assert fresh.status_code == 200 and body(fresh) == CSS.replace(b"red", b"tan")


def test_the_manifest_fills_the_table_at_start_up(root: Path) -> None:
    """Every hashed name of the manifest is decided before its first request (as
    whitenoise reads its files at start-up); other names at their first request."""
    mw = middleware()
    assert kept(mw, HASHED_CSS) and kept(mw, HASHED_JS)
    assert mw.hashed == {HASHED_CSS, HASHED_JS}
    assert not kept(mw, "css/site.css")
    response = get(mw, HASHED_CSS, accept_encoding="identity")
    assert response["Cache-Control"] == "max-age=31536000, immutable"
    assert body(response) == CSS
    assert kept(mw, "css/site.css") is False
    body(get(mw, "css/site.css"))
    assert kept(mw, "css/site.css")


def test_start_up_decides_at_most_preload_names(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genro_storage.integrations.django import middleware as module

    monkeypatch.setattr(module, "PRELOAD_NAMES", 1)
    mw = middleware()
    assert [kept(mw, HASHED_CSS), kept(mw, HASHED_JS)] == [True, False]  # sorted names
    assert body(get(mw, HASHED_JS)) == JS  # the rest at their first request
    assert kept(mw, HASHED_JS)


def test_collectstatic_on_a_running_site_is_followed(root: Path, settings: Any) -> None:
    """A new manifest (collectstatic while the site runs) is read again within
    ``cache_stat``: its new names are decided at once; the unhashed copy collectstatic
    rewrote shows its new bytes, a removed file falls through to the site."""
    settings.GENRO_STORAGE_STATIC = {"cache_stat": 10}
    mw = middleware()
    etag = etag_of(mw, "css/site.css")
    edited = CSS.replace(b"red", b"tan")
    newer = "css/site.fedcba987654.css"
    for name in (newer, "css/site.css"):
        staged = root / "css" / "staged"
        staged.write_bytes(edited)
        os.replace(staged, root / name)
    write_manifest(root, {"css/site.css": newer})
    os.unlink(root / HASHED_JS)
    past_the_window()
    mw._manifest_due = time.monotonic() + 3600  # within cache_stat, however slow the machine
    assert not mw.refresh()  # checked at most once per cache_stat
    mw._manifest_due = 0.0  # the TTL passed
    assert mw.refresh()
    assert mw.hashed == {newer} and kept(mw, newer)
    assert not mw.refresh(), "read once per change"
    response = get(mw, newer)
    assert response["Cache-Control"] == "max-age=31536000, immutable"
    assert body(response) == edited
    old = get(mw, HASHED_CSS)  # still on disk: still served (old pages link it)
    assert old["Cache-Control"] == "max-age=31536000, immutable" and body(old) == CSS
    plain = get(mw, "css/site.css", if_none_match=etag)  # replaced: not the old 304
    assert plain.status_code == 200 and body(plain) == edited
    gone = get(mw, HASHED_JS)
    assert gone.status_code == 404 and gone.content == b"site 404"


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "headers"), CASES)
async def test_asgi_answers_match_the_wsgi_ones(
    root: Path, name: str, headers: dict[str, str]
) -> None:
    wsgi = get(middleware(), name, **headers)
    expected = header_list(wsgi), body(wsgi)
    mw = middleware(asgi=True)
    response = await aget(mw, name, **headers)
    assert kept(mw, name)
    assert (header_list(response), await abody(response)) == expected
    revalidated = await aget(mw, name, **headers, if_none_match=response["ETag"])
    assert revalidated.status_code == 304
    head = await aget(mw, name, "HEAD", **headers)
    assert header_list(head) == expected[0] and await abody(head) == b""


@pytest.mark.anyio
async def test_asgi_large_files_stream_asynchronously(root: Path) -> None:
    response = await aget(middleware(asgi=True), HASHED_JS)
    assert response.streaming and response.is_async
    assert await abody(response) == JS


@pytest.mark.anyio
async def test_asgi_falls_through_for_missing_names(root: Path) -> None:
    response = await aget(middleware(asgi=True), "css/missing.css")
    assert response.status_code == 404 and response.content == b"site 404"


async def call_asgi(app: Any, name: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """One GET through an ASGI application, in process: (status, body)."""
    path = f"/static/{name}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.anyio
async def test_the_asgi_wrapper_sends_kept_answers_before_django(
    root: Path, settings: Any, settled: None
) -> None:
    """``StaticFilesASGI``: a kept answer never enters Django (no ``request_started``);
    a new one goes through Django, whose middleware keeps it for the next time."""
    from django.core.handlers.asgi import ASGIHandler
    from django.core.signals import request_started

    from genro_storage.integrations.django.asgi import StaticFilesASGI

    settings.MIDDLEWARE = ["genro_storage.integrations.django.middleware.StaticFilesMiddleware"]
    app = StaticFilesASGI(ASGIHandler())
    assert app.middleware is not None and kept(app.middleware, HASHED_CSS)
    started: list[Any] = []

    def count(**kwargs: Any) -> None:
        started.append(kwargs)

    request_started.connect(count)
    try:
        assert await call_asgi(app, HASHED_CSS, []) == (200, CSS)  # preloaded key
        assert started == []
        coded = [(b"accept-encoding", b"br")]
        status, data = await call_asgi(app, HASHED_CSS, coded)  # a new key: Django
        assert (status, brotli.decompress(data)) == (200, CSS) and len(started) == 1
        status, data = await call_asgi(app, HASHED_CSS, coded)  # kept since
        assert (status, brotli.decompress(data)) == (200, CSS) and len(started) == 1
        status, _ = await call_asgi(app, "css/missing.css", [])
        assert status == 404 and len(started) == 2  # the site's 404, through Django
    finally:
        request_started.disconnect(count)
