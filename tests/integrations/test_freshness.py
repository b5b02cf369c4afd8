"""Files that change while they are served: what each request sees, in both apps.

By default every request stats the file, so a change shows in the next answer; with
``cache_stat: N`` a route may answer from what it found up to N seconds earlier.
"""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from genro_storage.integrations.asgi import ASGIApp
from genro_storage.integrations.wsgi import WSGIApp

SERVE: dict[str, Any] = {"mount": "site", "cache_max_age": 60}
BASE = "http://test"


@pytest.fixture
def root(tmp_path: Path) -> Path:
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
    assert client.get("/s/b.bin").status_code == 404


def test_a_new_precompressed_sibling_is_used_at_once(kind: str, root: Path) -> None:
    client = Client(kind, root)
    assert "vary" not in client.get("/s/a.css", **{"Accept-Encoding": "gzip"}).headers
    (root / "a.css.gz").write_bytes(gzip.compress(b"a{}\n"))
    response = client.get("/s/a.css", **{"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"


@pytest.mark.parametrize("target", ["/s/../x", "/s/%2e%2e/x", "/s/a%2fb"])
def test_refusals_are_not_remembered_as_answers(kind: str, root: Path, target: str) -> None:
    client = Client(kind, root)
    for _ in range(2):  # the path checks are memoised: the second time must refuse too
        assert client.get(target).status_code == 404
    assert client.get("/s/a.css").status_code == 200


def test_same_stat_same_etag_across_apps(root: Path) -> None:
    tags = {Client(kind, root).get("/s/a.css").headers["etag"] for kind in ("wsgi", "asgi")}
    assert len(tags) == 1
