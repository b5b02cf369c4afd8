"""Large S3 objects down to a local disk (``backends/_s3download``), on a real S3 API,
and what an upload over plain HTTP hashes.

moto's request recorder shows the GETs and their ``Range`` / ``If-Match`` headers; the
fault cases go through ``bench.netproxy`` (responses cut in the middle of the body).
"""

from __future__ import annotations

import hashlib
import os
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from bench.netproxy import Fault, NetProxy
from genro_storage import StorageManager
from genro_storage.backends import _s3download
from genro_storage.errors import StorageError
from tests._procs import free_port
from tests.backends.conftest import unique
from tests.remote import S3Requests, s3_client
from tests.services import require_services

pytestmark = pytest.mark.services

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return require_services("s3")


@pytest.fixture(scope="module")
def client(env: dict[str, str]) -> Any:
    return s3_client(env)


@pytest.fixture(scope="module")
def bucket(client: Any) -> str:
    name = unique("genro-down")
    client.create_bucket(Bucket=name)
    return name


def _s3(env: dict[str, str], bucket: str, endpoint: str | None = None, **extra: Any) -> Any:
    return {
        "type": "s3",
        "bucket": bucket,
        "prefix": "p",
        "key": env["SVC_S3_KEY"],
        "secret": env["SVC_S3_SECRET"],
        "endpoint_url": endpoint or env["SVC_S3_ENDPOINT"],
        **extra,
    }


#: objects over 5 MiB come in ranges, 3 at once (the defaults: 200 MiB and 5)
RANGED = {"multipart_threshold": 5 * MiB, "download_concurrency": 3}


#: both S3 clients of a mount: the downloads go the same way (``RangedDownload``)
CLIENTS = ["botocore", "obstore"]


@pytest.fixture(params=CLIENTS)
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, env: dict[str, str], bucket: str
) -> StorageManager:
    """``disk`` on ``tmp_path``; ``s3`` ranged above 5 MiB; ``whole``: the defaults."""
    client = {"client": request.param}
    manager = StorageManager()
    manager.configure(
        [
            {"name": "disk", "type": "local", "path": str(tmp_path)},
            {"name": "s3", **_s3(env, bucket, **RANGED, **client)},
            {"name": "whole", **_s3(env, bucket, **client)},
        ]
    )
    return manager


def _gets(recorder: S3Requests, name: str) -> list[dict[str, str]]:
    """The headers of each GET of object ``name`` (lower-case names), in arrival order."""
    return [
        {k.lower(): v for k, v in r["headers"].items()}
        for r in recorder.requests
        if r["method"] == "GET" and r["url"].split("?")[0].endswith(f"/{name}")
    ]


def _spans(gets: list[dict[str, str]]) -> list[tuple[int, int]]:
    """The byte ranges asked (a plain GET: ``(0, -1)``)."""
    spans = []
    for headers in gets:
        if "range" not in headers:
            spans.append((0, -1))
            continue
        found = re.fullmatch(r"bytes=(\d+)-(\d*)", headers["range"])
        assert found, headers["range"]
        spans.append((int(found.group(1)), int(found.group(2))))
    return sorted(spans)


def _put(client: Any, bucket: str, key: str, data: bytes) -> str:
    client.put_object(Bucket=bucket, Key=f"p/{key}", Body=data)
    return hashlib.md5(data).hexdigest()


def test_a_large_object_comes_in_parallel_ranges_written_in_place(
    storage: StorageManager, client: Any, env: dict[str, str], bucket: str, tmp_path: Path
) -> None:
    """A single-file copy: the first GET is a plain one (it gives the size), read for a
    third of the object and closed; the rest comes as 2 ranges at once (3 streams) with
    the first answer's ETag in ``If-Match``; every byte is asked once and memory stays
    far under a range."""
    name = unique("big") + ".bin"
    data = os.urandom(23 * MiB + 12345)
    _put(client, bucket, name, data)
    assert storage.node(f"s3:{name}").exists  # the client is made (service models)
    tracemalloc.start()
    try:
        with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
            storage.node(f"s3:{name}").copy_to("disk:out.bin")
            peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (tmp_path / "out.bin").read_bytes() == data
    gets = _gets(recorder, name)
    assert "range" not in gets[0] and "if-match" not in gets[0]
    etag = client.head_object(Bucket=bucket, Key=f"p/{name}")["ETag"]
    assert all(g["if-match"] == etag for g in gets[1:])
    spans = _spans(gets[1:])
    share = -(-len(data) // 3)  # what the first stream read of the plain GET
    assert len(spans) == 2 and spans[0][0] == share and spans[-1][1] == len(data) - 1
    assert spans[0][1] + 1 == spans[1][0]  # no gap, no overlap
    # a range held in memory would be 9 MiB; the coverage tool's own allocations, while
    # code runs for the first time, count too (4.3 MiB seen under slipcover)
    assert peak < 6 * MiB, peak
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # no temp file left


def test_a_tree_download_splits_by_the_listed_size(
    storage: StorageManager, client: Any, env: dict[str, str], bucket: str, tmp_path: Path
) -> None:
    """On the batch route the listing gave the size: 3 equal ranges at once, no sizing
    request; small objects are still one GET each."""
    folder = unique("tree")
    big = os.urandom(18 * MiB)
    _put(client, bucket, f"{folder}/big.bin", big)
    _put(client, bucket, f"{folder}/small.txt", b"small")
    with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
        storage.node(f"s3:{folder}").copy_to("disk:tree")
    assert (tmp_path / "tree/big.bin").read_bytes() == big
    assert (tmp_path / "tree/small.txt").read_bytes() == b"small"
    assert _spans(_gets(recorder, "big.bin")) == [
        (0, 6 * MiB - 1),
        (6 * MiB, 12 * MiB - 1),
        (12 * MiB, 18 * MiB - 1),
    ]
    assert len(_gets(recorder, "small.txt")) == 1


def test_up_to_the_threshold_one_get_and_an_empty_object_too(
    storage: StorageManager, client: Any, env: dict[str, str], bucket: str, tmp_path: Path
) -> None:
    """Under ``multipart_threshold`` (default 200 MiB) one GET; with ``download_concurrency``
    1 one GET whatever the size; a tiny object one GET on a ranged mount; an empty object
    arrives empty."""
    name = unique("mid") + ".bin"
    data = os.urandom(7 * MiB)
    _put(client, bucket, name, data)
    _put(client, bucket, "empty.bin", b"")
    with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
        storage.node(f"whole:{name}").copy_to("disk:mid.bin")
        storage.node(f"s3:{name}").copy_to("disk:one.bin", part_concurrency=1)
    assert (tmp_path / "mid.bin").read_bytes() == data
    assert len(_gets(recorder, name)) == 2  # one per copy
    _put(client, bucket, "small.txt", b"small")
    with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
        storage.node("s3:small.txt").copy_to("disk:small.txt")  # ranged mount, tiny object
    assert (tmp_path / "small.txt").read_bytes() == b"small"
    assert len(_gets(recorder, "small.txt")) == 1
    storage.node("s3:empty.bin").copy_to("disk:empty.bin")
    storage.node("whole:empty.bin").copy_to("disk:empty2.bin")
    assert (tmp_path / "empty.bin").read_bytes() == b""
    assert (tmp_path / "empty2.bin").read_bytes() == b""


def test_an_object_replaced_during_the_download_fails_and_keeps_the_old_file(
    storage: StorageManager,
    client: Any,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ranges after the first carry ``If-Match``: a new version written meanwhile is
    refused (412), never mixed in; the destination keeps its old content."""
    name = unique("moving") + ".bin"
    _put(client, bucket, name, os.urandom(12 * MiB))
    (tmp_path / "dest.bin").write_bytes(b"old content")
    real_range = _s3download.RangedDownload._range
    replaced: list[bool] = []

    async def replace_first(self: Any, fd: int, start: int, end: int, etag: Any) -> None:
        if not replaced:
            replaced.append(True)
            _put(client, bucket, name, os.urandom(12 * MiB))  # another writer, meanwhile
        await real_range(self, fd, start, end, etag)

    monkeypatch.setattr(_s3download.RangedDownload, "_range", replace_first)
    with pytest.raises(StorageError, match=r"'s3'.*changed on the server"):
        storage.node(f"s3:{name}").copy_to("disk:dest.bin")
    assert (tmp_path / "dest.bin").read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest.bin"]


@pytest.mark.parametrize("s3_client", CLIENTS)
@pytest.mark.parametrize("ranged", [True, False], ids=["ranges", "one-get"])
def test_a_body_cut_in_the_middle_is_resumed_where_it_stopped(
    env: dict[str, str], client: Any, bucket: str, tmp_path: Path, ranged: bool, s3_client: str
) -> None:
    """The first two GETs of the object are cut after their first bytes: each is asked
    again (from the byte it stopped at when the cut fell in the body), and the file
    arrives intact."""
    from urllib.parse import urlsplit

    name = unique("cut") + ".bin"
    data = os.urandom(16 * MiB)
    digest = _put(client, bucket, name, data)
    port_url = env["SVC_S3_ENDPOINT"]
    port = urlsplit(port_url).port
    assert port
    cut = Fault("reset", times=2, match=rf"^GET .*/{name}")
    proxied = NetProxy(port, faults=[cut], port=free_port())  # (a port of this worker's)
    with proxied as proxy, S3Requests(port_url, bucket) as recorder:
        manager = StorageManager()
        extra = RANGED if ranged else {}
        manager.configure(
            [
                {"name": "disk", "type": "local", "path": str(tmp_path)},
                {
                    "name": "far",
                    **_s3(env, bucket, proxy.endpoint, retries=6, client=s3_client, **extra),
                },
            ]
        )
        manager.node(f"far:{name}").copy_to("disk:back.bin")
    assert cut.fired == 2, proxy.log
    assert hashlib.md5((tmp_path / "back.bin").read_bytes()).hexdigest() == digest
    assert cut.seen == (5 if ranged else 3)  # each cut GET asked once more, nothing else
    # a cut inside the body is resumed from the byte it stopped at (a cut inside the
    # headers is botocore's to retry, from the range's start): never beyond it
    # 3 streams: the plain GET is read for a share, the rest comes in 2 halves
    share = -(-len(data) // 3)
    planned = {0, share, share + -(-(len(data) - share) // 2)} if ranged else {0}
    starts = [start for start, _ in _spans(_gets(recorder, name))]
    assert len(starts) == cut.seen and planned <= set(starts)


def test_download_concurrency_is_checked_and_defaults_to_five(
    storage: StorageManager, env: dict[str, str], bucket: str
) -> None:
    from genro_storage.errors import StorageConfigError

    network = storage.node("whole:x").location.backend.network  # type: ignore[attr-defined]
    assert (network.download_concurrency, network.multipart_threshold) == (5, 200 * MiB)
    manager = StorageManager()
    with pytest.raises(StorageConfigError, match=r"'bad'.*download_concurrency"):
        manager.configure([{"name": "bad", **_s3(env, bucket, download_concurrency=0)}])


# ---------------------------------------------------------------- upload checksums
def test_a_plain_http_upload_is_signed_once_not_also_crc32(
    storage: StorageManager, env: dict[str, str], bucket: str, tmp_path: Path
) -> None:
    """Over ``http://`` SigV4 signs the body's SHA-256 (the server checks it): no second
    pass over the file for a CRC32 header, single PUT and parts alike. Over ``https://``
    (body unsigned) the CRC32 stays, as it does when a mount turns payload signing off."""
    from genro_storage.backends.s3 import create

    (tmp_path / "one.bin").write_bytes(os.urandom(300_000))
    (tmp_path / "big.bin").write_bytes(os.urandom(11 * MiB))  # 3 parts on the `s3` mount
    with S3Requests(env["SVC_S3_ENDPOINT"], bucket) as recorder:
        storage.node("disk:one.bin").copy_to("s3:sums/one.bin")
        storage.node("disk:big.bin").copy_to("s3:sums/big.bin")
    puts = [
        {k.lower(): v for k, v in r["headers"].items()}
        for r in recorder.requests
        if r["method"] == "PUT"
    ]
    assert len(puts) == 4  # one PutObject, three UploadPart
    assert all(re.fullmatch(r"[0-9a-f]{64}", h["x-amz-content-sha256"]) for h in puts)
    assert not [k for h in puts for k in h if k.startswith("x-amz-checksum")]
    assert storage.node("s3:sums/big.bin").read_bytes() == (tmp_path / "big.bin").read_bytes()

    def setting(config: dict[str, Any]) -> Any:
        fs = create({"bucket": "b", **config}, "m").fs
        return fs.config_kwargs.get("request_checksum_calculation", "default")

    assert setting({"endpoint_url": "http://127.0.0.1:9"}) == "when_required"
    assert setting({"endpoint_url": "https://s3.example.com"}) == "default"
    assert setting({}) == "default"
    unsigned = {"s3": {"payload_signing_enabled": False}}
    assert setting({"endpoint_url": "http://127.0.0.1:9", "config_kwargs": unsigned}) == "default"
    mine = {"request_checksum_calculation": "when_supported"}
    assert setting({"endpoint_url": "http://h:9", "config_kwargs": mine}) == "when_supported"
