"""Static files as whitenoise does them, on a local and an S3 mount, in a real Django site.

``collectstatic`` runs in a subprocess with ``GenroStaticStorage``; the site then runs
under gunicorn (WSGI) and uvicorn (ASGI) with ``StaticFilesMiddleware``, and httpx asks it
what a browser asks.

The Django 4.2 pass (``test_django_42.py``) runs the local mount only: what differs
between Django versions (settings, ``collectstatic``, the handlers under each server) is
the same whatever the mount; the S3 mount's own code (uploads, presigned and CDN
redirects) has nothing version-specific and runs once, here. It was a fifth of the
suite's subprocess CPU.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import brotli
import httpx
import pytest

pytest.importorskip("django")

from tests import _http
from tests.integrations._django_helpers import CHILD_FLAG, mount_config
from tests.integrations.django_static.assets import CSS_NAME, JS_NAME, write_assets
from tests.integrations.servers import REPO, clean_env, free_port, gunicorn, running, uvicorn

SETTINGS = "tests.integrations.django_static.settings"
ON_42 = bool(os.environ.get(CHILD_FLAG))  # the Django 4.2 pass: local mount only
MOUNTS = ["local"] if ON_42 else ["local", "s3"]
not_on_42 = pytest.mark.skipif(ON_42, reason="S3 only, nothing Django-version-specific")
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


class Site:
    def __init__(self, tmp: Path, kind: str, options: dict[str, Any] | None = None) -> None:
        self.tmp = tmp
        # a 256 KiB script: several chunks of every server's stream; the benchmark's 1 MiB
        # one made each collectstatic spend about 2 s in brotli (quality 11, two names)
        self.src = write_assets(tmp / "src", js_size=256 * 1024)
        mount = mount_config(kind, "static", tmp)
        mount.pop("name")
        self.mount = mount
        self.hashed: dict[str, str] = {}
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
        """Run the site under ``server``: gunicorn, uvicorn, or uvicorn with the site's
        ASGI application wrapped in ``StaticFilesASGI`` (``uvicorn_wrapped``)."""
        port = free_port()
        env = dict(self.env)
        if server == "gunicorn":
            argv = gunicorn("tests.integrations.django_static.wsgi:application", port)
        else:
            argv = uvicorn("tests.integrations.django_static.asgi:application", port)
        if server == "uvicorn_wrapped":
            env["STATIC_SITE_ASGI"] = "wrapped"
        with running(argv, port, env=env, log=self.tmp / f"{server}.log") as url:
            self.url = url
            yield url

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return _http.get(self.url + path, headers=headers or {}, timeout=30)


@pytest.fixture(scope="module", params=MOUNTS)
def collected(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = Site(tmp_path_factory.mktemp(f"static-{request.param}"), request.param)
    output = site.collectstatic()
    assert "2 static files copied" in output, output
    return site


@pytest.fixture(scope="module", params=["gunicorn", "uvicorn", "uvicorn_wrapped"])
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


def test_the_site_runs_the_django_of_the_tests(site: Site) -> None:
    """Under ``test_django_42.py`` the servers run Django 4.2 too, not the venv's."""
    import django

    assert site.get("/version").text == django.get_version()


def test_unknown_static_names_fall_through_to_the_site(site: Site) -> None:
    assert site.get("/static/css/missing.css").status_code == 404
    page = site.get("/")
    assert page.status_code == 200
    assert site.manifest()[CSS_NAME] in page.text  # {% static %} resolves the hashed name


JS_TYPES = ("text/javascript", "application/javascript")


def bucket_manifest(site: Site) -> dict[str, str]:
    from genro_storage import StorageManager

    manager = StorageManager()
    manager.configure([{"name": "s", **site.mount}])
    return dict(json.loads(manager.node("s:staticfiles.json").read_bytes())["paths"])


def fetched_from_the_bucket(site: Site, location: str, name: str) -> None:
    """``location`` answers the file's bytes, with the type its name implies."""
    reply = _http.get(location, timeout=30)
    assert reply.status_code == 200, (location, reply.text)
    original = (
        name
        if name in (CSS_NAME, JS_NAME)
        else next(k for k, v in site.hashed.items() if v == name)
    )
    assert reply.content == (site.src / original).read_bytes()
    kind = reply.headers["content-type"]
    assert kind.startswith("text/css" if name.endswith(".css") else JS_TYPES), kind


@not_on_42
def test_redirect_delivery_sends_clients_to_the_bucket(tmp_path: Path) -> None:
    """``delivery: redirect``: 302 to the object's presigned URL; moto then answers the
    bytes and the Content-Type the storage set when collectstatic uploaded them. One
    collectstatic, then the site under gunicorn and under uvicorn."""
    site = Site(tmp_path, "s3", {"delivery": "redirect"})
    site.collectstatic()
    site.hashed = bucket_manifest(site)
    for server in ("gunicorn", "uvicorn"):
        for _ in site.serve(server):
            for name in (CSS_NAME, site.hashed[CSS_NAME], site.hashed[JS_NAME]):
                reply = site.get(f"/static/{name}")
                assert reply.status_code == 302, (server, reply.text)
                location = reply.headers["location"]
                assert "X-Amz-Signature=" in location, server
                fetched_from_the_bucket(site, location, name)
            assert site.get("/static/css/missing.css").status_code == 404, server


def public_bucket(site: Site) -> None:
    """Move the site's mount to a new bucket anyone may read (what a CDN's origin is)."""
    import boto3

    bucket = f"genro-cdn-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=site.mount["endpoint_url"],
        aws_access_key_id=site.mount["key"],
        aws_secret_access_key=site.mount["secret"],
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    site.mount["bucket"] = bucket
    site.env["STATIC_SITE_MOUNT"] = json.dumps(site.mount)


@not_on_42
def test_redirect_to_url_sends_clients_to_the_cdn(tmp_path: Path) -> None:
    """``redirect_to_url`` with django-storages' ``custom_domain`` (here the bucket's own
    address on moto, standing for a CDN in front of it): 302 to that URL, unsigned. One
    collectstatic, then the site under gunicorn and under uvicorn."""
    site = Site(tmp_path, "s3", {"redirect_to_url": True})
    public_bucket(site)
    endpoint = urlsplit(site.mount["endpoint_url"]).netloc
    domain = f"{endpoint}/{site.mount['bucket']}/{site.mount['prefix']}"
    site.env["STATIC_SITE_STORAGE"] = json.dumps({"custom_domain": domain, "url_protocol": "http:"})
    site.collectstatic()
    site.hashed = bucket_manifest(site)
    for server in ("gunicorn", "uvicorn"):
        for _ in site.serve(server):
            for name in (CSS_NAME, site.hashed[CSS_NAME], site.hashed[JS_NAME]):
                reply = site.get(f"/static/{name}")
                assert reply.status_code == 302, (server, reply.text)
                assert reply.headers["location"] == f"http://{domain}/{name}", server
                fetched_from_the_bucket(site, reply.headers["location"], name)
            page = site.get("/")  # {% static %} points at the CDN too
            assert f"http://{domain}/{site.hashed[CSS_NAME]}" in page.text, server
            assert site.get("/static/css/missing.css").status_code == 404, server
            listed = site.get("/static/staticfiles.json")  # not in the manifest: looked up
            assert listed.headers["location"] == f"http://{domain}/staticfiles.json", server
