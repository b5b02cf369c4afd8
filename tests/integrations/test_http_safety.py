"""Hostile requests against every HTTP surface, over real sockets.

Seven servers serve the same site (:mod:`tests.integrations.apps.hostile_site`): the WSGI
app under gunicorn, the ASGI app under uvicorn, Django under gunicorn (WSGI) and uvicorn
(ASGI), Flask under gunicorn, a Starlette app and the bare Starlette router under uvicorn.
Requests go out on raw sockets exactly as written (no client-side normalisation of
``//``, ``/./`` or percent escapes).

Each surface must answer every hostile target (the shared corpus
:mod:`tests.hostile_paths`, then hypothesis) without a 5xx and without a byte of a canary:
the files above the public mount and the private routes' files.
"""

from __future__ import annotations

import contextlib
import email
import gzip
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from genro_storage.http.signing import sign_path
from tests import _http, hostile_paths
from tests._procs import ROOT, free_port, stop, wait_for_port
from tests.integrations.apps.hostile_site import EXTRA, HELLO, SECRET, SVG, make_site
from tests.integrations.conftest import past_the_window

pytest.importorskip("django")
pytest.importorskip("flask")
pytest.importorskip("starlette")

_SITE = "tests.integrations.apps.hostile_site"
_DJANGO = "tests.integrations.apps.hostile_django"


@dataclass(frozen=True)
class Surface:
    """One server: where its public and private files are, which canaries it must hide."""

    name: str
    server: str  # gunicorn | uvicorn
    app: str
    public: str  # URL prefix of the public mount
    private: tuple[str, ...]  # URL prefixes of private routes
    apps: bool  # the WSGI/ASGI apps: /files/privdir is private, nested in /files

    def argv(self, port: int) -> list[str]:
        if self.server == "gunicorn":
            return [
                sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                "--workers", "1", "--worker-class", "gthread", "--threads", "4",
                "--log-level", "warning", self.app,
            ]  # fmt: skip
        factory = ["--factory"] if self.app.endswith("()") else []
        return [
            sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-access-log", *factory, self.app.removesuffix("()"),
        ]  # fmt: skip


_APP_PRIVATE = ("/files/privdir", "/private")
_PRIVATE = ("/files/private",)
SURFACES = [
    Surface("wsgi-app", "gunicorn", f"{_SITE}:wsgi_app()", "/files", _APP_PRIVATE, True),
    Surface("asgi-app", "uvicorn", f"{_SITE}:asgi_app()", "/files", _APP_PRIVATE, True),
    Surface("django-wsgi", "gunicorn", f"{_DJANGO}:wsgi", "/files/public", _PRIVATE, False),
    Surface("django-asgi", "uvicorn", f"{_DJANGO}:asgi", "/files/public", _PRIVATE, False),
    Surface("flask", "gunicorn", f"{_SITE}:flask_app()", "/files/public", _PRIVATE, False),
    Surface("starlette", "uvicorn", f"{_SITE}:starlette_app()", "/files/public", _PRIVATE, False),
    Surface("starlette-router", "uvicorn", f"{_SITE}:starlette_router()", "/public", ("/private",), False),  # noqa: E501
]  # fmt: skip
APPS = [s for s in SURFACES if s.apps]


@dataclass
class Running:
    surface: Surface
    port: int
    secrets: tuple[bytes, ...]  # canary contents this surface must never send

    def get(
        self, target: str, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Send ``method target`` byte for byte; the status and the whole response."""
        line = f"{method} ".encode() + target.encode("utf-8", "surrogateescape")
        fields = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()).encode()
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as sock:
            sock.sendall(line + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + fields + b"\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        return int(data.split(b" ", 2)[1]), data

    def check(self, target: str, method: str = "GET") -> int:
        """``get`` and assert: no 5xx, no canary; returns the status."""
        status, data = self.get(target, method)
        assert status < 500, f"{self.surface.name}: {status} for {target!r}\n{data[:500]!r}"
        for secret in self.secrets:
            assert secret not in data, f"{self.surface.name} leaked a canary for {target!r}"
        return status


COUNTS = {"requests": 0, "surfaces": 0, "escapes": 0, "5xx": 0}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    base = tmp_path_factory.mktemp("hostile")
    return base, make_site(base)


@pytest.fixture(scope="module")
def running(site: tuple[Path, dict[str, bytes]]) -> Iterator[dict[str, Running]]:
    """Every surface's server, started together, stopped by PID at the end."""
    base, found = site
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(PYTHONPATH=str(ROOT), GENRO_TEST_HOSTILE_BASE=str(base))
    procs: list[subprocess.Popen[bytes]] = []
    result = {}
    try:
        with open(base / "servers.log", "wb") as log:
            for surface in SURFACES:
                port = free_port()
                proc = subprocess.Popen(
                    surface.argv(port), cwd=ROOT, env=env, stdout=log, stderr=log
                )
                procs.append(proc)
                hidden = {k: v for k, v in found.items() if surface.apps or "privdir" not in k}
                result[surface.name] = Running(surface, port, tuple(hidden.values()))
        for proc, run in zip(procs, result.values()):
            wait_for_port(run.port, proc)
        yield result
    finally:
        for proc in procs:
            stop(proc)


def signed(prefix: str, name: str) -> str:
    path = f"{prefix}/{name}"
    return f"{path}?{sign_path(path, SECRET, int(time.time()) + 3600)}"


# ---------------------------------------------------------------- the site works
@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_public_file_is_served_and_private_needs_a_signature(
    running: dict[str, Running], name: str
) -> None:
    run = running[name]
    status, data = run.get(f"{run.surface.public}/hello.txt")
    assert status == 200 and data.endswith(HELLO)
    for prefix in run.surface.private:
        assert run.check(f"{prefix}/doc.txt") in (403, 404)


def test_signed_private_files_are_served(running: dict[str, Running]) -> None:
    run = running["wsgi-app"]
    status, data = run.get(signed("/files/privdir", "doc.txt"))
    assert status == 200 and b"CANARY-site/public/privdir/doc.txt" in data


# ---------------------------------------------------------------- 1. route lookup
NESTED = [
    "/files//privdir/doc.txt",
    "/files///privdir/doc.txt",
    "/files/./privdir/doc.txt",
    "//files/privdir/doc.txt",
    "/files//privdir//doc.txt",
    "/files/.//privdir/doc.txt",
    "/files/privdir/./doc.txt",
    "/files//privdir/",
    "/files//privdir",
]


@pytest.mark.parametrize("target", NESTED)
@pytest.mark.parametrize("name", [s.name for s in APPS])
def test_nested_private_route_is_found_whatever_the_spelling(
    running: dict[str, Running], name: str, target: str
) -> None:
    assert running[name].check(target) in (403, 404)


# ---------------------------------------------------------------- 2. long paths
LONG = {
    "name_over_name_max": "a" * 256,
    "path_near_path_max": "/".join(["b" * 254] * 16),  # fits MAX_PATH, not the root + it
    "path_over_path_max": "/".join(["c" * 200] * 25),
    "many_short_segments": "x/" * 2100,
}


@pytest.mark.parametrize("kind", LONG)
@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_overlong_path_is_404_or_414(running: dict[str, Running], name: str, kind: str) -> None:
    run = running[name]
    assert run.check(f"{run.surface.public}/{LONG[kind]}") in (404, 414)


@pytest.mark.parametrize("suffix", ["loop", "loop/x.txt", "loop/", "up/loop"])
@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_symlink_loop_is_404(running: dict[str, Running], name: str, suffix: str) -> None:
    run = running[name]
    assert run.check(f"{run.surface.public}/{suffix}") == 404


@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_listing_skips_a_symlink_loop(running: dict[str, Running], name: str) -> None:
    run = running[name]
    status, data = run.get(f"{run.surface.public}/dir/?format=json")
    assert status == 200 and b"nested.txt" in data and b'"loop"' not in data


# ---------------------------------------------------------------- 3. encoded separators
ENCODED = [
    "privdir%2fdoc.txt",
    "privdir%2Fdoc.txt",
    "%2e%2e/secret.txt",
    "up%2fsecret.txt",
    "hello%2etxt",
    "%2fhello.txt",
    "privdir%5cdoc.txt",
]


@pytest.mark.parametrize("suffix", ENCODED)
@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_encoded_separator_or_dot_is_404(
    running: dict[str, Running], name: str, suffix: str
) -> None:
    run = running[name]
    assert run.check(f"{run.surface.public}/{suffix}") == 404


@pytest.mark.parametrize("method", ["get", "Get", "head", "POST", "DELETE", "PUT"])
@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_methods_other_than_get_and_head_are_405(
    running: dict[str, Running], name: str, method: str
) -> None:
    run = running[name]
    # gunicorn's parser refuses a method that is not upper-case itself (400)
    refused = {405, 400} if run.surface.server == "gunicorn" and not method.isupper() else {405}
    assert run.check(f"{run.surface.public}/hello.txt", method) in refused


# ---------------------------------------------------------------- 6. the fuzz suite
def _targets(surface: Surface, suffix: str) -> list[str]:
    """Where a hostile suffix goes: after the public prefix (with and without its
    slash), after each private prefix, and at the root."""
    public = surface.public
    return [
        f"{public}/{suffix}",
        f"{public}{suffix}",
        *(f"{p}/{suffix}" for p in surface.private),
        f"/{suffix}",
    ]


@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_hostile_corpus_leaks_nothing_and_never_fails(
    running: dict[str, Running], name: str
) -> None:
    run = running[name]
    for suffix in hostile_paths.URL_PATHS:
        for target in _targets(run.surface, suffix):
            run.check(target)
            COUNTS["requests"] += 1
    COUNTS["surfaces"] += 1


@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_hypothesis_hostile_paths_leak_nothing(running: dict[str, Running], name: str) -> None:
    run = running[name]

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(suffix=hostile_paths.hostile_url_path(), decoded=hostile_paths.hostile_path())
    def probe(suffix: str, decoded: str) -> None:
        for target in (f"{run.surface.public}/{suffix}", f"{run.surface.private[0]}/{suffix}"):
            run.check(target)
        quoted = quote(decoded, safe="/", errors="surrogateescape")
        run.check(f"{run.surface.public}/{quoted}")
        COUNTS["requests"] += 3

    probe()


def test_fuzz_counts_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    """Printed with ``-s``: requests, surfaces, escapes and 5xx of this module's run."""
    with capsys.disabled(), contextlib.suppress(OSError):
        print(f"\nHTTP fuzz: {COUNTS}")


# ---------------------------------------------------------------- 5. HTTP correctness
def fetch(run: Running, name: str, prefix: str | None = None, **headers: str) -> httpx.Response:
    """GET ``<prefix or public>/<name>`` with httpx; ``content`` is the body as sent."""
    url = f"http://127.0.0.1:{run.port}{prefix or run.surface.public}/{name}"
    sent = {"accept-encoding": "identity", **{k.replace("_", "-"): v for k, v in headers.items()}}
    with _http.client(timeout=20) as client, client.stream("GET", url, headers=sent) as r:
        r._content = b"".join(r.iter_raw())
        return r


@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_gz_file_fetched_by_its_name_is_application_gzip(
    running: dict[str, Running], name: str
) -> None:
    r = fetch(running[name], "data.csv.gz", accept_encoding="gzip")
    assert r.status_code == 200 and r.content == EXTRA["data.csv.gz"]
    assert r.headers["content-type"] == "application/gzip"  # no charset: not text
    assert "content-encoding" not in r.headers


@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_svgz_is_svg_with_gzip_content_encoding(running: dict[str, Running], name: str) -> None:
    r = fetch(running[name], "logo.svgz", accept_encoding="gzip")
    assert r.status_code == 200 and r.content == EXTRA["logo.svgz"]
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["content-encoding"] == "gzip"
    assert gzip.decompress(r.content) == SVG


@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_precompressed_sibling_is_still_negotiated(running: dict[str, Running], name: str) -> None:
    r = fetch(running[name], "style.css", accept_encoding="gzip")
    assert r.headers["content-type"] == "text/css; charset=utf-8"
    assert r.headers["content-encoding"] == "gzip" and r.content == EXTRA["style.css.gz"]


@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_an_edit_keeping_mtime_0_and_the_size_is_never_answered_304(
    running: dict[str, Running], name: str, site: tuple[Path, dict[str, bytes]]
) -> None:
    run, target = running[name], site[0] / "site/public/zero.txt"
    first = fetch(run, "zero.txt")
    assert first.status_code == 200 and "last-modified" not in first.headers  # 1970 is no date
    etag = first.headers["etag"]
    edited = f"edit-{name}".encode().ljust(len(first.content), b"!")[: len(first.content)]
    target.write_bytes(edited)
    os.utime(target, (0, 0))  # same size, same mtime: only the content changed
    past_the_window()
    again = fetch(run, "zero.txt", if_none_match=etag)
    assert (again.status_code, again.content) == (200, edited)
    assert again.headers["etag"] != etag


@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_multirange_parts_come_in_the_order_asked(running: dict[str, Running], name: str) -> None:
    r = fetch(running[name], "digits.txt", range="bytes=500-504,0-4,200-204,3-9")
    assert r.status_code == 206
    message = email.message_from_bytes(
        f"Content-Type: {r.headers['content-type']}\r\n\r\n".encode() + r.content
    )
    ranges = [part["Content-Range"] for part in message.get_payload()]
    # 0-4 and 3-9 are coalesced where 0-4 was asked; the others keep their places
    assert ranges == ["bytes 500-504/1000", "bytes 0-9/1000", "bytes 200-204/1000"]


@pytest.mark.parametrize("name", [s.name for s in SURFACES])
def test_mutable_files_get_no_cache_by_default(running: dict[str, Running], name: str) -> None:
    r = fetch(running[name], "hello.txt")
    assert r.headers["cache-control"] == "no-cache" and "etag" in r.headers
    revalidated = fetch(running[name], "hello.txt", if_none_match=r.headers["etag"])
    assert revalidated.status_code == 304
    assert revalidated.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(("prefix", "expected"), [("/cached", "max-age=60"), ("/uncached", None)])
@pytest.mark.parametrize("name", [s.name for s in APPS])
def test_cache_control_is_set_per_route(
    running: dict[str, Running], name: str, prefix: str, expected: str | None
) -> None:
    assert fetch(running[name], "hello.txt", prefix).headers.get("cache-control") == expected
