"""Smoke tests: each real test service answers through its fsspec client.

These prove the harness (scripts/services-start.sh + tests/services.py), not
genro_storage: a failure here means a server or a client pin is broken, before
any backend test runs. Run them with ``bash scripts/test.sh tests/test_services.py``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

import fsspec
import pytest

from tests.services import (
    ENV_VAR,
    SERVICE_KEYS,
    github_stub_filesystem_class,
    load_services,
    require_services,
    service_address,
)

TAG = uuid.uuid4().hex[:8]


def crud(fs, root: str) -> None:
    """Write, read, range-read, list and delete under ``root`` through ``fs``."""
    a, b = f"{root}/sub/a.txt", f"{root}/sub/b.bin"
    fs.pipe(a, b"hello")
    with fs.open(b, "wb") as f:
        f.write(b"x" * 100_000)
    assert fs.cat(a) == b"hello"
    assert fs.size(b) == 100_000
    assert fs.cat_file(b, start=10, end=20) == b"x" * 10
    names = sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(f"{root}/sub", detail=False))
    assert names == ["a.txt", "b.bin"]
    fs.rm(a)
    fs.invalidate_cache()
    assert not fs.exists(a)
    fs.rm(root, recursive=True)
    fs.invalidate_cache()
    assert not fs.exists(b)


# ---------------------------------------------------------------- one per service


@pytest.mark.services
def test_s3_moto():
    env = require_services("s3")
    fs = fsspec.filesystem(
        "s3",
        key=env["SVC_S3_KEY"],
        secret=env["SVC_S3_SECRET"],
        client_kwargs={"endpoint_url": env["SVC_S3_ENDPOINT"]},  # no region_name
        skip_instance_cache=True,
    )
    bucket = f"smoke-{TAG}"
    fs.mkdir(bucket)
    crud(fs, f"{bucket}/t")
    fs.pipe(f"{bucket}/e.txt", b"etag")
    assert fs.info(f"{bucket}/e.txt")["ETag"].strip('"') == hashlib.md5(b"etag").hexdigest()
    fs.rm(bucket, recursive=True)
    fs.invalidate_cache()
    assert not fs.exists(bucket)


@pytest.mark.services
def test_azure_azurite():
    env = require_services("azure")
    fs = fsspec.filesystem(
        "abfs", connection_string=env["SVC_AZURE_CONNECTION_STRING"], skip_instance_cache=True
    )
    container = f"smoke-{TAG}"
    fs.mkdir(container)
    crud(fs, f"{container}/t")
    fs.rm(container, recursive=True)
    fs.invalidate_cache()
    assert not fs.exists(container)


@pytest.mark.services
def test_gcs_fake_gcs_server():
    env = require_services("gcs")
    assert os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] == "false"
    fs = fsspec.filesystem(
        "gcs",
        endpoint_url=env["SVC_GCS_ENDPOINT"],
        token="anon",
        project="test",
        skip_instance_cache=True,
    )
    bucket = f"smoke-{TAG}"
    fs.mkdir(bucket)
    crud(fs, f"{bucket}/t")
    fs.rm(bucket, recursive=True)
    fs.invalidate_cache()
    assert not fs.exists(bucket)


@pytest.mark.services
@pytest.mark.parametrize("auth", ["key", "password"])
def test_sftp_sshd(auth):
    env = require_services("sftp")
    if auth == "key":
        secret = {"key_filename": env["SVC_SFTP_KEY"]}
    else:
        secret = {"password": env["SVC_SFTP_PASSWORD"]}
    fs = fsspec.filesystem(
        "sftp",
        host=env["SVC_SFTP_HOST"],
        port=int(env["SVC_SFTP_PORT"]),
        username=env["SVC_SFTP_USER"],
        look_for_keys=False,
        allow_agent=False,
        skip_instance_cache=True,
        **secret,
    )
    root = f"{env['SVC_SFTP_ROOT']}/{TAG}-{auth}"
    fs.makedirs(f"{root}/sub", exist_ok=True)
    crud(fs, root)
    fs.client.close()


@pytest.mark.services
def test_webdav_wsgidav():
    env = require_services("webdav")
    fs = fsspec.filesystem(
        "webdav",
        base_url=env["SVC_WEBDAV_URL"],
        auth=(env["SVC_WEBDAV_USER"], env["SVC_WEBDAV_PASSWORD"]),
        skip_instance_cache=True,
    )
    fs.makedirs(f"{TAG}/sub", exist_ok=True)
    crud(fs, TAG)
    fs.client.http.close()  # webdav4 never closes its httpx client: ResourceWarning


@pytest.mark.services
def test_smb_samba():
    env = require_services("smb")
    fs = fsspec.filesystem(
        "smb",
        host=env["SVC_SMB_HOST"],
        port=int(env["SVC_SMB_PORT"]),
        username=env["SVC_SMB_USER"],
        password=env["SVC_SMB_PASSWORD"],
        register_session_retries=0,
        skip_instance_cache=True,
    )
    root = f"/{env['SVC_SMB_SHARE']}/{TAG}"
    fs.makedirs(f"{root}/sub", exist_ok=True)
    crud(fs, root)


@pytest.mark.services
def test_http_nginx():
    env = require_services("http")
    base = env["SVC_HTTP_URL"]
    fs = fsspec.filesystem("http", skip_instance_cache=True)
    assert fs.cat(f"{base}/a.txt") == b"hello http\n"
    listed = fs.ls(f"{base}/", detail=False)
    # the conformance suite builds its read fixture in conf-* folders of the same web root
    assert sorted(u for u in listed if "/conf-" not in u) == [f"{base}/a.txt", f"{base}/sub/"]
    assert fs.info(f"{base}/sub/big.bin")["size"] == 1_000_000
    assert fs.cat_file(f"{base}/sub/big.bin", start=999_990, end=1_000_000) == b"h" * 10
    assert not fs.exists(f"{base}/nope.txt")


@pytest.mark.services
def test_git_fixture():
    env = require_services("git")
    repo = env["SVC_GIT_REPO"]
    fs = fsspec.filesystem("git", path=repo, ref="main", skip_instance_cache=True)
    assert sorted(fs.ls("", detail=False)) == ["a.txt", "sub"]
    assert fs.cat("a.txt") == b"v2\n"
    assert fs.cat("a.txt", ref="v1") == b"v1\n"
    with fsspec.open(f"git://{repo}:v1@sub/n.txt") as f:
        assert f.read() == b"nested\n"


@pytest.mark.services
@pytest.mark.parametrize("key", ["SVC_ARCHIVE_7Z", "SVC_ARCHIVE_TARXZ"])
def test_libarchive_fixtures(key):
    env = require_services("libarchive")
    fs = fsspec.filesystem("libarchive", fo=env[key], skip_instance_cache=True)
    assert sorted(fs.find("")) == ["a.txt", "sub/n.txt", "sub/r.bin"]
    with open(os.path.join(env["SVC_ARCHIVE_SRC"], "sub", "r.bin"), "rb") as fh:
        assert fs.cat("sub/r.bin") == fh.read()
    assert fs.cat("a.txt") == b"hello archive\n"


@pytest.mark.services
def test_github_stub():
    import requests

    env = require_services("github")
    api = env["SVC_GITHUB_API"]
    local_github = github_stub_filesystem_class(api)
    assert github_stub_filesystem_class(api) is local_github
    repo = f"smoke-{TAG}"  # a fresh copy of the git fixture

    fs = local_github(org="o", repo=repo, username="u", token="t", skip_instance_cache=True)
    assert fs.root == "main"  # default branch asked from the stub, not api.github.com
    assert sorted(fs.find("")) == ["a.txt", "sub/n.txt"]
    assert fs.cat("a.txt") == b"v2\n"
    assert fs.open("a.txt", sha="v1").read() == b"v1\n"
    assert fs.tags == ["v1"]
    assert fs.branches == ["main"]
    assert repo in local_github.repos("o")

    # files over 1 MiB come through download_url, like on GitHub
    big = os.urandom(1_500_000)
    put = requests.put(
        f"{api}/repos/o/{repo}/contents/big.bin",
        json={"message": "add big", "content": base64.b64encode(big).decode(), "branch": "main"},
        auth=("u", "t"),
        timeout=30,
    )
    assert put.status_code == 201, put.text
    fs.invalidate_cache()
    with fs.open("big.bin") as f:
        assert f.read() == big

    fs.rm("sub/n.txt")
    fresh = local_github(org="o", repo=repo, sha="main", skip_instance_cache=True)
    assert sorted(fresh.find("")) == ["a.txt", "big.bin"]
    other = local_github(org="o", repo=f"other-{TAG}", sha="main", skip_instance_cache=True)
    assert sorted(other.find("")) == ["a.txt", "sub/n.txt"]  # untouched copy
    with pytest.raises(requests.HTTPError):
        local_github(org="o", repo="missing-repo", skip_instance_cache=True)


@pytest.mark.services
def test_github_stub_contents_api_writes():
    """PUT / DELETE on the contents API behave as GitHub documents them."""
    import requests

    env = require_services("github")
    base = f"{env['SVC_GITHUB_API']}/repos/o/writes-{TAG}/contents"

    def call(method, path, auth=("u", "t"), **body):
        return requests.request(method, f"{base}/{path}", json=body, auth=auth, timeout=30)

    def b64(data):
        return base64.b64encode(data).decode()

    assert call("PUT", "new.txt", auth=None, message="m", content=b64(b"x")).status_code == 401
    created = call("PUT", "d/new.txt", message="add", content=b64(b"one"))
    assert created.status_code == 201
    sha = created.json()["content"]["sha"]
    assert call("PUT", "d/new.txt", message="no sha", content=b64(b"two")).status_code == 422
    assert (
        call("PUT", "d/new.txt", message="bad", content=b64(b"two"), sha="0" * 40).status_code
        == 409
    )
    updated = call("PUT", "d/new.txt", message="update", content=b64(b"two"), sha=sha)
    assert updated.status_code == 200
    got = requests.get(f"{base}/d/new.txt?ref=main", timeout=30).json()
    assert base64.b64decode(got["content"]) == b"two"
    listing = requests.get(f"{base}/d", timeout=30).json()
    assert [(e["name"], e["type"]) for e in listing] == [("new.txt", "file")]
    gone = call("DELETE", "d/new.txt", message="rm", sha=got["sha"], branch="nope")
    assert gone.status_code == 404 and "Branch nope not found" in gone.json()["message"]
    assert call("DELETE", "d/new.txt", message="rm", sha=got["sha"]).status_code == 200
    assert requests.get(f"{base}/d/new.txt", timeout=30).status_code == 404


# ---------------------------------------------------------------- the helper itself


def test_load_services_parses_env_file(tmp_path):
    f = tmp_path / "services.env"
    f.write_text("# comment\nA='x=1;y'\n\nB=plain\n")
    assert load_services(str(f)) == {"A": "x=1;y", "B": "plain"}


@pytest.fixture(autouse=True)
def _not_the_fast_tier(monkeypatch):
    """These tests check require_services() itself, as a full run sees it."""
    monkeypatch.delenv("GENRO_FAST", raising=False)


def test_require_services_skips_in_the_fast_tier_even_in_ci(monkeypatch):
    monkeypatch.setenv("GENRO_FAST", "1")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.skip.Exception, match=r"fast tier"):
        require_services("s3")


def test_require_services_skips_without_services_outside_ci(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"bash scripts/test\.sh"):
        require_services("s3")


def test_require_services_fails_without_services_in_ci(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require_services("s3")


def test_require_services_fails_on_missing_or_dead_service(monkeypatch, tmp_path):
    f = tmp_path / "services.env"
    # port 1 on loopback: nothing listens there
    f.write_text("SVC_SERVICES='s3 gcs'\nSVC_GCS_ENDPOINT='http://127.0.0.1:1'\n")
    monkeypatch.setenv(ENV_VAR, str(f))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"s3: not in services\.env"):
        require_services("s3")
    with pytest.raises(pytest.fail.Exception, match="gcs: nothing answers"):
        require_services("gcs")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "gone.env"))
    with pytest.raises(pytest.fail.Exception, match="does not exist"):
        require_services("s3")
    with pytest.raises(ValueError):
        require_services("ftp")


def test_require_services_skips_left_out_service_only_outside_ci(monkeypatch, tmp_path):
    f = tmp_path / "services.env"
    f.write_text("SVC_SERVICES='gcs'\n")
    monkeypatch.setenv(ENV_VAR, str(f))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="GENRO_SVC_ONLY"):
        require_services("s3")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception):
        require_services("s3")


def test_every_network_service_has_an_address():
    env = {k: "x" for keys in SERVICE_KEYS.values() for k in keys}
    env.update(
        SVC_S3_ENDPOINT="http://127.0.0.1:1",
        SVC_AZURE_CONNECTION_STRING="AccountName=a;BlobEndpoint=http://127.0.0.1:2/a;",
        SVC_GCS_ENDPOINT="http://127.0.0.1:3",
        SVC_SFTP_HOST="127.0.0.1",
        SVC_SFTP_PORT="4",
        SVC_WEBDAV_URL="http://127.0.0.1:5",
        SVC_SMB_HOST="127.0.0.1",
        SVC_SMB_PORT="6",
        SVC_HTTP_URL="http://127.0.0.1:7",
        SVC_GITHUB_API="http://127.0.0.1:8",
    )
    ports = {n: service_address(n, env) for n in SERVICE_KEYS}
    assert ports["git"] is None and ports["libarchive"] is None
    assert sorted(p[1] for p in ports.values() if p) == [1, 2, 3, 4, 5, 6, 7, 8]
