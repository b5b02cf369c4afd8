"""Azure Blob features on Azurite: metadata, SAS URLs, MD5 from the blob's Content-MD5.

Azurite checks shared-key and SAS signatures, so a SAS URL that downloads is a valid one
(and a tampered one is refused, which the tests check too).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from genro_storage import StorageManager
from genro_storage.errors import CapabilityError, StorageNotFoundError
from tests.backends.conftest import unique
from tests.services import require_services

pytestmark = pytest.mark.services

ACCOUNT = "devstoreaccount1"


def md5(data: bytes | str) -> str:
    return hashlib.md5(data.encode() if isinstance(data, str) else data).hexdigest()


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return require_services("azure")


@pytest.fixture(scope="module")
def service(env: dict[str, str]) -> Any:
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(env["SVC_AZURE_CONNECTION_STRING"])


@pytest.fixture(scope="module")
def container(service: Any) -> str:
    name = unique("genro-az")
    service.create_container(name)
    return name


def sas_connection_string(env: dict[str, str]) -> str:
    """A connection string holding an account SAS instead of the account key."""
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    fields = dict(
        item.split("=", 1) for item in env["SVC_AZURE_CONNECTION_STRING"].split(";") if item
    )
    sas = generate_account_sas(
        ACCOUNT,
        fields["AccountKey"],
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, list=True, delete=True),
        expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1),
    )
    return f"BlobEndpoint={fields['BlobEndpoint']};SharedAccessSignature={sas}"


@pytest.fixture(scope="module")
def manager(env: dict[str, str], container: str) -> StorageManager:
    """``az`` and ``az2``: the container with the account key; ``azsas``: with a SAS only."""
    conn = env["SVC_AZURE_CONNECTION_STRING"]
    common = {"type": "azure", "container": container, "account_name": ACCOUNT}
    manager = StorageManager()
    manager.configure(
        [
            {"name": "az", **common, "connection_string": conn},
            {"name": "az2", **common, "connection_string": conn},
            {"name": "azsas", **common, "connection_string": sas_connection_string(env)},
        ]
    )
    return manager


@pytest.fixture
def area() -> str:
    """A fresh directory of the container, for one test."""
    return unique("d")


def test_metadata_round_trip_merges_and_keeps_the_content(
    manager: StorageManager, service: Any, container: str, area: str
) -> None:
    node = manager.node(f"az:{area}/doc.txt")
    node.write("payload")
    assert node.get_metadata() == {}

    node.set_metadata({"owner": "ana", "state": "draft"})
    node.set_metadata({"state": "final"})

    assert node.get_metadata() == {"owner": "ana", "state": "final"}
    assert manager.node(f"az2:{area}/doc.txt").get_metadata() == {
        "owner": "ana",
        "state": "final",
    }
    props = service.get_blob_client(container, f"{area}/doc.txt").get_blob_properties()
    assert dict(props.metadata) == {"owner": "ana", "state": "final"}
    assert node.read() == "payload"
    assert node.md5hash == md5("payload")


def test_metadata_of_a_missing_file_and_bad_values(manager: StorageManager, area: str) -> None:
    missing = manager.node(f"az:{area}/missing.txt")
    with pytest.raises(StorageNotFoundError, match="'az'"):
        missing.get_metadata()
    with pytest.raises(FileNotFoundError):
        missing.set_metadata({"a": "b"})
    node = manager.node(f"az:{area}/doc.txt")
    node.write("x")
    with pytest.raises(ValueError):
        node.set_metadata({"n": 1})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"x-y": "1"}, "invalid metadata key 'x-y'"),
        ({"1st": "1"}, "invalid metadata key '1st'"),
        ({"k": "ünï"}, "printable ASCII"),
        ({"": "v"}, "must not be empty"),
        ({"big": "a" * 8200}, "too large"),
    ],
    ids=["dash-in-key", "leading-digit", "non-ascii-value", "empty-key", "over-8kib"],
)
def test_metadata_azure_cannot_store_is_refused_before_sending(
    manager: StorageManager, area: str, metadata: dict[str, str], message: str
) -> None:
    # adlfs reports any failure of this call as "file not found": refuse it up front
    node = manager.node(f"az:{area}/doc.txt")
    node.write("x")
    node.set_metadata({"keep": "me"})
    with pytest.raises(ValueError, match=message) as refused:
        node.set_metadata(metadata)
    assert "'az'" in str(refused.value)
    assert manager.node(f"az2:{area}/doc.txt").get_metadata() == {"keep": "me"}


def test_sas_url_downloads_the_exact_bytes(manager: StorageManager, area: str) -> None:
    payload = bytes(range(256)) * 40 + os.urandom(999)
    node = manager.node(f"az:{area}/ü x #1.bin")
    node.write(payload, "wb")

    assert node.capabilities.presigned_urls
    url = node.url(expires_in=90)

    assert url is not None
    with urllib.request.urlopen(url, timeout=10) as resp:  # loopback Azurite
        assert resp.read() == payload
    query = parse_qs(urlsplit(url).query)
    assert query["sp"] == ["r"]  # read-only
    expiry = datetime.datetime.fromisoformat(query["se"][0].replace("Z", "+00:00"))
    left = expiry - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(seconds=30) < left <= datetime.timedelta(seconds=91)
    tampered = url.replace("sig=", "sig=A", 1)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered, timeout=10)
    refused.value.close()
    assert refused.value.code == 403  # Azurite checks the signature


def test_mount_without_the_account_key_cannot_sign_and_says_so(
    manager: StorageManager, area: str
) -> None:
    manager.node(f"az:{area}/doc.txt").write("x")
    node = manager.node(f"azsas:{area}/doc.txt")
    assert node.read() == "x"  # the SAS credentials work for everything else

    # a SAS for one blob is signed with the account key, which this mount does not have
    assert node.capabilities.presigned_urls is False
    with pytest.raises(CapabilityError, match=r"mount 'azsas'.*account key"):
        node.url()


def test_md5hash_is_the_stored_content_md5(
    manager: StorageManager, service: Any, container: str, area: str
) -> None:
    from azure.storage.blob import ContentSettings

    node = manager.node(f"az:{area}/blob.bin")
    content = os.urandom(100_000)
    node.write(content, "wb")
    assert node.capabilities.hash_on_metadata
    assert node.stat().md5 == md5(content)
    assert node.md5hash == md5(content)

    # Proof that md5hash trusts the stored property and does not read the content: set
    # Content-MD5 to a value that no content has, out of band.
    blob = service.get_blob_client(container, f"{area}/blob.bin")
    blob.set_http_headers(ContentSettings(content_md5=bytearray(b"\x01" * 16)))
    assert node.md5hash == "01" * 16


def test_md5hash_of_a_block_upload_without_content_md5_hashes_the_content(
    manager: StorageManager, area: str
) -> None:
    content = os.urandom(5 * 1024 * 1024)  # over one 4 MiB block: staged blocks
    node = manager.node(f"az:{area}/big.bin")
    with node.open("wb") as fh:
        fh.write(content)
    assert node.stat().md5 is None  # a committed block list carries no Content-MD5
    assert node.md5hash == md5(content)


def test_versions_are_empty_and_versioned_open_is_refused(
    manager: StorageManager, area: str
) -> None:
    node = manager.node(f"az:{area}/doc.txt")
    node.write("x")
    assert node.versions == []
    assert node.capabilities.versioning is False
    with pytest.raises(PermissionError, match="does not support versioning"):
        node.open(version=0)
