"""Transfers survive a faulty network: fault injection between us and real servers.

``bench.netproxy.NetProxy`` sits between genro-storage and moto (S3), fake-gcs-server
(GCS) or Azurite (Azure) and, on a fixed schedule, answers 503 / 500 instead of the
server, drops connections before the request reaches the server, and cuts responses in
the middle. Every copy must complete (the drivers' retries and the engine's per-file
retries) and every byte must arrive intact.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bench.netproxy import Fault, NetProxy
from genro_storage import StorageManager
from genro_storage.backends._retry import is_transient
from genro_storage.errors import StorageConfigError, StorageConnectionError
from tests._procs import free_port
from tests.services import require_services

pytestmark = pytest.mark.services

MiB = 1024 * 1024


def schedule() -> list[Fault]:
    """About one request in four meets a fault, of each kind."""
    return [
        Fault("503", every=9),
        Fault("reset", every=11),
        Fault("drop", every=17),
        Fault("500", every=23),
    ]


def remote_config(kind: str, endpoint: str, area: str) -> dict[str, Any]:
    if kind == "s3-obstore":  # the same S3 mount, its requests through obstore
        return {**remote_config("s3", endpoint, area), "client": "obstore"}
    env = require_services(kind)
    fast = {"retries": 8, "connect_timeout": 5, "timeout": 20}
    if kind == "s3":
        return {
            "type": "s3",
            "bucket": area,
            "key": env["SVC_S3_KEY"],
            "secret": env["SVC_S3_SECRET"],
            "endpoint_url": endpoint,
            "part_size": 5 * MiB,
            **fast,
        }
    if kind == "gcs":
        return {
            "type": "gcs",
            "bucket": area,
            "token": "anon",
            "project": "test",
            "endpoint_url": endpoint,
            **fast,
        }
    conn = env["SVC_AZURE_CONNECTION_STRING"]
    real = re.search(r"BlobEndpoint=(http://[^/;]+)", conn)
    assert real
    return {
        "type": "azure",
        "container": area,
        "account_name": "devstoreaccount1",
        "connection_string": conn.replace(real.group(1), endpoint),
        **fast,
    }


def server_port(kind: str) -> int:
    kind = kind.split("-")[0]  # s3-obstore: the S3 server
    env = require_services(kind)
    if kind == "s3":
        url = env["SVC_S3_ENDPOINT"]
    elif kind == "gcs":
        url = env["SVC_GCS_ENDPOINT"]
    else:
        found = re.search(r"BlobEndpoint=(http://[^/;]+)", env["SVC_AZURE_CONNECTION_STRING"])
        assert found
        url = found.group(1)
    port = urlsplit(url).port
    assert port
    return port


def make_area(kind: str, name: str) -> None:
    """The bucket / container, created directly on the server (no faults)."""
    kind = kind.split("-")[0]  # s3-obstore: the S3 server
    env = require_services(kind)
    if kind == "s3":
        import s3fs

        s3fs.S3FileSystem(
            key=env["SVC_S3_KEY"], secret=env["SVC_S3_SECRET"], endpoint_url=env["SVC_S3_ENDPOINT"]
        ).mkdir(name)
    elif kind == "gcs":
        import gcsfs

        gcsfs.GCSFileSystem(
            endpoint_url=env["SVC_GCS_ENDPOINT"], token="anon", project="test"
        ).mkdir(name)
    else:
        import adlfs

        adlfs.AzureBlobFileSystem(connection_string=env["SVC_AZURE_CONNECTION_STRING"]).mkdir(name)


def digest(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


MULTIPART = {"multipart_threshold": 5 * MiB}  # S3: the 12 MiB file goes up in parts


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for i in range(24):
        folder = root / f"d{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:02d}.bin").write_bytes(os.urandom(1000 + i * 997))
    # one streamed PUT on S3 (under multipart_threshold), 3 parts of 5 MiB with MULTIPART
    (root / "big.bin").write_bytes(os.urandom(12 * MiB))
    return root


@pytest.mark.parametrize("kind", ["s3", "s3-obstore", "gcs", "azure"])
def test_copies_complete_intact_through_resets_drops_and_5xx(
    kind: str, tree: Path, tmp_path: Path
) -> None:
    area = f"f{uuid.uuid4().hex[:12]}"
    make_area(kind, area)
    with NetProxy(server_port(kind), faults=schedule(), port=free_port()) as proxy:
        manager = StorageManager()
        manager.configure(
            [
                {"name": "here", "type": "local", "path": str(tmp_path)},
                {"name": "far", **remote_config(kind, proxy.endpoint, area)},
            ]
        )
        manager.node("here:src").copy_to("far:up")
        manager.node("far:up").copy_to("here:back")
        payload = os.urandom(300_000)
        manager.node("far:single.bin").write_bytes(payload)
        assert manager.node("far:single.bin").read_bytes() == payload
    injected = proxy.injected
    assert sum(injected.values()) >= 6, injected  # the schedule did hit the transfers
    originals = sorted(p.relative_to(tree) for p in tree.rglob("*") if p.is_file())
    back = tmp_path / "back"
    copied = sorted(p.relative_to(back) for p in back.rglob("*") if p.is_file())
    assert copied == originals
    for rel in originals:
        assert digest(back / rel) == digest(tree / rel), rel
    leftovers = [p for p in back.rglob("*") if p.name.startswith(".") and p.suffix == ".tmp"]
    assert leftovers == []


@pytest.mark.parametrize("kind", ["s3", "s3-obstore", "gcs", "azure"])
def test_async_reads_and_writes_complete_intact_through_faults(kind: str) -> None:
    """The native async path (requests on the caller's event loop, no worker thread):
    gathered writes, whole and ranged reads and streamed reads through the same schedule
    of 503/500, dropped connections and responses cut in the middle."""
    import asyncio

    from genro_storage import AsyncStorageManager

    area = f"f{uuid.uuid4().hex[:12]}"
    make_area(kind, area)
    payloads = [os.urandom(20_000 + i * 1_999) for i in range(24)]
    with NetProxy(server_port(kind), faults=schedule(), port=free_port()) as proxy:
        manager = StorageManager()
        manager.configure([{"name": "far", **remote_config(kind, proxy.endpoint, area)}])

        async def round_trip() -> tuple[list[bytes], list[bytes], bytes]:
            amanager = AsyncStorageManager(manager)
            try:
                nodes = [amanager.node(f"far:a/{i:02d}.bin") for i in range(len(payloads))]
                await asyncio.gather(*(n.write_bytes(d) for n, d in zip(nodes, payloads)))
                whole = await asyncio.gather(*(n.read_bytes() for n in nodes))
                ranged = await asyncio.gather(*(n.read_range(100, 5_100) for n in nodes))
                streamed = b"".join([c async for c in nodes[-1].iter_bytes(4096)])
                return list(whole), list(ranged), streamed
            finally:
                await amanager.aclose()

        whole, ranged, streamed = asyncio.run(round_trip())
    injected = proxy.injected
    assert sum(injected.values()) >= 6, injected  # the schedule did hit the requests
    assert whole == payloads
    assert ranged == [d[100:5_100] for d in payloads]
    assert streamed == payloads[-1]


@pytest.mark.parametrize("kind", ["s3", "s3-obstore", "gcs", "azure"])
def test_async_read_failing_after_retries_names_the_mount(kind: str) -> None:
    import asyncio
    import time

    from genro_storage import AsyncStorageManager

    area = f"f{uuid.uuid4().hex[:12]}"
    make_area(kind, area)
    always = Fault("503", match=r"^GET ")
    with NetProxy(server_port(kind), faults=[always], port=free_port()) as proxy:
        manager = StorageManager()
        config = {**remote_config(kind, proxy.endpoint, area), "retries": 1}
        manager.configure([{"name": "far", **config}])

        async def read() -> None:
            amanager = AsyncStorageManager(manager)
            try:
                await amanager.node("far:some.bin").read_bytes()
            finally:
                await amanager.aclose()

        started = time.monotonic()
        with pytest.raises(StorageConnectionError) as caught:
            asyncio.run(read())
        took = time.monotonic() - started
        async_attempts = always.fired
        with pytest.raises(StorageConnectionError, match="'far'"):
            manager.node("far:some.bin").read_bytes()  # the sync path: the same attempts
        sync_attempts = always.fired - async_attempts
    assert "'far'" in str(caught.value), caught.value
    # retries: 1 is two attempts; on S3 a 503 (SlowDown) meets two layers, botocore's
    # attempts inside each of s3fs' own (the async twin had s3fs' default 5, and botocore
    # one more than asked: 15 requests and 10 s here, 6 on the sync path)
    # (obstore: its own retries only, the same on both paths)
    expected = 4 if kind == "s3" else 2
    assert (async_attempts, sync_attempts) == (expected, expected), proxy.log
    assert took < 30, took


@pytest.mark.parametrize("kind", ["s3", "s3-obstore", "gcs", "azure"])
def test_retries_0_makes_a_download_to_a_file_one_attempt(kind: str, tmp_path: Path) -> None:
    """``retries: 0`` disables retries (docs/backends.md), in the drivers' downloads to a
    file too: gcsfs made its own six attempts there, 31 s of waits."""
    area = f"f{uuid.uuid4().hex[:12]}"
    make_area(kind, area)
    download = Fault(
        "503", match=rf"^GET /(download/storage/v1/b/|devstoreaccount1/)?{area}(/o)?/some\.bin"
    )
    with NetProxy(server_port(kind), faults=[download], port=free_port()) as proxy:
        manager = StorageManager()
        manager.configure(
            [
                {"name": "here", "type": "local", "path": str(tmp_path)},
                {"name": "far", **remote_config(kind, proxy.endpoint, area), "retries": 0},
            ]
        )
        manager.node("far:some.bin").write_bytes(b"x" * 1000)
        with pytest.raises(StorageConnectionError, match="'far'"):
            manager.node("far:some.bin").copy_to("here:some.bin")
    assert download.fired == 1, proxy.log
    assert not (tmp_path / "some.bin").exists()


@pytest.mark.parametrize("kind", ["gcs", "azure"])
def test_retry_waits_follow_the_mount_policy(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every wait between attempts is the documented one: random, up to 0.1 s, doubling
    (docs/backends.md, ``retries``), whatever the driver's own default: azure-storage
    waited 1.6 s and more from its first retry, gcsfs 1-2 s in its downloads to a file.
    (S3 keeps botocore's standard mode, documented apart.)"""
    import asyncio

    from genro_storage.backends._retry import FIRST_WAIT

    real_sleep = asyncio.sleep
    waits: list[float] = []

    async def recorded(delay: float, result: Any = None) -> Any:
        if delay > 0:
            waits.append(delay)
        return await real_sleep(delay, result)

    monkeypatch.setattr(asyncio, "sleep", recorded)
    area = f"f{uuid.uuid4().hex[:12]}"
    make_area(kind, area)
    with NetProxy(server_port(kind), faults=[Fault("503", every=2)], port=free_port()) as proxy:
        manager = StorageManager()
        manager.configure(
            [
                {"name": "here", "type": "local", "path": str(tmp_path)},
                {"name": "far", **remote_config(kind, proxy.endpoint, area)},
            ]
        )
        for i in range(3):
            manager.node(f"far:w{i}.bin").write_bytes(b"w" * 5000)
            assert manager.node(f"far:w{i}.bin").read_bytes() == b"w" * 5000
            manager.node(f"far:w{i}.bin").copy_to(f"here:w{i}.bin")  # a download to a file
        # the chance of a third attempt at one request is small: 0.4 s bounds its wait
        assert max(waits, default=0.0) <= FIRST_WAIT * 4, (waits, proxy.injected)
    assert proxy.injected.get("503", 0) >= 3, proxy.injected
    assert len(waits) >= 3, waits


@pytest.mark.parametrize("kind", ["s3", "s3-obstore"])
def test_s3_complete_multipart_500_is_retried(kind: str, tree: Path, tmp_path: Path) -> None:
    area = f"f{uuid.uuid4().hex[:12]}"
    make_area("s3", area)
    complete = Fault("500", match=r"^POST .*\?uploadId=", times=2)
    with NetProxy(server_port("s3"), faults=[complete], port=free_port()) as proxy:
        manager = StorageManager()
        manager.configure(
            [
                {"name": "here", "type": "local", "path": str(tree)},
                {"name": "far", **remote_config(kind, proxy.endpoint, area), **MULTIPART},
            ]
        )
        manager.node("here:big.bin").copy_to("far:big.bin")
        assert complete.fired == 2, proxy.log
        manager.node("far:big.bin").copy_to(f"here:{tmp_path.name}-big.bin")
    assert digest(tree / f"{tmp_path.name}-big.bin") == digest(tree / "big.bin")


@pytest.mark.parametrize("kind", ["s3", "s3-obstore"])
def test_s3_failure_after_retries_names_side_operation_and_attempts(kind: str, tree: Path) -> None:
    area = f"f{uuid.uuid4().hex[:12]}"
    make_area("s3", area)
    always = Fault("500", match=r"^POST .*\?uploadId=")
    with NetProxy(server_port("s3"), faults=[always], port=free_port()) as proxy:
        manager = StorageManager()
        config = {**remote_config(kind, proxy.endpoint, area), "retries": 1, **MULTIPART}
        manager.configure(
            [
                {"name": "here", "type": "local", "path": str(tree)},
                {"name": "far", **config},
            ]
        )
        with pytest.raises(StorageConnectionError) as caught:
            manager.node("here:big.bin").copy_to("far:big.bin")
        assert not manager.node("far:big.bin").exists
    message = str(caught.value)
    assert "upload of here:big.bin to far:big.bin" in message, message
    assert "destination side" in message, message
    assert "2 attempts" in message, message


@pytest.mark.parametrize("chunk", [1, 3, 4])
def test_gcs_chunk_whose_answer_is_lost_is_never_stored_twice(
    chunk: int, tree: Path, tmp_path: Path
) -> None:
    """A chunk of a resumable upload reaches the server, then its answer is cut. Sent
    again as it was (gcsfs' retry), fake-gcs-server appended it a second time: a 12 MiB
    file came back 16 MiB (a rare failure of the schedule test above). Now such a chunk
    is never sent again: a copy starts the file over from its source and arrives intact;
    a stream written with ``open('wb')`` fails naming the mount, and the object keeps
    its old content (or, when the lost answer was the one completing the upload, holds
    exactly the new one). 12 MiB go as three chunks of 4 MiB, then an empty request that
    completes the upload: ``chunk`` 1, 3 and 4 lose the answer to the first, the last
    chunk and the completion."""
    area = f"f{uuid.uuid4().hex[:12]}"
    make_area("gcs", area)
    data = (tree / "big.bin").read_bytes()
    old = b"the old content"
    for route in ("copy", "stream"):
        cut = Fault("reset", match=r"upload_id=", skip=chunk - 1, times=1)
        with NetProxy(server_port("gcs"), faults=[cut], port=free_port()) as proxy:
            manager = StorageManager()
            manager.configure(
                [
                    {"name": "here", "type": "local", "path": str(tree)},
                    {"name": "far", **remote_config("gcs", proxy.endpoint, area)},
                ]
            )
            target = manager.node(f"far:{route}.bin")
            target.write_bytes(old)
            if route == "copy":
                manager.node("here:big.bin").copy_to(target)
            else:
                lost = pytest.raises(StorageConnectionError, match=r"'far'.*answer")
                with lost, target.open("wb") as fh:
                    for start in range(0, len(data), MiB):
                        fh.write(data[start : start + MiB])
            assert cut.fired == 1, proxy.log
            back = target.read_bytes()
        expected = data if route == "copy" or chunk == 4 else old
        assert len(back) == len(expected), route
        assert hashlib.md5(back).hexdigest() == hashlib.md5(expected).hexdigest(), route


def test_transient_classification() -> None:
    assert is_transient(ConnectionResetError())
    assert is_transient(TimeoutError())
    assert not is_transient(FileNotFoundError("x"))
    assert not is_transient(PermissionError("x"))
    wrapped = OSError("wrapped")
    wrapped.__cause__ = ConnectionResetError()
    assert is_transient(wrapped)


@pytest.mark.parametrize(
    ("key", "value"),
    [("retries", -1), ("timeout", "soon"), ("part_size", 1024), ("part_concurrency", 0)],
)
def test_bad_network_settings_name_the_mount(key: str, value: Any) -> None:
    manager = StorageManager()
    with pytest.raises(StorageConfigError, match="'bucky'"):
        manager.configure(
            [{"name": "bucky", "type": "s3", "bucket": "b", "anon": True, key: value}]
        )
