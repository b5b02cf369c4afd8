"""StaticFilesMiddleware's precomputed answers (``answers.py``) on a local mount, in process.

Each answer taken from the table is compared with what the serve core decides for the
same request (the path every other request takes): same status, same headers, same
bytes. Then freshness: an edited, replaced or removed file, with ``autorefresh`` (a stat
every request) and within a ``cache_stat`` TTL (the ``fstat`` check when a file is
opened). Under WSGI (``RequestFactory``) and ASGI (``AsyncRequestFactory``).
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import brotli
import pytest

pytest.importorskip("django")

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotFound
from django.test import AsyncRequestFactory, RequestFactory

from genro_storage.integrations.django.answers import AnswerTable, StaticFileResponse
from genro_storage.integrations.django.middleware import StaticFilesMiddleware

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
        (root / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
        (root / f"{name}.br").write_bytes(brotli.compress(data))
    (root / "img").mkdir()
    (root / "img" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
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


def middleware(asgi: bool = False) -> StaticFilesMiddleware:
    made = StaticFilesMiddleware(afallthrough if asgi else fallthrough)
    assert isinstance(made.table, AnswerTable)
    return made


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
    assert name in mw.table.entries  # type: ignore[union-attr]  # answered from the table
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


def test_304_needs_no_file(root: Path) -> None:
    """Revalidations are answered from memory: even a file removed since (within the
    TTL) gets its 304, while a GET finds it gone and falls through to the site."""
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
    assert name not in mw.table.entries  # type: ignore[union-attr]
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
    assert "css/leak.css" not in mw.table.entries  # type: ignore[union-attr]


def test_edits_show_at_once_with_autorefresh(root: Path, settings: Any) -> None:
    settings.GENRO_STORAGE_STATIC = {"autorefresh": True}
    mw = middleware()
    first = get(mw, "css/site.css")
    old_etag = first["ETag"]
    assert body(first) == CSS
    edited = CSS.replace(b"red", b"tan")  # same size
    (root / "css" / "site.css").write_bytes(edited)
    os.unlink(root / "css" / "site.css.br")
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
    assert body(get(mw, "css/new.css")) == b"a{}"


def test_autorefresh_follows_debug(root: Path, settings: Any) -> None:
    settings.GENRO_STORAGE_STATIC = {}
    settings.DEBUG = True
    assert middleware().table.ttl == 0  # type: ignore[union-attr]
    settings.DEBUG = False
    assert middleware().table.ttl == 5  # type: ignore[union-attr]


def test_a_replaced_file_is_never_sent_with_old_headers(root: Path, settings: Any) -> None:
    """Within the TTL the headers are kept, but the file opened for a 200 is checked
    against the stat they were built from: a replacement is sent with its own."""
    settings.GENRO_STORAGE_STATIC = {"cache_stat": 3600}
    mw = middleware()
    mw.table.wall = lambda: 0.0  # type: ignore[union-attr]  # nothing settled: never kept
    assert body(get(mw, "css/site.css")) == CSS
    bigger = CSS * 3
    staged = root / "css" / "staged"
    staged.write_bytes(bigger)
    os.replace(staged, root / "css" / "site.css")
    response = get(mw, "css/site.css")
    assert response["Content-Length"] == str(len(bigger))
    assert body(response) == bigger


def settle(mw: StaticFilesMiddleware) -> AnswerTable:
    """Judge every file's last change long past (its bytes may be kept)."""
    table = mw.table
    assert table is not None
    table.wall = lambda: time.time() + 3600
    return table


def test_small_settled_files_are_kept_in_memory(root: Path) -> None:
    mw = middleware()
    table = settle(mw)
    first = get(mw, "css/site.css", accept_encoding="identity")
    assert not first.streaming and first.content == CSS  # from memory: no file opened
    assert int(first["Content-Length"]) == len(CSS)
    assert table.kept_bytes == len(CSS) + sum(
        (root / f"css/site.css{s}").stat().st_size for s in (".br", ".gz")
    )
    coded = get(mw, "css/site.css", accept_encoding="br")
    assert not coded.streaming and brotli.decompress(coded.content) == CSS
    large = get(mw, HASHED_JS)  # over 64 KiB: sent from the file
    assert isinstance(large, StaticFileResponse) and body(large) == JS


def test_files_changed_just_now_are_not_kept(root: Path) -> None:
    """A file whose ctime is under 2 s old could change again without its stat moving:
    its bytes are read from the file on each request until it settles."""
    mw = middleware()
    table = mw.table
    assert table is not None
    table.wall = lambda: (root / "css" / "site.css").stat().st_ctime + 1
    response = get(mw, "css/site.css")
    assert isinstance(response, StaticFileResponse) and body(response) == CSS
    assert table.kept_bytes == 0 and table.entries["css/site.css"].unsettled
    settle(mw)
    table.entries["css/site.css"] = replace(table.entries["css/site.css"], expires=0)
    kept = get(mw, "css/site.css")
    assert not kept.streaming and kept.content == CSS  # settled since: kept now
    assert not table.entries["css/site.css"].unsettled


def test_kept_bytes_follow_edits_with_autorefresh(root: Path, settings: Any) -> None:
    settings.GENRO_STORAGE_STATIC = {"autorefresh": True}
    mw = middleware()
    settle(mw)
    assert get(mw, "css/site.css").content == CSS
    edited = CSS.replace(b"red", b"tan")  # same size
    (root / "css" / "site.css").write_bytes(edited)
    assert get(mw, "css/site.css").content == edited


def test_kept_bytes_within_the_ttl_keep_their_headers(root: Path, settings: Any) -> None:
    """Within ``cache_stat`` a kept file answers as it was when read: old bytes with the
    old length and ETag, never a mix; once the TTL ends, the new file."""
    settings.GENRO_STORAGE_STATIC = {"cache_stat": 10}
    mw = middleware()
    table = settle(mw)
    now = [1000.0]
    table.clock = lambda: now[0]
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
    table.wall = lambda: time.time() + 3600
    fresh = get(mw, "css/site.css")
    assert fresh.content == bigger and fresh["Content-Length"] == str(len(bigger))


def test_the_ttl_bounds_how_long_a_stat_is_trusted(root: Path, settings: Any) -> None:
    settings.GENRO_STORAGE_STATIC = {"cache_stat": 10}
    mw = middleware()
    table = mw.table
    assert table is not None
    now = [1000.0]
    table.clock = lambda: now[0]
    table.entries.clear()
    etag = etag_of(mw, "css/site.css")
    (root / "css" / "site.css").write_bytes(CSS.replace(b"red", b"tan"))
    now[0] += 5  # within the TTL: still the 304 it answered before
    assert get(mw, "css/site.css", if_none_match=etag).status_code == 304
    now[0] += 6  # past it: stat'ed again, the edit shows
    fresh = get(mw, "css/site.css", if_none_match=etag)
    assert fresh.status_code == 200 and body(fresh) == CSS.replace(b"red", b"tan")


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "headers"), CASES)
async def test_asgi_answers_match_the_wsgi_ones(
    root: Path, name: str, headers: dict[str, str]
) -> None:
    wsgi = get(middleware(), name, **headers)
    expected = header_list(wsgi), body(wsgi)
    mw = middleware(asgi=True)
    response = await aget(mw, name, **headers)
    assert name in mw.table.entries  # type: ignore[union-attr]
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
