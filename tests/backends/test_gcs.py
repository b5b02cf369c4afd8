"""GCS features on fake-gcs-server: metadata, signed URLs, MD5 from the stored md5Hash.

fake-gcs-server does not check credentials nor URL signatures. So signed URLs are made
with a throwaway service-account key (signing is local, no token is ever fetched), the
download proves the URL points at the right object, and the V4 signature is verified
here against the key's public half.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from genro_storage import StorageManager
from genro_storage.errors import CapabilityError, StorageNotFoundError
from tests.backends.conftest import unique
from tests.services import require_services

pytestmark = pytest.mark.services


def md5(data: bytes | str) -> str:
    return hashlib.md5(data.encode() if isinstance(data, str) else data).hexdigest()


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return require_services("gcs")


@pytest.fixture(scope="module")
def signer_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def service_account(signer_key: Any) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization

    pem = signer_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": "test",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "signer@test.iam.gserviceaccount.com",
        "client_id": "1",
        # never contacted: signing needs no token, and this mount makes no requests
        "token_uri": "http://127.0.0.1:9/token",
    }


@pytest.fixture(scope="module")
def manager(env: dict[str, str], service_account: dict[str, str]) -> StorageManager:
    """Mounts of one fresh bucket: ``gcs`` and ``gcs2`` anonymous (two clients, no shared
    cache), ``signer`` with a service-account key (used for signing only)."""
    import gcsfs

    bucket = unique("genro-gcs")
    fs = gcsfs.GCSFileSystem(endpoint_url=env["SVC_GCS_ENDPOINT"], token="anon", project="test")
    fs.mkdir(bucket)
    common = {"type": "gcs", "bucket": bucket, "endpoint_url": env["SVC_GCS_ENDPOINT"]}
    manager = StorageManager()
    manager.configure(
        [
            {"name": "gcs", **common, "token": "anon", "project": "test"},
            {"name": "gcs2", **common, "token": "anon", "project": "test"},
            {"name": "signer", **common, "token": service_account, "project": "test"},
        ]
    )
    return manager


@pytest.fixture
def area(manager: StorageManager) -> str:
    """A fresh directory of the bucket, for one test."""
    return unique("d")


def test_metadata_round_trip_merges_and_keeps_the_content(
    manager: StorageManager, area: str
) -> None:
    node = manager.node(f"gcs:{area}/doc.txt")
    node.write("payload")
    assert node.get_metadata() == {}

    node.set_metadata({"owner": "ana", "state": "draft"})
    node.set_metadata({"state": "final"})

    assert node.get_metadata() == {"owner": "ana", "state": "final"}
    assert manager.node(f"gcs2:{area}/doc.txt").get_metadata() == {
        "owner": "ana",
        "state": "final",
    }  # really stored: another mount (another client, no cache) sees it
    assert node.read() == "payload"


def test_metadata_of_a_missing_file_and_bad_values(manager: StorageManager, area: str) -> None:
    missing = manager.node(f"gcs:{area}/missing.txt")
    with pytest.raises(StorageNotFoundError, match="'gcs'"):
        missing.get_metadata()
    with pytest.raises(FileNotFoundError):
        missing.set_metadata({"a": "b"})
    node = manager.node(f"gcs:{area}/doc.txt")
    node.write("x")
    with pytest.raises(ValueError):
        node.set_metadata({"n": 1})  # type: ignore[dict-item]


def test_metadata_takes_any_text_in_keys_and_values(manager: StorageManager, area: str) -> None:
    node = manager.node(f"gcs:{area}/doc.txt")
    node.write("x")
    metadata = {"Owner": "Ünï", "a b": "two\nlines"}  # JSON resource: no header rules
    node.set_metadata(metadata)
    assert manager.node(f"gcs2:{area}/doc.txt").get_metadata() == metadata


@pytest.mark.parametrize(
    ("metadata", "message"),
    [({"": "v"}, "must not be empty"), ({"big": "a" * 8200}, "too large")],
    ids=["empty-key", "over-8kib"],
)
def test_metadata_gcs_cannot_store_is_refused_before_sending(
    manager: StorageManager, area: str, metadata: dict[str, str], message: str
) -> None:
    node = manager.node(f"gcs:{area}/doc.txt")
    node.write("x")
    node.set_metadata({"keep": "me"})
    with pytest.raises(ValueError, match=message):
        node.set_metadata(metadata)
    assert manager.node(f"gcs2:{area}/doc.txt").get_metadata() == {"keep": "me"}


def test_md5hash_is_the_stored_md5_without_reading_the_content(
    manager: StorageManager, area: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = os.urandom(200_000)
    node = manager.node(f"gcs:{area}/blob.bin")
    node.write(content, "wb")
    assert node.capabilities.hash_on_metadata
    assert node.stat().md5 == md5(content)  # md5Hash of the object resource

    backend = manager._mounts["gcs"]

    def no_reads(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("md5hash read the content")

    for name in ("open", "read_bytes", "iter_bytes", "read_range"):
        monkeypatch.setattr(backend, name, no_reads)
    assert node.md5hash == md5(content)


def test_md5hash_of_a_resumable_upload(manager: StorageManager, area: str) -> None:
    content = os.urandom(5 * 1024 * 1024)  # over one 4 MiB block: a resumable upload
    node = manager.node(f"gcs:{area}/big.bin")
    with node.open("wb") as fh:
        fh.write(content)
    assert node.stat().md5 == md5(content)  # GCS computes md5Hash for every object
    assert node.md5hash == md5(content)


def test_signed_url_downloads_the_exact_bytes_and_is_validly_signed(
    manager: StorageManager, area: str, signer_key: Any, service_account: dict[str, str]
) -> None:
    payload = bytes(range(256)) * 40
    manager.node(f"gcs:{area}/ü x #1.bin").write(payload, "wb")
    signer = manager.node(f"signer:{area}/ü x #1.bin")

    assert signer.capabilities.presigned_urls
    url = signer.url(expires_in=90)

    assert url is not None
    with urllib.request.urlopen(url, timeout=10) as resp:  # loopback emulator
        assert resp.read() == payload
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Goog-Expires"] == "90"
    assert query["X-Goog-Credential"].startswith(service_account["client_email"] + "/")
    verify_v4_signature(url, signer_key)


def verify_v4_signature(url: str, key: Any) -> None:
    """Check a GOOG4-RSA-SHA256 query signature (raises InvalidSignature if wrong)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    signature = bytes.fromhex(dict(query)["X-Goog-Signature"])
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(query)
        if k != "X-Goog-Signature"
    )
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    fields = dict(query)
    scope = fields["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        [
            fields["X-Goog-Algorithm"],
            fields["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key.public_key().verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_anonymous_mount_cannot_sign_and_says_so(manager: StorageManager, area: str) -> None:
    node = manager.node(f"gcs:{area}/doc.txt")
    node.write("x")
    # anonymous credentials hold no private key: the capability must not be claimed
    assert node.capabilities.presigned_urls is False
    with pytest.raises(CapabilityError, match=r"mount 'gcs'.*private key"):
        node.url()


def test_versions_are_empty_and_versioned_open_is_refused(
    manager: StorageManager, area: str
) -> None:
    node = manager.node(f"gcs:{area}/doc.txt")
    node.write("x")
    assert node.versions == []
    assert node.capabilities.versioning is False
    with pytest.raises(PermissionError, match="does not support versioning"):
        node.open(version=0)
