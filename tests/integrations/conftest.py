"""Fixtures for the app tests: one site, four ways to reach it.

``client`` (defined by each test module) is the WSGI app or the ASGI app, in process
(httpx's WSGITransport / ASGITransport) or over a real socket (gunicorn / uvicorn in a
subprocess, httpx as the HTTP client). ``prefix`` is ``/local`` or ``/s3``: the same files
on a local mount and an S3 (moto) mount, served with the same options.

The Django tests (``test_django*.py``) get their settings here too: pytest-django is
installed for the whole suite but finds no settings at start-up, so the rest of the suite
runs without Django. When this folder is collected, Django is configured from
``django_project/settings.py`` (``settings.configure``, not ``DJANGO_SETTINGS_MODULE``,
so no server these tests start inherits it) and pytest-django's fixtures (``db``,
``settings``, ``client``) work from then on.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from genro_storage import StorageManager
from genro_storage.serving.asgi_app import ASGIApp
from genro_storage.serving.watch import FRESHNESS_NS
from genro_storage.serving.wsgi_app import WSGIApp
from tests import _http
from tests._procs import free_port, granian_args, gunicorn_args, server, uvicorn_args
from tests.integrations._site import build_storage, make_spec, write_spec
from tests.services import load_services, require_services

IDENTITY = {"accept-encoding": "identity"}


def past_the_window() -> None:
    """Wait longer than the default freshness window (serving/watch.py): a change made
    before this call shows in every answer to a request made after it (docs/serving.md)."""
    time.sleep(2 * FRESHNESS_NS / 1e9)


@pytest.fixture(params=["watch", "stat"])
def notification(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Kept answers checked by change notification (the default on Linux) or by stats
    (``GENRO_STORAGE_WATCH=0``, and every other system): a test using it runs in both."""
    from genro_storage.serving import watch

    if request.param == "stat":
        monkeypatch.setenv("GENRO_STORAGE_WATCH", "0")
    else:
        monkeypatch.delenv("GENRO_STORAGE_WATCH", raising=False)
    watch.reset()
    yield str(request.param)
    watch.reset()


def pytest_configure(config: pytest.Config) -> None:
    try:
        import django
        from django.conf import settings
    except ImportError:  # the django extra is not installed: its tests skip themselves
        return
    if not settings.configured:
        module = importlib.import_module("tests.integrations.django_project.settings")
        settings.configure(**{k: getattr(module, k) for k in dir(module) if k.isupper()})
        if django.VERSION < (5, 1):
            # Django 4.2's configure() mirrors STORAGES into DEFAULT_FILE_STORAGE and
            # STATICFILES_STORAGE as if the project had set them, and StorageHandler then
            # rebuilds both storages from those names alone, dropping their OPTIONS.
            for legacy in ("DEFAULT_FILE_STORAGE", "STATICFILES_STORAGE"):
                settings._wrapped.__dict__.pop(legacy, None)
    try:
        from pytest_django.plugin import _setup_django  # sets up Django, blocks the DB
    except ImportError:  # pragma: no cover - without pytest-django, plain setup
        django.setup()
    else:
        _setup_django(config)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio, as Django and uvicorn do."""
    return "asyncio"


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes  # as sent: not decoded even with a Content-Encoding


class Client:
    """A synchronous facade over httpx, in process or over the network."""

    def __init__(self, client: httpx.Client | httpx.AsyncClient, name: str) -> None:
        self._client = client
        self.name = name
        self._loop = asyncio.new_event_loop() if isinstance(client, httpx.AsyncClient) else None

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Reply:
        merged = {**IDENTITY, **(headers or {})}
        if self._loop is not None:
            return self._loop.run_until_complete(self._arequest(method, path, merged))
        assert isinstance(self._client, httpx.Client)
        with self._client.stream(method, path, headers=merged) as r:
            return Reply(r.status_code, r.headers, b"".join(r.iter_raw()))

    async def _arequest(self, method: str, path: str, headers: dict[str, str]) -> Reply:
        assert isinstance(self._client, httpx.AsyncClient)
        async with self._client.stream(method, path, headers=headers) as r:
            return Reply(r.status_code, r.headers, b"".join([c async for c in r.aiter_raw()]))

    def get(self, path: str, **headers: str) -> Reply:
        return self.request("GET", path, {k.replace("_", "-"): v for k, v in headers.items()})

    def close(self) -> None:
        if self._loop is not None:
            assert isinstance(self._client, httpx.AsyncClient)
            self._loop.run_until_complete(self._client.aclose())
            self._loop.close()
        else:
            self._client.close()


@pytest.fixture(scope="session")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The site's files and config; with an S3 mount when the moto service runs."""
    try:
        env = load_services()
    except FileNotFoundError:
        env = {}  # the s3 tests' require_services() reports it
    with_s3 = "SVC_S3_ENDPOINT" in env and "s3" in env.get("SVC_SERVICES", "s3").split()
    return make_spec(tmp_path_factory.mktemp("site"), env if with_s3 else None)


@pytest.fixture(scope="session")
def spec_file(spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spec(spec, tmp_path_factory.mktemp("spec") / "spec.json")


@pytest.fixture(scope="session")
def storage(spec: dict[str, Any]) -> StorageManager:
    return build_storage(spec)


@pytest.fixture(scope="session")
def wsgi_app(storage: StorageManager, spec: dict[str, Any]) -> WSGIApp:
    return WSGIApp(storage, spec["serve"])


@pytest.fixture(scope="session")
def asgi_app(storage: StorageManager, spec: dict[str, Any]) -> ASGIApp:
    return ASGIApp(storage, spec["serve"])


@pytest.fixture(scope="session")
def gunicorn_url(spec_file: Path) -> Iterator[str]:
    port = free_port()
    args = gunicorn_args("tests.integrations._server:wsgi_app", port)
    with server(args, port, {"GENRO_TEST_APP_SPEC": str(spec_file)}):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def uvicorn_url(spec_file: Path) -> Iterator[str]:
    port = free_port()
    args = uvicorn_args("tests.integrations._server:asgi_app", port)
    with server(args, port, {"GENRO_TEST_APP_SPEC": str(spec_file)}):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def granian_url(spec_file: Path) -> Iterator[str]:
    port = free_port()
    args = granian_args("tests.integrations._server:asgi_app", port)
    with server(args, port, {"GENRO_TEST_APP_SPEC": str(spec_file)}):
        yield f"http://127.0.0.1:{port}"


def make_client(kind: str, request: pytest.FixtureRequest) -> Iterator[Client]:
    """``inproc-wsgi``, ``inproc-asgi``, ``gunicorn``, ``uvicorn`` or ``granian``."""
    raw: httpx.Client | httpx.AsyncClient
    if kind == "inproc-wsgi":
        app = request.getfixturevalue("wsgi_app")
        raw = httpx.Client(transport=httpx.WSGITransport(app), base_url="http://testserver")
    elif kind == "inproc-asgi":
        app = request.getfixturevalue("asgi_app")
        raw = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver")
    else:
        raw = _http.client(base_url=request.getfixturevalue(f"{kind}_url"), timeout=30)
    client = Client(raw, kind)
    yield client
    client.close()


@pytest.fixture(params=["local", "s3"])
def prefix(request: pytest.FixtureRequest, spec: dict[str, Any]) -> str:
    """The route of the mount under test: ``/local`` or ``/s3`` (needs the moto service)."""
    if request.param == "s3":
        require_services("s3")
        if "/s3" not in spec["serve"]:
            pytest.fail("the s3 service answers but the site was built without it")
    return f"/{request.param}"
