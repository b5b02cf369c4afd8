"""The Django side end to end: a model with FileField and ImageField, uploads through the
test client, reads back through the serve view (ETag, Range, 304, HEAD, signatures) under
WSGI (``Client``) and ASGI (``AsyncClient``), and collectstatic into a genro mount, on
local, memory and S3 mounts."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("django")
pytest.importorskip("PIL")

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.management import call_command
from django.test import AsyncClient, Client
from PIL import Image

from tests.integrations._django_helpers import SERVE_KINDS, mount_config
from tests.integrations.django_project.testapp.models import Document

pytestmark = pytest.mark.django_db

PAYLOAD = bytes(range(256)) * 1024  # 256 KiB: several chunks


def png_bytes(width: int = 7, height: int = 5) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(params=SERVE_KINDS)
def kind(request: pytest.FixtureRequest, settings, tmp_path: Path) -> str:
    settings.GENRO_STORAGE_MOUNTS = [
        mount_config(request.param, "media", tmp_path),
        mount_config(request.param, "static", tmp_path),
    ]
    return request.param


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


async def abody(response) -> bytes:
    content = response.streaming_content
    assert isinstance(content, AsyncIterator), "ASGI responses must stream asynchronously"
    return b"".join([chunk async for chunk in content])


# ---------------------------------------------------------------- model + upload
def test_model_upload_through_the_client_and_read_back(kind: str, client: Client) -> None:
    upload = ContentFile(PAYLOAD, name="report.bin")
    image = ContentFile(png_bytes(), name="dot.png")
    response = client.post("/upload/", {"title": "t", "file": upload, "image": image})
    assert response.status_code == 200, response.content
    data = response.json()
    assert re.fullmatch(r"docs/\d{4}/report\.bin", data["file"])
    assert data["image"] == "images/dot.png"
    assert (data["width"], data["height"]) == (7, 5)  # ImageField read the stored image
    assert data["file_url"] == f"/files/media/{data['file']}"

    doc = Document.objects.get(pk=data["id"])
    assert default_storage.exists(doc.file.name)
    with doc.file.open("rb") as fh:
        assert fh.read() == PAYLOAD

    served = client.get(data["file_url"])
    assert served.status_code == 200
    assert served["Content-Length"] == str(len(PAYLOAD))
    assert body(served) == PAYLOAD
    image_served = client.get(data["image_url"])
    assert image_served["Content-Type"] == "image/png"
    assert body(image_served) == png_bytes()


def test_serve_view_etag_range_and_304(kind: str, client: Client) -> None:
    name = default_storage.save("range/data.bin", ContentFile(PAYLOAD))
    url = default_storage.url(name)
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and first["Accept-Ranges"] == "bytes"
    assert body(first) == PAYLOAD

    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert body(not_modified) == b""

    partial = client.get(url, headers={"Range": "bytes=100-199"})
    assert partial.status_code == 206
    assert partial["Content-Range"] == f"bytes 100-199/{len(PAYLOAD)}"
    assert body(partial) == PAYLOAD[100:200]

    suffix = client.get(url, headers={"Range": "bytes=-10", "If-Range": etag})
    assert suffix.status_code == 206
    assert body(suffix) == PAYLOAD[-10:]

    unsatisfiable = client.get(url, headers={"Range": f"bytes={len(PAYLOAD) + 5}-"})
    assert unsatisfiable.status_code == 416

    head = client.head(url)
    assert head.status_code == 200
    assert head["Content-Length"] == str(len(PAYLOAD))
    assert body(head) == b""


def test_whole_local_file_goes_to_the_wsgi_file_wrapper(settings, tmp_path, client) -> None:
    settings.GENRO_STORAGE_SERVE = {"media": {}}
    settings.GENRO_STORAGE_MOUNTS = [mount_config("local", "media", tmp_path)]
    name = default_storage.save("big.bin", ContentFile(PAYLOAD))
    response = client.get(default_storage.url(name))
    assert response.file_to_stream is not None  # Django hands it to wsgi.file_wrapper
    assert body(response) == PAYLOAD
    ranged = client.get(default_storage.url(name), headers={"Range": "bytes=0-9"})
    assert getattr(ranged, "file_to_stream", None) is None
    assert body(ranged) == PAYLOAD[:10]


@pytest.mark.anyio
async def test_asgi_streams_with_an_async_iterator(kind: str) -> None:
    from asgiref.sync import sync_to_async

    name = await sync_to_async(default_storage.save)("async/data.bin", ContentFile(PAYLOAD))
    url = await sync_to_async(default_storage.url)(name)
    client = AsyncClient()
    response = await client.get(url)
    assert response.status_code == 200
    assert await abody(response) == PAYLOAD
    etag = response["ETag"]
    partial = await client.get(url, headers={"Range": "bytes=5-9"})
    assert partial.status_code == 206
    assert await abody(partial) == PAYLOAD[5:10]
    cached = await client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304


# ---------------------------------------------------------------- access rules
def test_mount_not_in_genro_storage_serve_is_404(kind: str, client, settings) -> None:
    settings.GENRO_STORAGE_SERVE = {"static": {}}
    default_storage.save("hidden.txt", ContentFile(b"secret"))
    assert client.get("/files/media/hidden.txt").status_code == 404


@pytest.mark.parametrize(
    "path", ["/files/media/../static/x", "/files/media/%2e%2e/x", "/files/media/a%5cb"]
)
def test_traversal_through_the_view_is_404(client, path: str) -> None:
    assert client.get(path).status_code in (400, 404)


def test_private_mount_needs_a_valid_signature(kind: str, client, settings) -> None:
    settings.GENRO_STORAGE_SERVE = {"media": {"private": True}}
    name = default_storage.save("private.txt", ContentFile(b"for your eyes"))
    url = default_storage.url(name)
    assert "signature=" in url
    assert body(client.get(url)) == b"for your eyes"
    assert client.get(url.split("?")[0]).status_code == 403
    assert client.get(url[:-2] + "xx").status_code == 403


def test_presigned_url_on_s3_with_querystring_auth(settings, tmp_path) -> None:
    settings.GENRO_STORAGE_SERVE = {}
    settings.GENRO_STORAGE_MOUNTS = [mount_config("s3", "media", tmp_path)]
    from genro_storage.integrations.django import GenroStorage

    store = GenroStorage(mount="media", querystring_auth=True, querystring_expire=120)
    store.save("pre.txt", ContentFile(b"presigned"))
    url = store.url("pre.txt")
    assert (url.startswith("http") and "Signature" in url) or "X-Amz-Signature" in url

    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.read() == b"presigned"


# ---------------------------------------------------------------- staticfiles
def test_collectstatic_into_a_genro_mount(kind: str, client) -> None:
    call_command("collectstatic", interactive=False, verbosity=0)
    static = storages["staticfiles"]
    assert static.exists("css/site.css")
    url = static.url("css/site.css")
    assert url == "/files/static/css/site.css"
    response = client.get(url)
    assert response["Cache-Control"] == "max-age=3600"
    assert response["Content-Type"].startswith("text/css")
    source = Path(__file__).parent / "django_project/static_src/css/site.css"
    assert body(response) == source.read_bytes()
    # a second run finds everything unchanged (modified times compared) and copies nothing
    out = io.StringIO()
    call_command("collectstatic", interactive=False, verbosity=1, stdout=out)
    assert "0 static files copied" in out.getvalue()


def test_image_field_dimensions_read_from_storage(kind: str) -> None:
    doc = Document(title="img")
    doc.file.save("f.txt", ContentFile(b"x"), save=False)
    doc.image.save("pic.png", ContentFile(png_bytes(11, 3)), save=False)
    doc.save()
    fresh = Document.objects.get(pk=doc.pk)
    assert (fresh.image.width, fresh.image.height) == (11, 3)
    with fresh.image.open("rb") as fh:  # reopens through the storage, not the CWD
        assert hashlib.md5(fh.read()).hexdigest() == hashlib.md5(png_bytes(11, 3)).hexdigest()
    with fresh.image.open("rb") as fh:  # and again, once closed
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
