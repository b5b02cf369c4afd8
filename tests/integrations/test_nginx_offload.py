"""``delivery: x-accel-redirect`` against a real nginx in front of gunicorn and uvicorn.

The app answers with ``X-Accel-Redirect: /_int/<path>``; nginx serves the file from its
``internal`` location (sendfile, Range, its own validators), keeping the app's
Content-Type, Content-Disposition and Cache-Control.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests import _http
from tests._procs import free_port, stop, wait_for_port
from tests.integrations._site import FILES
from tests.services import in_ci

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UNICODE = "unicode name \u00e9\u6f22.txt"

CONFIG = """
{user}
worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {run}/body; proxy_temp_path {run}/proxy;
  fastcgi_temp_path {run}/fastcgi; uwsgi_temp_path {run}/uwsgi; scgi_temp_path {run}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
    location /_int/ {{ internal; alias {root}/; }}
  }}
}}
"""


@pytest.fixture(scope="module", params=["gunicorn", "uvicorn"])
def nginx_url(
    request: pytest.FixtureRequest, spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """nginx on 127.0.0.1 (a port of GENRO_TEST_PORTS) proxying to the app under test."""
    if not os.path.exists(NGINX):
        if in_ci():
            pytest.fail("nginx is not installed (scripts/install.sh installs nginx-light)")
        pytest.skip("nginx is not installed")
    upstream = httpx.URL(request.getfixturevalue(f"{request.param}_url")).port
    run = tmp_path_factory.mktemp("nginx")
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the pytest tmp dir
    conf = CONFIG.format(user=user, run=run, port=port, upstream=upstream, root=spec["root"])
    (run / "nginx.conf").write_text(conf)
    log = open(run / "stdout.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [NGINX, "-c", str(run / "nginx.conf"), "-p", str(run)], stdout=log, stderr=log
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)  # the master's PID; it takes its workers down
        log.close()


def get(url: str, **headers: str) -> httpx.Response:
    return _http.get(url, headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_nginx_sends_the_file(nginx_url: str) -> None:
    r = get(f"{nginx_url}/accel/data.bin")
    assert r.status_code == 200 and r.content == FILES["data.bin"]
    assert r.headers["server"].startswith("nginx")
    assert "x-accel-redirect" not in r.headers


def test_nginx_keeps_the_apps_content_type(nginx_url: str) -> None:
    r = get(f"{nginx_url}/accel/hello.txt")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


def test_nginx_answers_ranges(nginx_url: str) -> None:
    r = get(f"{nginx_url}/accel/data.bin", range="bytes=-1")
    assert r.status_code == 206 and r.content == FILES["data.bin"][-1:]


def test_nginx_answers_conditional_requests_with_its_own_etag(nginx_url: str) -> None:
    etag = get(f"{nginx_url}/accel/data.bin").headers["etag"]
    assert get(f"{nginx_url}/accel/data.bin", if_none_match=etag).status_code == 304


def test_unicode_names_survive_the_redirect(nginx_url: str) -> None:
    assert get(f"{nginx_url}/accel/{quote(UNICODE)}").content == FILES[UNICODE]


def test_internal_location_is_not_reachable_directly(nginx_url: str) -> None:
    assert get(f"{nginx_url}/_int/hello.txt").status_code == 404


def test_missing_file_is_the_apps_404(nginx_url: str) -> None:
    r = get(f"{nginx_url}/accel/missing.txt")
    assert (r.status_code, r.content) == (404, b"Not Found")


def test_symlink_out_of_the_mount_is_never_handed_to_nginx(nginx_url: str) -> None:
    r = get(f"{nginx_url}/accel/escape-file.txt")
    assert r.status_code == 404 and b"SECRET" not in r.content
