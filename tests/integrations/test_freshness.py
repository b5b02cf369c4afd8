"""Files that change while they are served: what each request sees, in both apps.

By default a change shows in every answer to a request that starts at least the route's
``freshness_ms`` (1 ms) after the change completed: the tests that change a file wait
that long (``past_the_window``) before the request that must see it; ``freshness_ms: 0``
shows it in the very next answer. With ``cache_stat: N`` a route may answer from what it
found up to N seconds earlier.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from genro_storage.engine.serve.body import read_all
from genro_storage.engine.serve.prepare import Prepared
from genro_storage.engine.serve.statcache import StatCache
from genro_storage.errors import StorageConfigError
from genro_storage.serving.app import Request
from genro_storage.serving.asgi_app import ASGIApp
from genro_storage.serving.watch import FRESHNESS_NS
from genro_storage.serving.wsgi_app import WSGIApp
from tests.integrations.conftest import past_the_window

SERVE: dict[str, Any] = {"mount": "site", "cache_max_age": 60}
BASE = "http://test"


@pytest.fixture
def root(tmp_path: Path, notification: str) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.css").write_bytes(b"a{}\n")
    (site / "b.bin").write_bytes(b"0123456789")
    return site


def _client(kind: str, root: Path, **options: Any) -> httpx.Client | httpx.AsyncClient:
    mounts = [{"name": "site", "type": "local", "path": str(root)}]
    serve = {"/s": {**SERVE, **options}}
    if kind == "wsgi":
        return httpx.Client(transport=httpx.WSGITransport(WSGIApp(mounts, serve)), base_url=BASE)
    return httpx.AsyncClient(transport=httpx.ASGITransport(ASGIApp(mounts, serve)), base_url=BASE)


class Client:
    """One sync interface over the WSGI and the ASGI app (in process)."""

    def __init__(self, kind: str, root: Path, **options: Any) -> None:
        self.kind = kind
        self._client = _client(kind, root, **options)
        self.app: Any = self._client._transport.app  # type: ignore[attr-defined]

    def get(self, path: str, **headers: str) -> httpx.Response:
        if isinstance(self._client, httpx.Client):
            return self._client.get(path, headers=headers)
        return asyncio.run(self._client.get(path, headers=headers))


@pytest.fixture(params=["wsgi", "asgi"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def rewrite(path: Path, data: bytes, mtime: float | None = None) -> None:
    path.write_bytes(data)
    stamp = mtime if mtime is not None else path.stat().st_mtime + 5
    os.utime(path, (stamp, stamp))
    past_the_window()


def test_a_rewritten_file_is_seen_at_once(kind: str, root: Path) -> None:
    client = Client(kind, root)
    first = client.get("/s/a.css")
    rewrite(root / "a.css", b"a{color:red}\n")
    second = client.get("/s/a.css", **{"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and second.content == b"a{color:red}\n"
    assert second.headers["etag"] != first.headers["etag"]
    assert second.headers["last-modified"] != first.headers["last-modified"]


def test_a_removed_file_is_404_at_once(kind: str, root: Path) -> None:
    client = Client(kind, root)
    assert client.get("/s/b.bin").status_code == 200
    (root / "b.bin").unlink()
    past_the_window()
    assert client.get("/s/b.bin").status_code == 404


def test_a_new_precompressed_sibling_is_used_at_once(kind: str, root: Path) -> None:
    client = Client(kind, root)
    assert "vary" not in client.get("/s/a.css", **{"Accept-Encoding": "gzip"}).headers
    (root / "a.css.gz").write_bytes(gzip.compress(b"a{}\n"))
    past_the_window()
    response = client.get("/s/a.css", **{"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"


def test_with_freshness_0_an_edit_shows_in_the_next_answer(kind: str, root: Path) -> None:
    client = Client(kind, root, freshness_ms=0)
    etag = client.get("/s/a.css").headers["etag"]
    for _ in range(3):  # decided, then kept and checked
        assert client.get("/s/a.css", **{"If-None-Match": etag}).status_code == 304
    (root / "a.css").write_bytes(b"a{color:red}\n")  # no wait at all
    response = client.get("/s/a.css", **{"If-None-Match": etag})
    assert response.status_code == 200 and response.content == b"a{color:red}\n"


def test_an_edit_shows_once_the_window_has_passed(kind: str, root: Path) -> None:
    """An answer checked a moment before the edit is not reused by a request that starts
    one window (here 50 ms) after the edit, however soon the check before it was."""
    client = Client(kind, root, freshness_ms=50)
    etag = client.get("/s/a.css").headers["etag"]
    for _ in range(3):
        assert client.get("/s/a.css", **{"If-None-Match": etag}).status_code == 304
    (root / "a.css").write_bytes(b"a{color:red}\n")
    time.sleep(0.051)
    response = client.get("/s/a.css", **{"If-None-Match": etag})
    assert response.status_code == 200 and response.content == b"a{color:red}\n"


def test_within_the_window_a_watched_answer_is_reused(
    kind: str, root: Path, notification: str
) -> None:
    """The window's other side: a request starting less than ``freshness_ms`` after a
    check may get the answer as it was then (inotify is asked once per window); with
    stats (no inotify) every request looks at the file."""
    client = Client(kind, root, freshness_ms=60_000)
    etag = client.get("/s/a.css").headers["etag"]
    for _ in range(3):  # the last one checked the kernel's queue: empty
        assert client.get("/s/a.css", **{"If-None-Match": etag}).status_code == 304
    (root / "a.css").write_bytes(b"a{color:red}\n")
    status = client.get("/s/a.css", **{"If-None-Match": etag}).status_code
    assert status == (304 if notification == "watch" else 200)


def test_the_window_bounds_staleness_under_threads(root: Path, notification: str) -> None:
    """Eight threads ask for a kept 304 while the file is edited: every request that
    started one window after the edit completed gets the new file (a 200)."""
    mounts = [{"name": "site", "type": "local", "path": str(root)}]
    app = WSGIApp(mounts, {"/s": SERVE})
    etag = next(
        v for k, v in app.get_response(Request("GET", "/s/a.css")).plan.headers if k == "ETag"
    )
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/s/a.css", "SCRIPT_NAME": "",
        "QUERY_STRING": "", "HTTP_IF_NONE_MATCH": etag, "wsgi.file_wrapper": None,
    }  # fmt: skip
    stop = threading.Event()
    answers: list[tuple[int, int, str]] = []  # appended by every thread (atomic)

    def run() -> None:
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
            statuses.append(status)

        while not stop.is_set():
            started = time.monotonic_ns()
            for _chunk in app(dict(environ), start_response):
                pass
            answers.append((started, time.monotonic_ns(), statuses.pop()))

    def wait_for(enough: Any) -> None:  # however slow the machine
        deadline = time.monotonic() + 30
        while not enough() and time.monotonic() < deadline:
            time.sleep(0.01)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(answers) >= 50)
    editing = time.monotonic_ns()
    (root / "a.css").write_bytes(b"a{color:red}\n")
    edited = time.monotonic_ns()
    wait_for(lambda: sum(start >= edited + FRESHNESS_NS for start, _, _ in answers) >= 50)
    stop.set()
    for thread in threads:
        thread.join()
    before = [s for start, end, s in answers if end < editing]
    after = [s for start, end, s in answers if start >= edited + FRESHNESS_NS]
    assert before and after, (len(before), len(after))
    assert all(s.startswith("304") for s in before), sorted(set(before))
    assert all(s.startswith("200") for s in after), sorted(set(after))


@pytest.mark.parametrize("value", [-1, "1", True, float("nan"), 60_001, [1]])
def test_freshness_must_be_milliseconds(root: Path, value: Any) -> None:
    mounts = [{"name": "site", "type": "local", "path": str(root)}]
    with pytest.raises(StorageConfigError, match="freshness_ms"):
        WSGIApp(mounts, {"/s": {"mount": "site", "freshness_ms": value}})


@pytest.mark.parametrize(("value", "ns"), [(None, FRESHNESS_NS), (0, 0), (2.5, 2_500_000)])
def test_freshness_is_one_ms_unless_given(root: Path, value: Any, ns: int) -> None:
    mounts = [{"name": "site", "type": "local", "path": str(root)}]
    spec = {"mount": "site"} if value is None else {"mount": "site", "freshness_ms": value}
    assert WSGIApp(mounts, {"/s": spec}).routes[0].freshness_ns == ns


@pytest.mark.parametrize("target", ["/s/../x", "/s/%2e%2e/x", "/s/a%2fb"])
def test_refusals_are_not_remembered_as_answers(kind: str, root: Path, target: str) -> None:
    client = Client(kind, root)
    for _ in range(2):  # the path checks are memoised: the second time must refuse too
        assert client.get(target).status_code == 404
    assert client.get("/s/a.css").status_code == 200


def test_same_stat_same_etag_across_apps(root: Path) -> None:
    tags = {Client(kind, root).get("/s/a.css").headers["etag"] for kind in ("wsgi", "asgi")}
    assert len(tags) == 1


# -- cache_stat ----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cached_client(kind: str, root: Path, ttl: float = 10) -> tuple[Client, Clock]:
    client = Client(kind, root, cache_stat=ttl)
    clock = Clock()
    client.app.routes[0].stat_cache.clock = clock
    return client, clock


def test_cache_stat_keeps_the_stat_for_its_ttl(kind: str, root: Path) -> None:
    client, clock = cached_client(kind, root)
    etag = client.get("/s/a.css").headers["etag"]
    rewrite(root / "a.css", b"a{color:red}\n")
    clock.now += 9
    # within the TTL a 304 is answered from the kept stat: the documented staleness
    assert client.get("/s/a.css", **{"If-None-Match": etag}).status_code == 304
    clock.now += 1
    response = client.get("/s/a.css", **{"If-None-Match": etag})
    assert response.status_code == 200 and response.content == b"a{color:red}\n"


def test_cache_stat_never_sends_a_body_that_does_not_fit_its_headers(kind: str, root: Path) -> None:
    client, _ = cached_client(kind, root)
    first = client.get("/s/a.css")
    rewrite(root / "a.css", b"a{color:blue}\n")  # same name, new size and time
    second = client.get("/s/a.css")
    assert second.content == b"a{color:blue}\n"
    assert second.headers["content-length"] == str(len(second.content))
    assert second.headers["etag"] != first.headers["etag"]
    rewrite(root / "a.css", b"a{}\n", mtime=(root / "a.css").stat().st_mtime + 5)
    third = client.get("/s/a.css", Range="bytes=0-1")  # a range of a changed file too
    assert third.status_code == 206 and third.content == b"a{"
    assert third.headers["etag"] not in (first.headers["etag"], second.headers["etag"])


def test_cache_stat_a_deleted_file_is_404_when_its_body_is_read(kind: str, root: Path) -> None:
    client, _ = cached_client(kind, root)
    etag = client.get("/s/b.bin").headers["etag"]
    (root / "b.bin").unlink()
    past_the_window()
    assert client.get("/s/b.bin", **{"If-None-Match": etag}).status_code == 304  # kept
    assert client.get("/s/b.bin").status_code == 404


def test_cache_stat_keeps_no_misses_and_no_directories(kind: str, root: Path) -> None:
    client, _ = cached_client(kind, root)
    assert client.get("/s/new.txt").status_code == 404
    (root / "new.txt").write_bytes(b"new")
    past_the_window()
    assert client.get("/s/new.txt").content == b"new"
    (root / "d").mkdir()
    past_the_window()
    assert client.get("/s/d").status_code == 404
    assert len(client.app.routes[0].stat_cache) == 1


def test_cache_stat_keeps_the_siblings_too(kind: str, root: Path) -> None:
    client, clock = cached_client(kind, root)
    assert "vary" not in client.get("/s/a.css", **{"Accept-Encoding": "gzip"}).headers
    (root / "a.css.gz").write_bytes(gzip.compress(b"a{}\n"))
    past_the_window()
    assert "vary" not in client.get("/s/a.css", **{"Accept-Encoding": "gzip"}).headers
    clock.now += 10
    response = client.get("/s/a.css", **{"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == b"a{}\n"  # httpx decodes it


@pytest.mark.parametrize("value", [-1, "10", True, float("nan"), float("inf"), [1]])
def test_cache_stat_must_be_seconds(root: Path, value: Any) -> None:
    mounts = [{"name": "site", "type": "local", "path": str(root)}]
    with pytest.raises(StorageConfigError, match="cache_stat"):
        WSGIApp(mounts, {"/s": {"mount": "site", "cache_stat": value}})


@pytest.mark.parametrize(("value", "ttl"), [(None, None), (0, None), (2, 2), (0.5, 0.5)])
def test_cache_stat_is_off_unless_given(root: Path, value: Any, ttl: float | None) -> None:
    mounts = [{"name": "site", "type": "local", "path": str(root)}]
    spec = {"mount": "site"} if value is None else {"mount": "site", "cache_stat": value}
    cache = WSGIApp(mounts, {"/s": spec}).routes[0].stat_cache
    assert (None if cache is None else cache.ttl) == ttl


def test_stat_cache_holds_at_most_max_entries() -> None:
    cache = StatCache(5, max_entries=2)
    for name in "abc":
        cache.put(name, name.upper())
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (None, "B", "C", 2)
    cache.forget("b")
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError):
        StatCache(0)


def test_dangling_and_looping_symlink_siblings_are_no_variants(kind: str, root: Path) -> None:
    (root / "a.css.gz").symlink_to(root / "missing.gz")
    (root / "a.css.br").symlink_to(root / "a.css.br")  # a loop
    response = Client(kind, root).get("/s/a.css", **{"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200 and response.content == b"a{}\n"
    assert "vary" not in response.headers and "content-encoding" not in response.headers


def test_read_all_still_reads_a_prepared_body(root: Path) -> None:
    mounts = [{"name": "site", "type": "local", "path": str(root)}]
    prepared = WSGIApp(mounts, {"/s": SERVE}).get_response(Request("GET", "/s/b.bin"))
    assert prepared.body == b"0123456789"
    assert read_all(Prepared(prepared.plan, prepared.node, prepared.os_path)) == prepared.body
