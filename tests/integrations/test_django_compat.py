"""django-storages' settings, read by the drop-in storages: one test per mapped setting.

A site switches by changing ``BACKEND`` only; these tests set the settings a
django-storages site has (``AWS_*``, ``GS_*``, ``AZURE_*``), no ``GENRO_STORAGE_MOUNTS``,
and check the result on the real servers: moto (S3), fake-gcs (GCS), Azurite (Azure).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("django")

from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from genro_storage.integrations.django import (
    AzureStorage,
    GoogleCloudStorage,
    S3Storage,
    get_manager,
)
from genro_storage.integrations.django import conf as django_conf
from tests import _http
from tests.conformance.targets import azure_fs, gcs_fs
from tests.remote import make_bucket, s3_client
from tests.services import require_services

ROOT = Path(__file__).resolve().parents[2]


def mount_of(store: Any) -> dict[str, Any]:
    """The mount dict the storage built from the settings."""
    return django_conf._registered[store.mount]


# ---------------------------------------------------------------- S3
@pytest.fixture
def s3(settings) -> dict[str, str]:
    env = require_services("s3")
    del settings.GENRO_STORAGE_MOUNTS
    settings.AWS_STORAGE_BUCKET_NAME = make_bucket(env, "dj-compat")
    settings.AWS_S3_ENDPOINT_URL = env["SVC_S3_ENDPOINT"]
    settings.AWS_ACCESS_KEY_ID = env["SVC_S3_KEY"]
    settings.AWS_SECRET_ACCESS_KEY = env["SVC_S3_SECRET"]
    return env


def s3_body(env: dict[str, str], bucket: str, key: str) -> bytes:
    return bytes(s3_client(env).get_object(Bucket=bucket, Key=key)["Body"].read())


def test_s3_bucket_endpoint_and_keys_come_from_the_aws_settings(s3, settings) -> None:
    store = S3Storage()
    assert store.save("hello.txt", ContentFile(b"hi")) == "hello.txt"
    assert s3_body(s3, settings.AWS_STORAGE_BUCKET_NAME, "hello.txt") == b"hi"
    config = mount_of(store)
    assert (config["key"], config["secret"]) == (s3["SVC_S3_KEY"], s3["SVC_S3_SECRET"])
    assert config["endpoint_url"] == s3["SVC_S3_ENDPOINT"]


def test_s3_prefixed_key_settings_win(s3, settings) -> None:
    settings.AWS_S3_ACCESS_KEY_ID = "s3-specific"
    settings.AWS_S3_SECRET_ACCESS_KEY = "s3-secret"
    settings.AWS_SESSION_TOKEN = "session"
    config = mount_of(S3Storage())
    assert (config["key"], config["secret"], config["token"]) == (
        "s3-specific",
        "s3-secret",
        "session",
    )


def test_s3_region_signature_and_addressing_settings(s3, settings) -> None:
    settings.AWS_S3_REGION_NAME = "eu-west-3"
    settings.AWS_S3_SIGNATURE_VERSION = "s3v4"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    config = mount_of(S3Storage())
    assert config["region"] == "eu-west-3"
    assert config["config_kwargs"] == {
        "signature_version": "s3v4",
        "s3": {"addressing_style": "path"},
    }


def test_s3_location_prefixes_every_key(s3, settings) -> None:
    settings.AWS_LOCATION = "media/site"
    store = S3Storage()
    store.save("a.txt", ContentFile(b"located"))
    assert s3_body(s3, settings.AWS_STORAGE_BUCKET_NAME, "media/site/a.txt") == b"located"
    assert store.listdir("") == ([], ["a.txt"])


@pytest.mark.parametrize(("overwrite", "same"), [(None, True), (True, True), (False, False)])
def test_s3_file_overwrite(s3, settings, overwrite: bool | None, same: bool) -> None:
    if overwrite is not None:
        settings.AWS_S3_FILE_OVERWRITE = overwrite
    store = S3Storage()  # django-storages' default: overwrite
    first = store.save("o.txt", ContentFile(b"1"))
    second = store.save("o.txt", ContentFile(b"2"))
    assert (first == second) is same


def test_s3_querystring_auth_signs_urls_by_default(s3, settings) -> None:
    store = S3Storage()
    store.save("signed.txt", ContentFile(b"signed"))
    url = store.url("signed.txt")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
    assert _http.get(url).content == b"signed"


def test_s3_querystring_expire_and_the_expire_keyword(s3, settings) -> None:
    settings.AWS_QUERYSTRING_EXPIRE = 120
    store = S3Storage()
    store.save("e.txt", ContentFile(b"x"))
    assert "X-Amz-Expires=120" in store.url("e.txt")
    assert "X-Amz-Expires=60" in store.url("e.txt", expire=60)


def test_s3_url_parameters_reach_the_response(s3, settings) -> None:
    store = S3Storage()
    store.save("report.txt", ContentFile(b"r"))
    url = store.url("report.txt", parameters={"ResponseContentDisposition": "attachment"})
    assert _http.get(url).headers["content-disposition"] == "attachment"


def test_s3_url_http_method_signs_a_put(s3, settings) -> None:
    store = S3Storage()
    store.save("put.txt", ContentFile(b"old"))
    url = store.url("put.txt", http_method="PUT")
    assert url != store.url("put.txt")
    assert _http.put(url, content=b"new").status_code == 200
    assert s3_body(s3, settings.AWS_STORAGE_BUCKET_NAME, "put.txt") == b"new"


def test_s3_without_querystring_auth_urls_are_unsigned(s3, settings) -> None:
    settings.AWS_QUERYSTRING_AUTH = False
    store = S3Storage()
    store.save("dir/public file.txt", ContentFile(b"p"))
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    expected = f"{s3['SVC_S3_ENDPOINT'].rstrip('/')}/{bucket}/dir/public%20file.txt"
    assert store.url("dir/public file.txt") == expected


def test_s3_custom_domain_and_url_protocol(s3, settings) -> None:
    settings.AWS_S3_CUSTOM_DOMAIN = "cdn.example.com"
    settings.AWS_LOCATION = "static"
    assert S3Storage().url("css/a b.css") == "https://cdn.example.com/static/css/a%20b.css"
    settings.AWS_S3_URL_PROTOCOL = "http:"
    assert S3Storage().url("x.js") == "http://cdn.example.com/static/x.js"


def test_s3_object_parameters(s3, settings) -> None:
    settings.AWS_S3_OBJECT_PARAMETERS = {"CacheControl": "max-age=86400"}
    store = S3Storage()
    store.save("style.css", ContentFile(b"body{}"))
    reply = _http.get(store.url("style.css"))
    assert reply.headers["cache-control"] == "max-age=86400"
    assert reply.headers["content-type"].startswith("text/css")


def test_s3_options_win_over_settings(s3, settings) -> None:
    env = s3
    other = make_bucket(env, "dj-opt")
    store = S3Storage(bucket_name=other, location="opt", file_overwrite=False)
    store.save("a.txt", ContentFile(b"opt"))
    assert s3_body(env, other, "opt/a.txt") == b"opt"
    assert store.save("a.txt", ContentFile(b"again")) != "a.txt"


def test_s3_bad_configuration_is_improperly_configured(s3, settings) -> None:
    with pytest.raises(ImproperlyConfigured, match="unknown option"):
        S3Storage(bucket="typo")
    settings.AWS_STORAGE_BUCKET_NAME = None
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        S3Storage().exists("x")


def test_s3_settings_changes_are_followed(s3, settings) -> None:
    store = S3Storage()
    store.save("one.txt", ContentFile(b"1"))
    settings.AWS_LOCATION = "moved"
    assert not store.exists("one.txt")
    assert get_manager().has_mount(store.mount)


# ---------------------------------------------------------------- GCS
@pytest.fixture
def gcs(settings) -> dict[str, str]:
    env = require_services("gcs")
    del settings.GENRO_STORAGE_MOUNTS
    bucket = f"dj-gcs-{uuid.uuid4().hex[:10]}"
    gcs_fs(env).mkdir(bucket)
    settings.GS_BUCKET_NAME = bucket
    settings.GS_CREDENTIALS = "anon"
    settings.GS_ENDPOINT_URL = env["SVC_GCS_ENDPOINT"]
    settings.GS_PROJECT_ID = "test"
    return env


def gcs_object(env: dict[str, str], bucket: str, key: str) -> dict[str, Any]:
    base = env["SVC_GCS_ENDPOINT"].rstrip("/")
    reply = _http.get(f"{base}/storage/v1/b/{bucket}/o/{urllib.parse.quote(key, '')}")
    assert reply.status_code == 200, reply.text
    return dict(json.loads(reply.text))


def test_gcs_bucket_project_credentials_location(gcs, settings) -> None:
    settings.GS_LOCATION = "up"
    store = GoogleCloudStorage()
    store.save("g.txt", ContentFile(b"gcs"))
    assert gcs_object(gcs, settings.GS_BUCKET_NAME, "up/g.txt")["size"] == "3"
    config = mount_of(store)
    assert (config["project"], config["token"]) == ("test", "anon")


@pytest.mark.parametrize(("overwrite", "same"), [(None, True), (False, False)])
def test_gcs_file_overwrite(gcs, settings, overwrite: bool | None, same: bool) -> None:
    if overwrite is not None:
        settings.GS_FILE_OVERWRITE = overwrite
    store = GoogleCloudStorage()
    assert (
        store.save("o.txt", ContentFile(b"1")) == store.save("o.txt", ContentFile(b"2"))
    ) is same


def test_gcs_without_querystring_auth_urls_are_public(gcs, settings) -> None:
    settings.GS_QUERYSTRING_AUTH = False
    store = GoogleCloudStorage()
    store.save("pub/file.txt", ContentFile(b"public"))
    url = store.url("pub/file.txt")
    assert url == f"{gcs['SVC_GCS_ENDPOINT'].rstrip('/')}/{settings.GS_BUCKET_NAME}/pub/file.txt"
    assert _http.get(url).content == b"public"


def test_gcs_custom_endpoint(gcs, settings) -> None:
    settings.GS_CUSTOM_ENDPOINT = "https://cdn.example.com"
    settings.GS_LOCATION = "media"
    assert GoogleCloudStorage().url("a b.png") == "https://cdn.example.com/media/a%20b.png"


def test_gcs_expiration(gcs, settings) -> None:
    settings.GS_EXPIRATION = timedelta(minutes=5)
    assert GoogleCloudStorage()._options["querystring_expire"] == 300


def test_gcs_object_parameters(gcs, settings) -> None:
    settings.GS_OBJECT_PARAMETERS = {"cache_control": "no-cache"}
    GoogleCloudStorage().save("p.css", ContentFile(b"x"))
    found = gcs_object(gcs, settings.GS_BUCKET_NAME, "p.css")
    assert (found["cacheControl"], found["contentType"]) == ("no-cache", "text/css")


# ---------------------------------------------------------------- Azure
@pytest.fixture
def azure(settings) -> dict[str, str]:
    env = require_services("azure")
    del settings.GENRO_STORAGE_MOUNTS
    container = f"dj-az-{uuid.uuid4().hex[:10]}"
    azure_fs(env).mkdir(container)
    settings.AZURE_CONTAINER = container
    settings.AZURE_CONNECTION_STRING = env["SVC_AZURE_CONNECTION_STRING"]
    return env


def test_azure_container_connection_string_location(azure, settings) -> None:
    settings.AZURE_LOCATION = "loc"
    store = AzureStorage()
    store.save("z.txt", ContentFile(b"azure"))
    assert azure_fs(azure).cat_file(f"{settings.AZURE_CONTAINER}/loc/z.txt") == b"azure"
    assert mount_of(store)["account_name"] == "devstoreaccount1"  # from the string


def test_azure_account_name_and_key(azure, settings) -> None:
    settings.AZURE_ACCOUNT_NAME = "acct"
    settings.AZURE_ACCOUNT_KEY = "a2V5"
    settings.AZURE_SAS_TOKEN = "sv=1"
    config = mount_of(AzureStorage())
    assert (config["account_name"], config["account_key"], config["sas_token"]) == (
        "acct",
        "a2V5",
        "sv=1",
    )


@pytest.mark.parametrize(("overwrite", "same"), [(None, False), (True, True)])
def test_azure_overwrite_files(azure, settings, overwrite: bool | None, same: bool) -> None:
    if overwrite is not None:
        settings.AZURE_OVERWRITE_FILES = overwrite
    store = AzureStorage()  # django-storages' default: never overwrite
    assert (
        store.save("o.txt", ContentFile(b"1")) == store.save("o.txt", ContentFile(b"2"))
    ) is same


def test_azure_url_expiration_secs_signs(azure, settings) -> None:
    settings.AZURE_URL_EXPIRATION_SECS = 300
    store = AzureStorage()
    store.save("s.txt", ContentFile(b"sas"))
    url = store.url("s.txt")
    assert "sig=" in url
    assert _http.get(url).content == b"sas"


def test_azure_without_expiration_urls_are_unsigned(azure, settings) -> None:
    store = AzureStorage()
    store.save("u.txt", ContentFile(b"x"))
    url = store.url("u.txt")
    assert "?" not in url and url.endswith(f"/{settings.AZURE_CONTAINER}/u.txt")


def test_azure_custom_domain_and_ssl(azure, settings) -> None:
    settings.AZURE_CUSTOM_DOMAIN = "cdn.example.com"
    assert AzureStorage().url("a.txt") == (
        f"https://cdn.example.com/{settings.AZURE_CONTAINER}/a.txt"
    )
    settings.AZURE_SSL = False
    assert AzureStorage().url("a.txt").startswith("http://cdn.example.com/")


def test_azure_cache_control_and_object_parameters(azure, settings) -> None:
    settings.AZURE_CACHE_CONTROL = "max-age=30"
    settings.AZURE_OBJECT_PARAMETERS = {"content_disposition": "inline"}
    settings.AZURE_URL_EXPIRATION_SECS = 60
    store = AzureStorage()
    store.save("c.css", ContentFile(b"x"))
    reply = _http.get(store.url("c.css"))
    assert reply.headers["cache-control"] == "max-age=30"
    assert reply.headers["content-disposition"] == "inline"
    assert reply.headers["content-type"].startswith("text/css")


# ---------------------------------------------------------------- manage.py check
@pytest.mark.parametrize(
    "module",
    [
        "tests.integrations.django_project.settings",  # GenroStorage for media and static
        "tests.integrations.django_static.settings",  # GenroStaticStorage + the middleware
    ],
)
def test_manage_py_check_is_clean_for_our_storages(tmp_path: Path, module: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    (tmp_path / "src").mkdir()
    (tmp_path / "collected").mkdir()
    env["STATIC_SITE_SRC"] = str(tmp_path / "src")
    env["STATIC_SITE_MOUNT"] = json.dumps({"type": "local", "path": str(tmp_path / "collected")})
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "check",
            f"--settings={module}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "System check identified no issues" in run.stdout, run.stdout + run.stderr
    assert "WARNING" not in run.stderr, run.stderr
    # the Django of this run (4.2 under test_django_42.py), not whatever the venv holds
    version = subprocess.run(
        [sys.executable, "-m", "django", "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    import django

    assert version.stdout.strip() == django.get_version()
