"""The example projects under real servers, over HTTP and in headless Chromium.

Each project is copied to a temporary folder and started with its documented command
(Django under gunicorn and under uvicorn, Flask under gunicorn, FastAPI under uvicorn).
With no configuration it keeps files in its own ``data/`` folder; with
``GENRO_STORAGE_CONFIG`` naming a YAML file it keeps them on S3 (moto). The flow is a
person's: open the page, upload, see the file listed, download it, delete it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest

from tests import _http
from tests.integrations import servers
from tests.remote import make_bucket
from tests.services import in_ci, require_services

EXAMPLES = servers.REPO / "example_projects"
CONTENT = b"genro-storage example \x00\x01\xff " * 3000  # ~70 KB, binary


MISSING_BUCKET = "genro-ex-never-created"


@dataclass(frozen=True)
class Project:
    folder: str
    server: str  # "gunicorn" or "uvicorn"
    app: str

    def argv(self, port: int) -> list[str]:
        if self.server == "gunicorn":
            return servers.gunicorn(self.app, port)
        return servers.uvicorn(self.app, port)


PROJECTS = {
    "django-gunicorn": Project("django_site", "gunicorn", "site_config.wsgi:application"),
    "django-uvicorn": Project("django_site", "uvicorn", "site_config.asgi:application"),
    "flask-gunicorn": Project("flask_app", "gunicorn", "app:app"),
    "fastapi-uvicorn": Project("starlette_app", "uvicorn", "app:app"),
}


@pytest.fixture
def started(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Start ``PROJECTS[name]`` from a copy; ``storage`` is ``"local"`` or ``"s3"``."""
    name, storage = request.param
    project = PROJECTS[name]
    workdir = tmp_path / project.folder
    shutil.copytree(
        EXAMPLES / project.folder, workdir, ignore=shutil.ignore_patterns("data", "__pycache__")
    )
    env: dict[str, str] = {}
    if storage in ("s3", "s3-missing"):
        svc = require_services("s3")
        bucket = MISSING_BUCKET if storage == "s3-missing" else make_bucket(svc, "genro-ex")
        config = tmp_path / "s3.yaml"
        config.write_text(
            "- name: files\n  type: s3\n"
            f"  bucket: {bucket}\n  prefix: example\n"
            f"  endpoint_url: {svc['SVC_S3_ENDPOINT']}\n"
            f"  key: {svc['SVC_S3_KEY']}\n  secret: {svc['SVC_S3_SECRET']}\n",
            encoding="utf-8",
        )
        env["GENRO_STORAGE_CONFIG"] = str(config)
    port = servers.free_port()
    log = tmp_path / "server.log"
    with servers.running(project.argv(port), port, env=env, cwd=workdir, log=log) as base:
        yield base
    if storage == "local":  # the embedded default: the project's own data/ folder
        assert (workdir / "data").is_dir()


CASES = [(name, "local") for name in PROJECTS] + [
    ("django-gunicorn", "s3"),
    ("django-uvicorn", "s3"),
    ("flask-gunicorn", "s3"),
    ("fastapi-uvicorn", "s3"),
]


def listed(html: str) -> dict[str, str]:
    """``{file name: download href}`` from a project's page."""
    found = {}
    for item in re.finditer(r'<li data-name="([^"]*)">\s*<a class="download" href="([^"]*)"', html):
        found[unescape(item.group(1))] = unescape(item.group(2))
    return found


def form_fields(html: str) -> dict[str, str]:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return {"csrfmiddlewaretoken": token.group(1)} if token else {}


@pytest.mark.parametrize("started", CASES, ids=[f"{n}-{s}" for n, s in CASES], indirect=True)
def test_upload_list_download_delete_over_http(started: str) -> None:
    with _http.client(base_url=started, timeout=15, follow_redirects=True) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "No files yet." in page.text
        fields = form_fields(page.text)

        uploaded = client.post(
            "/upload", data=fields, files={"file": ("report 2024.bin", CONTENT, "x/y")}
        )
        assert uploaded.status_code == 200, uploaded.text
        links = listed(uploaded.text)
        (name,) = links
        assert name in ("report_2024.bin", "report 2024.bin")  # each framework's safe name
        assert f"{len(CONTENT)} bytes" in uploaded.text

        download = client.get(links[name])
        assert download.status_code == 200
        assert download.content == CONTENT
        assert download.headers["content-disposition"].startswith("attachment")
        etag = download.headers["etag"]
        assert client.get(links[name], headers={"If-None-Match": etag}).status_code == 304
        part = client.get(links[name], headers={"Range": "bytes=10-29"})
        assert (part.status_code, part.content) == (206, CONTENT[10:30])

        after = client.post("/delete", data={**fields, "name": name})
        assert after.status_code == 200
        assert listed(after.text) == {}
        assert client.get(links[name]).status_code == 404


# ---------------------------------------------------------------- headless Chromium
def playwright_dir() -> Path | None:
    candidates = [Path(os.environ["GENRO_NODE_DIR"])] if os.environ.get("GENRO_NODE_DIR") else []
    candidates.append(servers.REPO / ".cache/node")
    for base in candidates:
        if (base / "node_modules/playwright-core/package.json").is_file():
            return base / "node_modules/playwright-core"
    return None


def require_browser() -> Path:
    found = playwright_dir()
    missing = []
    if found is None:
        missing.append("playwright-core (.cache/node)")
    if shutil.which("node") is None:
        missing.append("node")
    if not Path("/usr/bin/chromium").exists():
        missing.append("/usr/bin/chromium")
    if missing:
        message = f"{', '.join(missing)} missing: run bash scripts/install.sh"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    assert found is not None
    return found


BROWSER_CASES = [
    ("django-gunicorn", "local"),
    ("flask-gunicorn", "local"),
    ("fastapi-uvicorn", "local"),
    ("django-uvicorn", "s3"),
]


@pytest.mark.parametrize(
    "started", BROWSER_CASES, ids=[f"{n}-{s}" for n, s in BROWSER_CASES], indirect=True
)
def test_in_headless_chromium(started: str, tmp_path: Path) -> None:
    pw = require_browser()
    upload = tmp_path / "browser-upload.bin"
    upload.write_bytes(os.urandom(200_000))
    out = tmp_path / "browser-out"
    out.mkdir()
    script = Path(__file__).parent / "browser/upload_download.cjs"
    run = subprocess.run(
        ["node", str(script), str(pw), started, str(upload), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=servers.clean_env(),
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["listed"], result
    assert result["sizeText"] == "200000 bytes"
    assert result["suggested"] == "browser-upload.bin"
    downloaded = Path(result["downloaded"]).read_bytes()
    assert hashlib.sha256(downloaded).digest() == hashlib.sha256(upload.read_bytes()).digest()
    assert result["deleted"], result
    assert (out / "listed.png").stat().st_size > 1000


REFUSED = ["..", ".", "\x00", "a\x00b", "..\\..", "CON"]


@pytest.mark.parametrize(
    "started", [(n, "local") for n in PROJECTS], ids=list(PROJECTS), indirect=True
)
def test_refused_names_on_delete_are_400_and_nothing_is_lost(started: str) -> None:
    with _http.client(base_url=started, timeout=15, follow_redirects=True) as client:
        fields = form_fields(client.get("/").text)
        uploaded = client.post("/upload", data=fields, files={"file": ("keep.bin", CONTENT)})
        (link,) = listed(uploaded.text).values()
        for name in REFUSED:
            answer = client.post("/delete", data={**fields, "name": name})
            assert answer.status_code < 500, (name, answer.status_code, answer.text[:300])
            if name in ("..", ".", "\x00"):
                assert answer.status_code == 400, (name, answer.status_code)
        assert client.get(link).content == CONTENT  # the file and its folder survived


@pytest.mark.parametrize(
    "started", [(n, "s3-missing") for n in PROJECTS], ids=list(PROJECTS), indirect=True
)
def test_missing_bucket_is_a_clear_503_never_500(started: str) -> None:
    """A mount whose bucket does not exist: 503 naming the mount and bucket, never 500."""
    with _http.client(base_url=started, timeout=15) as client:
        page = client.get("/")
        assert page.status_code == 503, (page.status_code, page.text[:300])
        assert MISSING_BUCKET in page.text and "files" in page.text
        assert "No files yet" not in page.text
        fields = form_fields(page.text)
        uploaded = client.post("/upload", data=fields, files={"file": ("a.bin", CONTENT)})
        assert uploaded.status_code == 503, (uploaded.status_code, uploaded.text[:300])
        assert MISSING_BUCKET in uploaded.text and "files" in uploaded.text
