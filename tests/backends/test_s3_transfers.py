"""S3 transfers on a real S3 API (moto server): the requests each copy route sends.

moto's request recorder counts what reaches the server; the once-per-mount bucket
versioning probe is not part of a copy and must not be sent by one.
"""

from __future__ import annotations

from typing import Any

import pytest

from genro_storage import StorageManager
from tests.backends.conftest import unique
from tests.remote import S3Requests, s3_client
from tests.services import require_services

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return require_services("s3")


@pytest.fixture(scope="module")
def client(env: dict[str, str]) -> Any:
    return s3_client(env)


def _mount(
    env: dict[str, str], name: str, bucket: str, prefix: str, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "type": "s3",
        "bucket": bucket,
        "prefix": prefix,
        "key": env["SVC_S3_KEY"],
        "secret": env["SVC_S3_SECRET"],
        "endpoint_url": env["SVC_S3_ENDPOINT"],
        **extra,
    }


@pytest.fixture(scope="module")
def storage(env: dict[str, str], client: Any) -> StorageManager:
    """``a`` and ``b``: two prefixes of one bucket; ``c``: another bucket; ``other``:
    the bucket of ``a`` under other credentials (moto accepts any key)."""
    first, second = unique("genro-xfer"), unique("genro-xfer")
    client.create_bucket(Bucket=first)
    client.create_bucket(Bucket=second)
    manager = StorageManager()
    manager.configure(
        [
            _mount(env, "a", first, "pa"),
            _mount(env, "b", first, "pb"),
            _mount(env, "c", second, ""),
            {**_mount(env, "other", first, "po"), "key": "another", "secret": "another"},
        ]
    )
    return manager


def _summary(recorder: S3Requests) -> list[str]:
    return [f"{r['method']} {r['url'].split('?')[0].rsplit('/', 1)[-1]}" for r in recorder.requests]


@pytest.mark.parametrize("dest_mount", ["a", "b", "c"])
def test_a_server_side_copy_is_one_head_and_one_copy_object(
    storage: StorageManager, client: Any, env: dict[str, str], dest_mount: str
) -> None:
    name = unique("f")
    src = storage.node(f"a:{name}.json")
    src.write_bytes(b'{"k": 1}')
    src.set_metadata({"origin": "test"})
    dest = storage.node(f"{dest_mount}:copies/{name}.json")

    with S3Requests(env["SVC_S3_ENDPOINT"]) as recorder:
        src.copy_to(dest)

    # the source's stat (HEAD) and CopyObject: no listing, no second HEAD, no GET
    assert _summary(recorder) == [f"HEAD {name}.json", f"PUT {name}.json"]
    assert any(k.lower() == "x-amz-copy-source" for k in recorder.requests[1]["headers"])
    assert dest.read_bytes() == b'{"k": 1}'
    assert dest.get_metadata() == {"origin": "test"}  # S3 copies metadata and headers
    assert dest.mimetype == "application/json"


def test_a_tree_copy_between_prefixes_sends_no_get(
    storage: StorageManager, env: dict[str, str]
) -> None:
    base = unique("t")
    for i in range(5):
        storage.node(f"a:{base}/d{i % 2}/f{i}.txt").write_text(f"file {i}")

    with S3Requests(env["SVC_S3_ENDPOINT"]) as recorder:
        storage.node(f"a:{base}").copy_to(f"b:{base}")

    methods = [r["method"] for r in recorder.requests]
    assert methods.count("PUT") == 5
    assert all(
        any(k.lower() == "x-amz-copy-source" for k in r["headers"])
        for r in recorder.requests
        if r["method"] == "PUT"
    )
    # GETs are listings only (the source's stat, its walk): no object is downloaded
    assert all("list-type=2" in r["url"] for r in recorder.requests if r["method"] == "GET")
    assert storage.node(f"b:{base}/d1/f3.txt").read_text() == "file 3"


def test_other_credentials_stream_the_bytes(storage: StorageManager, env: dict[str, str]) -> None:
    """Another account cannot be assumed to read the source: the bytes go through us."""
    name = unique("f")
    storage.node(f"a:{name}.txt").write_text("streamed")

    with S3Requests(env["SVC_S3_ENDPOINT"]) as recorder:
        storage.node(f"a:{name}.txt").copy_to(f"other:{name}.txt")

    methods = [r["method"] for r in recorder.requests]
    assert "GET" in methods
    assert not any(
        any(k.lower() == "x-amz-copy-source" for k in r["headers"]) for r in recorder.requests
    )
    assert storage.node(f"other:{name}.txt").read_text() == "streamed"
