"""Kept answers (``genro_storage/serving/hot.py``): as fast as a table, as fresh as a stat.

A plain local route keeps each decided answer (and a small settled file's bytes) while
inotify (or one stat per request) shows the file and its ``.br``/``.gz`` siblings
unchanged. These tests change files under real servers (gunicorn, uvicorn, granian) in
the ways a kept answer could miss, wait one freshness window (1 ms, ``past_the_window``)
and check that the next answer shows the change: an edit that keeps size and mtime, a
replacement by rename, a new or removed precompressed sibling, a removal. In process,
they check that answers are really kept (so the tests above exercise them), when they
are not, and that a server adding to the header list cannot change a kept answer.
Granian: the app hands a local file to the server with ``http.response.pathsend``
(recorded by the test app's wrapper).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from genro_storage import StorageManager
from genro_storage.serving import hot
from genro_storage.serving.app import Request
from genro_storage.serving.asgi_app import ASGIApp
from genro_storage.serving.wsgi_app import WSGIApp
from tests._procs import free_port, granian_args, gunicorn_args, server, uvicorn_args
from tests.integrations.conftest import past_the_window

APP = "tests.integrations.apps.kept_site"
SERVERS = ("gunicorn", "uvicorn", "granian")
CASES = ("edit", "rename", "sibling", "remove", "etag")
BIG = 300 * 1024  # above the inline limit: sent from the file (sendfile / pathsend)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file per server and case, created once and left alone for longer than
    :data:`hot.SETTLED`, so their bytes are kept with their answers."""
    root = tmp_path_factory.mktemp("kept")
    for name in SERVERS:
        for case in CASES:
            (root / f"{name}-{case}.css").write_bytes(b"a{color:red}\n" * 8)
        (root / f"{name}-big.bin").write_bytes(os.urandom(BIG))
    time.sleep(hot.SETTLED + 0.2)
    return root


@pytest.fixture(scope="module", params=SERVERS)
def served(request: pytest.FixtureRequest, site: Path) -> Iterator[tuple[str, int]]:
    name = request.param
    port = free_port()
    args = {
        "gunicorn": lambda: gunicorn_args(f"{APP}:wsgi_app", port),
        "uvicorn": lambda: uvicorn_args(f"{APP}:asgi_app", port),
        "granian": lambda: granian_args(f"{APP}:asgi_app", port),
    }[name]()
    with server(args, port, {"GENRO_TEST_KEPT_ROOT": str(site)}):
        yield name, port


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """One GET over a real socket; the body as sent (never decoded)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def same_size_same_mtime(path: Path, data: bytes) -> None:
    """Rewrite ``path`` in place with ``data`` (same length) and put its mtime back."""
    before = path.stat()
    assert len(data) == before.st_size
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    past_the_window()


def test_an_edit_keeping_size_and_mtime_is_seen_at_once(
    served: tuple[str, int], site: Path
) -> None:
    name, port = served
    url, file = f"/s/{name}-edit.css", site / f"{name}-edit.css"
    first = get(port, url)
    assert get(port, url) == first  # the kept answer, bytes included
    same_size_same_mtime(file, b"b{color:red}\n" * 8)
    status, headers, body = get(port, url)
    assert (status, body) == (200, b"b{color:red}\n" * 8)
    assert headers["etag"] != first[1]["etag"]
    assert get(port, url, If_None_Match=first[1]["etag"])[0] == 200


def test_a_replacement_by_rename_is_seen_at_once(served: tuple[str, int], site: Path) -> None:
    name, port = served
    url, file = f"/s/{name}-rename.css", site / f"{name}-rename.css"
    get(port, url)
    get(port, url)
    fresh = site / f".{name}-rename.tmp"
    fresh.write_bytes(b"c{color:red}\n" * 8)
    mtime = file.stat().st_mtime_ns
    os.utime(fresh, ns=(mtime, mtime))
    os.replace(fresh, file)  # an atomic deploy: same size, same mtime, another inode
    past_the_window()
    assert get(port, url)[2] == b"c{color:red}\n" * 8


def test_siblings_that_come_and_go_are_seen_at_once(served: tuple[str, int], site: Path) -> None:
    name, port = served
    url, file = f"/s/{name}-sibling.css", site / f"{name}-sibling.css"
    plain = get(port, url, Accept_Encoding="br, gzip")
    assert "content-encoding" not in plain[1]
    Path(f"{file}.br").write_bytes(b"pretend-brotli")
    past_the_window()
    status, headers, body = get(port, url, Accept_Encoding="br, gzip")
    assert (status, headers.get("content-encoding"), body) == (200, "br", b"pretend-brotli")
    assert headers["vary"] == "Accept-Encoding"
    assert get(port, url)[2] == file.read_bytes()  # no Accept-Encoding: the plain file
    same_size_same_mtime(Path(f"{file}.br"), b"PRETEND-BROTLI")  # the directory stays
    status, again, body = get(port, url, Accept_Encoding="br, gzip")
    assert (status, again.get("content-encoding"), body) == (200, "br", b"PRETEND-BROTLI")
    assert again["etag"] != headers["etag"]
    Path(f"{file}.br").unlink()
    past_the_window()
    status, headers, body = get(port, url, Accept_Encoding="br, gzip")
    assert (status, headers.get("content-encoding"), body) == (200, None, file.read_bytes())


def test_a_removed_file_is_404_at_once(served: tuple[str, int], site: Path) -> None:
    name, port = served
    url, file = f"/s/{name}-remove.css", site / f"{name}-remove.css"
    etag = get(port, url)[1]["etag"]
    assert get(port, url, If_None_Match=etag)[0] == 304
    data = file.read_bytes()
    file.unlink()
    past_the_window()
    assert get(port, url)[0] == 404
    assert get(port, url, If_None_Match=etag)[0] == 404
    file.write_bytes(data[::-1])
    past_the_window()
    assert get(port, url)[2] == data[::-1]


def test_304_and_ranges_of_one_file_are_kept_apart(served: tuple[str, int], site: Path) -> None:
    name, port = served
    url = f"/s/{name}-etag.css"
    _, headers, body = get(port, url)
    etag = headers["etag"]
    for _ in range(2):
        assert get(port, url, If_None_Match=etag)[:1] == (304,)
        assert get(port, url, Range="bytes=0-3")[::2] == (206, body[:4])
        assert get(port, url, If_None_Match='"other"')[::2] == (200, body)
        assert get(port, url)[::2] == (200, body)


def test_a_large_local_file_leaves_the_app_as_a_path_under_granian(
    served: tuple[str, int], site: Path
) -> None:
    """Granian offers ``http.response.pathsend`` and the app uses it for a whole local
    file; uvicorn offers nothing and gets the bytes in ``http.response.body`` chunks."""
    name, port = served
    if name == "gunicorn":
        pytest.skip("WSGI: no ASGI messages to record")
    url = f"/s/{name}-big.bin"
    status, _, body = get(port, url)
    assert status == 200 and body == (site / f"{name}-big.bin").read_bytes()
    note = json.loads(get(port, f"/_sent{url}")[2])
    if name == "granian":
        assert note == {
            "offered": True,
            "last": "http.response.pathsend",
            "path": str(site / f"{name}-big.bin"),
        }
    else:
        assert note == {"offered": False, "last": "http.response.body", "path": None}


# ---------------------------------------------------------------------- in process


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file counts as settled: its bytes are kept at once."""
    monkeypatch.setattr(hot, "SETTLED", 0.0)


@pytest.fixture
def root(tmp_path: Path, notification: str) -> Path:
    (tmp_path / "a.css").write_bytes(b"a{}\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.txt").write_bytes(b"bee\n")
    return tmp_path


def mounts(root: Path) -> list[dict[str, str]]:
    return [{"name": "site", "type": "local", "path": str(root)}]


def call_wsgi(app: WSGIApp, path: str, **environ: Any) -> tuple[str, list[Any], bytes]:
    seen: list[Any] = []

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> None:
        seen.append((status, headers))
        headers.append(("X-Added-By-Server", "1"))  # as wsgiref adds Connection/Date

    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", **environ}
    body = b"".join(app(env, start_response))
    return seen[0][0], seen[0][1], body


def test_answers_are_kept_and_reused(settled: None, root: Path) -> None:
    app = WSGIApp(mounts(root), {"/s": "site"})
    assert app.hot is not None
    first = call_wsgi(app, "/s/a.css")
    assert "/s/a.css" in app.hot and len(app.hot) == 1
    second = call_wsgi(app, "/s/a.css")
    assert second == first and first[2] == b"a{}\n"
    # the server's addition went into a copy each time, never into the kept answer
    assert [h for h in second[1] if h[0] == "X-Added-By-Server"] == [("X-Added-By-Server", "1")]
    (root / "a.css").write_bytes(b"b{}\n")
    past_the_window()
    assert call_wsgi(app, "/s/a.css")[2] == b"b{}\n"


def test_a_file_changed_a_moment_ago_keeps_its_answer_but_not_its_bytes(root: Path) -> None:
    app = WSGIApp(mounts(root), {"/s": "site"})
    assert app.hot is not None
    call_wsgi(app, "/s/a.css")
    assert "/s/a.css" in app.hot
    (root / "a.css").write_bytes(b"x{}\n")  # same size; mtime may stay within one tick
    past_the_window()
    assert call_wsgi(app, "/s/a.css")[2] == b"x{}\n"


@pytest.mark.parametrize(
    "options",
    [{"index": True}, {"delivery": "x-sendfile"}, {"secret": "k" * 32}],
    ids=["index", "x-sendfile", "private"],
)
def test_routes_that_decide_more_keep_nothing(root: Path, options: dict[str, Any]) -> None:
    app = WSGIApp(mounts(root), {"/s": {"mount": "site", **options}})
    call_wsgi(app, "/s/a.css")
    assert app.hot is not None and len(app.hot) == 0


def test_an_app_overriding_a_decision_hook_keeps_nothing(root: Path) -> None:
    class Guarded(WSGIApp):
        def check_access(self, route: Any, request: Request) -> bool:
            return request.headers.get("x-pass") == "yes"

    app = Guarded(mounts(root), {"/s": "site"})
    assert app.hot is None
    assert call_wsgi(app, "/s/a.css")[0].startswith("403")
    assert call_wsgi(app, "/s/a.css", HTTP_X_PASS="yes")[0].startswith("200")
    assert call_wsgi(app, "/s/a.css")[0].startswith("403")


def test_other_spellings_of_a_kept_path_are_decided_as_before(settled: None, root: Path) -> None:
    app = WSGIApp(mounts(root), {"/s": "site"})
    call_wsgi(app, "/s/d/b.txt")
    assert call_wsgi(app, "/s/d/b.txt", RAW_URI="/s/d%2fb.txt")[0].startswith("404")
    assert call_wsgi(app, "/s//d/b.txt")[2] == b"bee\n"
    assert call_wsgi(app, "/s/d/./b.txt")[0].startswith("404")
    assert call_wsgi(app, "/s/d/b.txt", REQUEST_METHOD="POST")[0].startswith("405")
    assert call_wsgi(app, "/s/d/b.txt", REQUEST_METHOD="HEAD")[2] == b""
    assert app.hot is not None and len(app.hot) == 1


def test_a_mount_configured_again_is_served_from_its_new_root(
    settled: None, root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("other")
    (other / "a.css").write_bytes(b"other\n")
    storage = StorageManager(env=False)
    storage.configure(mounts(root))
    app = WSGIApp(storage, {"/s": "site"})
    assert call_wsgi(app, "/s/a.css")[2] == b"a{}\n"
    storage.configure([{"name": "site", "type": "local", "path": str(other)}])
    assert call_wsgi(app, "/s/a.css")[2] == b"other\n"


def test_kept_files_are_bounded(settled: None, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hot, "_MAX_FILES", 2)
    monkeypatch.setattr(hot, "_MAX_KEYS", 2)
    for name in ("x", "y", "z"):
        (root / f"{name}.txt").write_bytes(name.encode())
    app = WSGIApp(mounts(root), {"/s": "site"})
    assert app.hot is not None
    for name in ("x", "y", "z"):
        assert call_wsgi(app, f"/s/{name}.txt")[2] == name.encode()
        assert len(app.hot) <= 2
    for tag in ('"1"', '"2"', '"3"', '"4"'):  # more keys than kept: still answered
        assert call_wsgi(app, "/s/x.txt", HTTP_IF_NONE_MATCH=tag)[2] == b"x"


def call_asgi(app: ASGIApp, path: str, headers: list[Any] | None = None, **scope: Any) -> Any:
    """One ASGI request in process: (status, header pairs, body)."""
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    base = {"type": "http", "method": "GET", "path": path, "query_string": b"", "root_path": ""}
    asyncio.run(app({**base, "headers": headers or [], **scope}, receive, send))
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], sent[0]["headers"], body


def test_other_asgi_spellings_of_a_kept_path_are_decided_as_before(
    settled: None, root: Path
) -> None:
    """The ASGI twin of the WSGI test above (HotFiles.asgi_answer): what the kept
    answers do not take goes the usual way, with the usual answer."""
    app = ASGIApp(mounts(root), {"/s": "site"})
    assert call_asgi(app, "/s/d/b.txt")[2] == b"bee\n"
    assert app.hot is not None and "/s/d/b.txt" in app.hot
    assert call_asgi(app, "/s/d/b.txt", raw_path=b"/s/d%2fb.txt")[0] == 404
    assert call_asgi(app, "/s/d/b.txt", raw_path=b"/s/d\\b.txt")[0] == 404
    assert call_asgi(app, "/s/d/b.txt", method="POST")[0] == 405
    assert call_asgi(app, "/s/d/b.txt", method="HEAD")[::2] == (200, b"")
    mounted = call_asgi(app, "/files/s/d/b.txt", root_path="/files")  # Starlette's Mount
    assert mounted[::2] == (200, b"bee\n")
    etag = dict(call_asgi(app, "/s/d/b.txt")[1])[b"etag"]
    for name in (b"if-none-match", b"If-None-Match"):  # any case: the same key
        assert call_asgi(app, "/s/d/b.txt", [(name, etag)])[0] == 304
    repeated = [(b"if-none-match", b'"x"'), (b"if-none-match", etag)]  # joined: a list
    assert call_asgi(app, "/s/d/b.txt", repeated)[0] == 304
    assert len(app.hot) == 1


def test_asgi_kept_answers_send_fresh_header_lists(settled: None, root: Path) -> None:
    app = ASGIApp(mounts(root), {"/s": "site"})
    starts: list[Any] = []

    async def run() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            if message["type"] == "http.response.start":
                starts.append(message["headers"])
                message["headers"].append((b"x-added-by-middleware", b"1"))

        scope = {"type": "http", "method": "GET", "path": "/s/a.css", "headers": []}
        for _ in range(3):
            await app({**scope, "query_string": b"", "root_path": ""}, receive, send)

    asyncio.run(run())
    assert app.hot is not None and "/s/a.css" in app.hot
    assert all(h.count((b"x-added-by-middleware", b"1")) == 1 for h in starts)
    assert starts[0] == starts[2]


def test_asgi_app_answers_a_kept_file_over_httpx(settled: None, root: Path) -> None:
    app = ASGIApp(mounts(root), {"/s": "site"})

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [await client.get("/s/a.css") for _ in range(2)]

    first, second = asyncio.run(run())
    assert first.content == second.content == b"a{}\n"
    assert first.headers["etag"] == second.headers["etag"]


def test_bytes_are_kept_once_the_file_has_settled(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hot, "SETTLED", 0.3)
    (root / "new.css").write_bytes(b"new{}\n")
    app = WSGIApp(mounts(root), {"/s": "site"})
    assert app.hot is not None
    assert call_wsgi(app, "/s/new.css")[2] == b"new{}\n"
    [kept] = app.hot.entries["/s/new.css"].answers.values()
    assert kept.body is None  # written a moment ago: read from the file each time
    time.sleep(0.4)
    assert call_wsgi(app, "/s/new.css")[2] == b"new{}\n"
    [kept] = app.hot.entries["/s/new.css"].answers.values()
    assert kept.body == b"new{}\n"
    (root / "new.css").write_bytes(b"old{}\n")
    past_the_window()
    assert call_wsgi(app, "/s/new.css")[2] == b"old{}\n"


def test_cache_stat_trusts_kept_answers_for_its_ttl_and_clear_forgets(
    settled: None, root: Path
) -> None:
    app = WSGIApp(mounts(root), {"/s": {"mount": "site", "cache_stat": 60}})
    assert app.hot is not None
    first = call_wsgi(app, "/s/a.css")
    assert "/s/a.css" in app.hot
    (root / "a.css").write_bytes(b"changed{}\n")
    past_the_window()
    assert call_wsgi(app, "/s/a.css") == first  # within the TTL: the kept answer
    stat_cache = app.routes[0].stat_cache
    assert stat_cache is not None
    stat_cache.clear()
    assert call_wsgi(app, "/s/a.css")[2] == b"changed{}\n"


def test_cache_stat_never_reads_a_body_that_does_not_fit_kept_headers(root: Path) -> None:
    # not settled: the bytes are not kept, so each answer reads the file, after a stat
    (root / "c.css").write_bytes(b"c{}\n")
    app = WSGIApp(mounts(root), {"/s": {"mount": "site", "cache_stat": 60}})
    assert call_wsgi(app, "/s/c.css")[2] == b"c{}\n"
    (root / "c.css").write_bytes(b"longer{}\n")
    past_the_window()
    _, headers, body = call_wsgi(app, "/s/c.css")
    assert body == b"longer{}\n" and ("Content-Length", str(len(body))) in headers


def test_a_sibling_edited_in_place_is_seen_with_a_settled_directory(
    settled: None, root: Path
) -> None:
    (root / "p.css").write_bytes(b"p{}\n")
    (root / "p.css.gz").write_bytes(b"gzip-one")
    app = WSGIApp(mounts(root), {"/s": "site"})
    first = call_wsgi(app, "/s/p.css", HTTP_ACCEPT_ENCODING="gzip")
    assert first[2] == b"gzip-one"
    assert app.hot is not None and app.hot.entries["/s/p.css"].folder is not None
    assert call_wsgi(app, "/s/p.css", HTTP_ACCEPT_ENCODING="gzip") == first  # kept bytes
    time.sleep(0.05)  # a later tick of the file system's clock (SETTLED is 0 here)
    same_size_same_mtime(root / "p.css.gz", b"gzip-two")
    assert call_wsgi(app, "/s/p.css", HTTP_ACCEPT_ENCODING="gzip")[2] == b"gzip-two"
    time.sleep(0.05)
    (root / "unrelated.txt").write_bytes(b"")  # the directory changes, not the siblings
    past_the_window()
    assert call_wsgi(app, "/s/p.css", HTTP_ACCEPT_ENCODING="gzip")[2] == b"gzip-two"
    (root / "p.css.gz").unlink()
    past_the_window()
    assert call_wsgi(app, "/s/p.css", HTTP_ACCEPT_ENCODING="gzip")[2] == b"p{}\n"


def test_header_names_in_any_case_reach_key_and_decision_alike(settled: None, root: Path) -> None:
    """A caller's plain dict with mixed-case names: the kept answer of one request is
    never sent to another whose headers differ only there."""
    from genro_storage.serving.app import FileServer

    server = FileServer(mounts(root), {"/s": "site"})
    etag = server.get_response(Request("GET", "/s/a.css")).plan.header("ETag")
    assert etag is not None
    conditional = server.get_response(Request("GET", "/s/a.css", headers={"If-None-Match": etag}))
    assert conditional.plan.status == 304
    assert server.get_response(Request("GET", "/s/a.css")).plan.status == 200
    ranged = server.get_response(Request("GET", "/s/a.css", headers={"RANGE": "bytes=0-1"}))
    assert ranged.plan.status == 206 and ranged.body == b"a{"


def test_requests_with_long_header_values_are_answered_but_not_kept(
    settled: None, root: Path
) -> None:
    app = WSGIApp(mounts(root), {"/s": "site"})
    call_wsgi(app, "/s/a.css")
    long_tag = '"' + "x" * 600 + '"'
    assert call_wsgi(app, "/s/a.css", HTTP_IF_NONE_MATCH=long_tag)[2] == b"a{}\n"
    assert app.hot is not None
    assert len(app.hot.entries["/s/a.css"].answers) == 1


def test_gunicorn_workers_forked_from_a_warmed_app_see_edits(tmp_path: Path) -> None:
    """``gunicorn --preload`` with two sync workers: the master answered (kept answers, an
    ``inotify`` instance) before forking; each worker drops what it inherited. Each worker
    takes one of two connections opened before the edit (a sync worker serves one at a
    time), so both answer after it: had they shared the master's instance, the first to
    read the notification would leave the other answering the old file."""
    (tmp_path / "warm.css").write_bytes(b"a{color:red}\n" * 8)
    time.sleep(hot.SETTLED + 0.2)  # settled: the master keeps its bytes too
    port = free_port()
    args = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
        "--worker-class", "sync", "--preload", "--log-level", "warning",
        f"{APP}:warmed_wsgi_app()",
    ]  # fmt: skip
    with server(args, port, {"GENRO_TEST_KEPT_ROOT": str(tmp_path)}) as master:
        children = Path(f"/proc/{master}/task/{master}/children")
        deadline = time.monotonic() + 30
        while len(children.read_text().split()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # both workers waiting in accept(): each takes one connection
        first = socket.create_connection(("127.0.0.1", port), timeout=30)
        second = socket.create_connection(("127.0.0.1", port), timeout=30)
        same_size_same_mtime(tmp_path / "warm.css", b"b{color:red}\n" * 8)
        for conn in (first, second):
            with conn:
                conn.sendall(b"GET /s/warm.css HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := conn.recv(65536):
                    answer += chunk
            assert answer.startswith(b"HTTP/1.1 200")
            assert answer.split(b"\r\n\r\n", 1)[1] == b"b{color:red}\n" * 8
