"""The ``genro_storage`` logger: a DEBUG line per backend request and per retry, every mount.

Against the real servers: HTTP-based drivers (S3, GCS, Azure, WebDAV, HTTP) log each HTTP
request they send, each attempt included; SFTP, SMB, local and memory mounts log each
operation with its duration. Through a proxy answering 503 (``bench.netproxy``), the retries
of S3 (botocore), GCS (our tenacity loop) and Azure (azure-storage's policy) are logged
with the mount named.
"""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from tests.conformance.targets import BY_NAME, mounted, writable_config

HTTP_DRIVERS = {"s3", "gcs", "azure", "webdav"}


def _messages(caplog: pytest.LogCaptureFixture, mount: str) -> list[str]:
    head = f"mount '{mount}' ("
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(head)]


@pytest.mark.parametrize(
    "kind",
    [
        "local",
        "memory",
        pytest.param("s3", marks=pytest.mark.services),
        pytest.param("gcs", marks=pytest.mark.services),
        pytest.param("azure", marks=pytest.mark.services),
        pytest.param("sftp", marks=pytest.mark.services),
        pytest.param("smb", marks=pytest.mark.services),
        pytest.param("webdav", marks=pytest.mark.services),
    ],
)
def test_every_mount_logs_each_request_or_operation(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with mounted(kind, tmp_path) as manager, caplog.at_level(logging.DEBUG, "genro_storage"):
        node = manager.node("m:logged/a.txt")
        node.write_text("logged")
        assert node.read_text() == "logged"
        node.copy_to("m:logged/b.txt")
        names = [child.basename for child in manager.node("m:logged").children()]
        node.delete()
    assert sorted(names) == ["a.txt", "b.txt"]
    lines = _messages(caplog, "m")
    described = manager.get_backend("m").describe()
    assert lines and all(line.startswith(f"{described}: ") for line in lines), lines
    # one line per operation, with its duration (the outermost backend call)
    operations = [line for line in lines if re.search(r"\): [a-z_]+ '.*' [0-9.]+ ms$", line)]
    assert any("write_bytes 'logged/a.txt'" in line for line in operations), lines
    assert any("read_bytes 'logged/a.txt'" in line for line in operations), lines
    assert any(" delete 'logged/a.txt'" in line for line in operations), lines
    if kind in HTTP_DRIVERS:
        # and one per HTTP request the driver sent: method and URL
        requests = [line for line in lines if re.search(r"\): [A-Za-z]* ?[A-Z]+ https?://", line)]
        methods = {m.group(1) for m in (re.search(r"([A-Z]+) https?://", r) for r in requests) if m}
        assert {"GET", "PUT"} & methods or {"GET", "POST"} & methods, lines
        assert any("a.txt" in line for line in requests), requests
        assert len(requests) >= len(operations) // 2
    info = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert info == ["copied m:logged/a.txt -> m:logged/b.txt"]


@pytest.mark.services
def test_http_mount_logs_each_request(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with mounted("http", tmp_path) as manager, caplog.at_level(logging.DEBUG, "genro_storage"):
        first = manager.node("m:tree").children()[0]
        first.read_bytes()
    requests = [line for line in _messages(caplog, "m") if " GET http" in line]
    assert requests and all(line.startswith("mount 'm' (http): GET http") for line in requests)


# ---------------------------------------------------------------------- retries


def _proxied(kind: str, endpoint: str, area: str) -> dict[str, Any]:
    from tests.test_retries import remote_config

    config = remote_config(kind, endpoint, area)
    config["retries"] = 4
    return config


@pytest.mark.services
@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_retries_are_logged_with_the_mount_named(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    from bench.netproxy import Fault, NetProxy
    from tests._procs import free_port
    from tests.test_retries import make_area, server_port

    area = f"r{uuid.uuid4().hex[:12]}"
    make_area(kind, area)
    with NetProxy(server_port(kind), faults=[Fault("503", every=2)], port=free_port()) as proxy:
        manager = StorageManager(env=False)
        manager.configure([{"name": "flaky", **_proxied(kind, proxy.endpoint, area)}])
        described = manager.get_backend("flaky").describe()  # "mount 'flaky' (az)"...
        with caplog.at_level(logging.DEBUG, "genro_storage"):
            for i in range(3):
                manager.node(f"flaky:r{i}.txt").write_text(f"r{i}")
                assert manager.node(f"flaky:r{i}.txt").read_text() == f"r{i}"
        manager.close()
    assert proxy.injected.get("503", 0) >= 2, proxy.injected
    lines = _messages(caplog, "flaky")
    retries = [line for line in lines if "retry" in line]
    assert retries, lines
    assert all(line.startswith(f"{described}: ") for line in retries), retries


@pytest.mark.services
def test_webdav_close_closes_its_connections_and_reconnects(tmp_path: Path) -> None:
    import gc
    import warnings

    with mounted("webdav", tmp_path) as manager:
        manager.node("m:a.txt").write_text("x")
        client = manager.get_backend("m").fs.client.http
        manager.close()
        assert client.is_closed  # not left to the garbage collector (ResourceWarning)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            gc.collect()
        assert manager.node("m:a.txt").read_text() == "x"  # a new client


@pytest.mark.services
def test_s3_mounts_share_botocore_data_and_log_only_their_own_requests(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two S3 mounts on the real server: their botocore sessions share the one data
    loader (S3's service model parsed once per process), and each still logs only its
    own requests (event handlers per session)."""
    target = BY_NAME["s3"]
    manager = StorageManager(env=False)
    configs = [{"name": n, **writable_config(target, target.env(), tmp_path)} for n in "ab"]
    manager.configure(configs)
    try:
        with caplog.at_level(logging.DEBUG, "genro_storage"):
            manager.node("a:one.txt").write_text("a")
            manager.node("b:two.txt").write_text("b")
            assert manager.node("a:one.txt").read_text() == "a"
        sessions = [manager.get_backend(n).fs.session for n in "ab"]
        loaders = [s.get_component("data_loader") for s in sessions]
        emitters = [s.get_component("event_emitter") for s in sessions]
    finally:
        manager.close()
    assert loaders[0] is loaders[1]
    assert emitters[0] is not emitters[1]
    urls = {n: [m for m in _messages(caplog, n) if " http" in m] for n in "ab"}
    assert any("one.txt" in m for m in urls["a"]) and not any("two.txt" in m for m in urls["a"])
    assert any("two.txt" in m for m in urls["b"]) and not any("one.txt" in m for m in urls["b"])
