"""Static files as whitenoise does them, on a local and an S3 mount, in a real Django site.

``collectstatic`` runs in a subprocess with ``GenroStaticStorage``; the site then runs
under gunicorn (WSGI) and uvicorn (ASGI) with ``StaticFilesMiddleware``, and httpx asks it
what a browser asks.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest

pytest.importorskip("django")

from tests.integrations._django_helpers import mount_config
from tests.integrations.django_static.assets import CSS_NAME, JS_NAME, write_assets
from tests.integrations.servers import REPO, clean_env, free_port, gunicorn, running, uvicorn

SETTINGS = "tests.integrations.django_static.settings"
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


class Site:
    def __init__(self, tmp: Path, kind: str, options: dict[str, Any] | None = None) -> None:
        self.tmp = tmp
        self.src = write_assets(tmp / "src")
        mount = mount_config(kind, "static", tmp)
        mount.pop("name")
        self.mount = mount
        self.env = {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "STATIC_SITE_MOUNT": json.dumps(mount),
            "STATIC_SITE_SRC": str(self.src),
            "STATIC_SITE_OPTIONS": json.dumps(options or {}),
        }

    def collectstatic(self) -> str:
        run = subprocess.run(
            [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v", "1"],
            cwd=REPO,
            env=clean_env(self.env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        return run.stdout

    def manifest(self) -> dict[str, str]:
        reply = self.get("/static/staticfiles.json", {"accept-encoding": "identity"})
        return dict(json.loads(reply.content)["paths"])

    def serve(self, server: str) -> Iterator[str]:
        port = free_port()
        if server == "gunicorn":
            argv = gunicorn("tests.integrations.django_static.wsgi:application", port)
        else:
            argv = uvicorn("tests.integrations.django_static.asgi:application", port)
        with running(argv, port, env=self.env, log=self.tmp / f"{server}.log") as url:
            self.url = url
            yield url

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.get(self.url + path, headers=headers or {}, timeout=30)


@pytest.fixture(scope="module", params=["local", "s3"])
def collected(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = Site(tmp_path_factory.mktemp(f"static-{request.param}"), request.param)
    output = site.collectstatic()
    assert "2 static files copied" in output, output
    return site


@pytest.fixture(scope="module", params=["gunicorn", "uvicorn"])
def site(request: pytest.FixtureRequest, collected: Site) -> Iterator[Site]:
    yield from (collected for _ in collected.serve(request.param))


def test_collectstatic_writes_hashed_names_and_compressed_siblings(collected: Site) -> None:
    from genro_storage import StorageManager

    manager = StorageManager()
    manager.configure([{"name": "s", **collected.mount}])
    manifest = json.loads(manager.node("s:staticfiles.json").read_bytes())["paths"]
    hashed_css = manifest[CSS_NAME]
    source = (collected.src / CSS_NAME).read_bytes()
    assert manager.node(f"s:{hashed_css}").read_bytes() == source
    assert gzip.decompress(manager.node(f"s:{hashed_css}.gz").read_bytes()) == source
    assert brotli.decompress(manager.node(f"s:{hashed_css}.br").read_bytes()) == source
    assert manager.node(f"s:{CSS_NAME}.br").exists  # the unhashed name too


def test_a_second_collectstatic_uploads_nothing(collected: Site) -> None:
    output = collected.collectstatic()
    assert "0 static files copied" in output, output


def test_hashed_names_are_immutable_and_precompressed(site: Site) -> None:
    hashed = site.manifest()[CSS_NAME]
    source = (site.src / CSS_NAME).read_bytes()
    reply = site.get(f"/static/{hashed}", {"accept-encoding": "br, gzip"})
    assert reply.status_code == 200
    assert reply.headers["content-encoding"] == "br"
    assert "accept-encoding" in reply.headers["vary"].lower()
    assert reply.headers["cache-control"] == "max-age=31536000, immutable"
    assert reply.headers["content-type"].startswith("text/css")
    assert reply.content == source  # httpx decodes br with the brotli package
    gz = site.get(f"/static/{hashed}", {"accept-encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip" and gz.content == source


def test_unhashed_names_get_short_caching(site: Site) -> None:
    reply = site.get(f"/static/{CSS_NAME}", {"accept-encoding": "identity"})
    assert reply.status_code == 200
    assert reply.headers["cache-control"] == "max-age=60"
    assert "content-encoding" not in reply.headers
    assert reply.content == (site.src / CSS_NAME).read_bytes()


def test_conditional_get_is_a_304(site: Site) -> None:
    hashed = site.manifest()[CSS_NAME]
    first = site.get(f"/static/{hashed}", {"accept-encoding": "gzip"})
    again = site.get(
        f"/static/{hashed}", {"accept-encoding": "gzip", "if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


def test_a_large_script_arrives_whole(site: Site) -> None:
    hashed = site.manifest()[JS_NAME]
    reply = site.get(f"/static/{hashed}", {"accept-encoding": "identity"})
    assert reply.status_code == 200
    assert reply.content == (site.src / JS_NAME).read_bytes()
    ranged = site.get(f"/static/{hashed}", {"accept-encoding": "identity", "range": "bytes=0-9"})
    assert ranged.status_code == 206 and len(ranged.content) == 10


def test_unknown_static_names_fall_through_to_the_site(site: Site) -> None:
    assert site.get("/static/css/missing.css").status_code == 404
    page = site.get("/")
    assert page.status_code == 200
    assert site.manifest()[CSS_NAME] in page.text  # {% static %} resolves the hashed name


def test_redirect_delivery_sends_clients_to_the_bucket(tmp_path: Path) -> None:
    site = Site(tmp_path, "s3", {"delivery": "redirect"})
    site.collectstatic()
    for _ in site.serve("gunicorn"):
        reply = site.get(f"/static/{CSS_NAME}")
        assert reply.status_code == 302
        assert "X-Amz-Signature=" in reply.headers["location"]
        assert httpx.get(reply.headers["location"]).content == (site.src / CSS_NAME).read_bytes()
