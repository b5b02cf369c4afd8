"""Client-library errors leave every remote backend as genro-storage errors naming the mount.

On the real servers (and on a closed loopback port for "unreachable"):

- unreachable endpoint -> ``StorageConnectionError`` (a ``ConnectionError``)
- credentials refused -> ``StorageAuthError`` (a ``PermissionError``)
- missing bucket / container / share / root -> ``StorageNotFoundError`` (a ``FileNotFoundError``)
- missing optional driver -> ``MissingDependencyError`` naming the ``pip install`` (in-process)

Never a botocore / aiohttp / paramiko / azure-core / smbprotocol / webdav4 exception.

Not testable here, for lack of a server that checks: S3 credentials (moto accepts any key
unless started with IAM enforcement), GCS credentials (fake-gcs-server has no auth) and
HTTP credentials (nginx serves the test root openly).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage import errors as storage_errors
from genro_storage.errors import (
    MissingDependencyError,
    StorageAuthError,
    StorageConnectionError,
    StorageError,
    StorageNotFoundError,
)
from tests.backends.conftest import closed_port, unique
from tests.conformance.targets import sftp_options, smb_options, webdav_options
from tests.services import require_services

REMOTE = ["s3", "gcs", "azure", "sftp", "smb", "webdav", "http"]
WRITABLE = {"s3", "gcs", "azure", "sftp", "smb", "webdav"}


def cases(kinds: list[str], operations: list[str]) -> list[Any]:
    """``(kind, operation)`` params; writes only on the backends that can write."""
    return [
        pytest.param(kind, op, id=f"{kind}-{op}")
        for kind in kinds
        for op in operations
        if op != "write" or kind in WRITABLE
    ]


WRONG_KEY = "A" * 86 + "=="  # a well-formed account key (base64 of 64 bytes), not Azurite's


def azure_connection(endpoint: str, key: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};"
        f"BlobEndpoint={endpoint}/devstoreaccount1;"
    )


def mount(config: dict[str, Any], name: str) -> StorageManager:
    manager = StorageManager()
    manager.configure([{"name": name, **config}])  # connects lazily: configure succeeds
    return manager


def attempt(
    manager: StorageManager, name: str, operation: str, path: str = "file.txt"
) -> BaseException:
    """Run ``operation`` on ``name:path`` and return what it raised (it must raise)."""
    node = manager.node(f"{name}:{path}")
    actions: dict[str, Callable[[], Any]] = {
        "read": node.read,
        "exists": lambda: node.exists,
        "size": lambda: node.size,
        "write": lambda: node.write("data"),
        "list": lambda: manager.node(f"{name}:").children(),
        "md5hash": lambda: node.md5hash,
    }
    with pytest.raises(Exception) as caught:
        actions[operation]()
    return caught.value


def assert_storage_error(exc: BaseException, kind: type[StorageError], mount_name: str) -> None:
    assert type(exc).__module__ == storage_errors.__name__, f"{type(exc)!r}: {exc}"
    assert isinstance(exc, kind), f"{type(exc).__name__}: {exc}"
    assert f"'{mount_name}'" in str(exc), str(exc)
    assert exc.__cause__ is not None  # the client's error stays attached for debugging


# ---------------------------------------------------------------- unreachable endpoint
def unreachable_config(kind: str, port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}"
    configs: dict[str, dict[str, Any]] = {
        "s3": {
            "type": "s3",
            "bucket": "b",
            "key": "k",
            "secret": "s",
            "endpoint_url": url,
        },
        "gcs": {
            "type": "gcs",
            "bucket": "b",
            "token": "anon",
            "project": "p",
            "endpoint_url": url,
        },
        "azure": {
            "type": "azure",
            "container": "c",
            "account_name": "devstoreaccount1",
            "connection_string": azure_connection(url, WRONG_KEY),
        },
        "sftp": {
            "type": "sftp",
            "host": "127.0.0.1",
            "port": port,
            "username": "u",
            "password": "p",
        },
        "smb": {
            "type": "smb",
            "host": "127.0.0.1",
            "port": port,
            "share": "share",
            "username": "u",
            "password": "p",
        },
        "webdav": {"type": "webdav", "url": url, "username": "u", "password": "p"},
        "http": {"type": "http", "base_url": url},
    }
    return configs[kind]


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Client retry loops (s3fs/botocore, gcsfs, azure-core) sleep through asyncio.sleep
    between attempts: 5 s, 34 s and 86 s before a refused connection is reported with their
    default policies. The retries still all happen here, only without the waits."""
    real_sleep = asyncio.sleep

    async def instant(delay: float, result: Any = None) -> Any:
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", instant)


@pytest.mark.parametrize(("kind", "operation"), cases(REMOTE, ["read", "exists", "write", "list"]))
def test_unreachable_endpoint_raises_connection_error_naming_the_mount(
    kind: str, operation: str, no_backoff: None, unraisable: Callable[[], list[str]]
) -> None:
    name = f"down_{kind}"
    manager = mount(unreachable_config(kind, closed_port()), name)

    exc = attempt(manager, name, operation)

    assert_storage_error(exc, StorageConnectionError, name)
    assert isinstance(exc, ConnectionError)
    del exc
    assert unraisable() == []


# ---------------------------------------------------------------- credentials refused
def bad_credentials_config(kind: str, env: dict[str, str]) -> dict[str, Any]:
    options = {"sftp": sftp_options, "smb": smb_options, "webdav": webdav_options}
    if kind in options:
        return {**options[kind](env), "password": "not-the-password"}
    if kind == "azure":
        endpoint = env["SVC_AZURE_CONNECTION_STRING"].split("BlobEndpoint=", 1)[1]
        endpoint = endpoint.split(";", 1)[0].rsplit("/", 1)[0]
        return {
            "type": "azure",
            "container": "anything",
            "account_name": "devstoreaccount1",
            "connection_string": azure_connection(endpoint, WRONG_KEY),
        }
    raise ValueError(kind)


@pytest.mark.services
@pytest.mark.parametrize(
    ("kind", "operation"),
    cases(["sftp", "smb", "webdav", "azure"], ["read", "exists", "write", "list"]),
)
def test_refused_credentials_raise_auth_error_naming_the_mount(
    kind: str, operation: str, unraisable: Callable[[], list[str]]
) -> None:
    env = require_services(kind)
    if kind == "smb":
        # smbprotocol reuses a logged-in session per server and user for the whole
        # process (docs/backends.md): start from none, whatever ran before
        import smbclient

        smbclient.reset_connection_cache()
    name = f"badauth_{kind}"
    manager = mount(bad_credentials_config(kind, env), name)

    exc = attempt(manager, name, operation)

    assert_storage_error(exc, StorageAuthError, name)
    assert isinstance(exc, PermissionError)
    del exc
    # a failed upload must not leave a driver handle that retries it when collected
    assert unraisable() == []


# ---------------------------------------------------------------- missing bucket, share, root
def missing_storage_config(kind: str, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """A config whose bucket/container/share/root does not exist, and that name."""
    if kind == "s3":
        return {
            "type": "s3",
            "bucket": "no-such-bucket-genro",
            "key": env["SVC_S3_KEY"],
            "secret": env["SVC_S3_SECRET"],
            "endpoint_url": env["SVC_S3_ENDPOINT"],
        }, "no-such-bucket-genro"
    if kind == "gcs":
        return {
            "type": "gcs",
            "bucket": "no-such-bucket-genro",
            "token": "anon",
            "project": "test",
            "endpoint_url": env["SVC_GCS_ENDPOINT"],
        }, "no-such-bucket-genro"
    if kind == "azure":
        return {
            "type": "azure",
            "container": "no-such-container-genro",
            "account_name": "devstoreaccount1",
            "connection_string": env["SVC_AZURE_CONNECTION_STRING"],
        }, "no-such-container-genro"
    if kind == "smb":
        return {
            "type": "smb",
            "host": env["SVC_SMB_HOST"],
            "port": int(env["SVC_SMB_PORT"]),
            "share": "nosuchshare",
            "username": env["SVC_SMB_USER"],
            "password": env["SVC_SMB_PASSWORD"],
        }, "nosuchshare"
    if kind == "sftp":
        root = f"{env['SVC_SFTP_ROOT']}/{unique('no-such-root')}"
        return {
            "type": "sftp",
            "host": env["SVC_SFTP_HOST"],
            "port": int(env["SVC_SFTP_PORT"]),
            "username": env["SVC_SFTP_USER"],
            "password": env["SVC_SFTP_PASSWORD"],
            "path": root,
        }, "file.txt"
    if kind == "webdav":
        return {
            "type": "webdav",
            "url": env["SVC_WEBDAV_URL"],
            "username": env["SVC_WEBDAV_USER"],
            "password": env["SVC_WEBDAV_PASSWORD"],
            "path": unique("no-such-root"),
        }, "file.txt"
    if kind == "http":
        root = f"{env['SVC_HTTP_URL']}/{unique('no-such-root')}"
        return {"type": "http", "base_url": root}, "file.txt"
    raise ValueError(kind)


@pytest.mark.services
@pytest.mark.parametrize(
    ("kind", "operation"), cases(REMOTE, ["read", "size", "md5hash", "write", "list"])
)
def test_missing_bucket_share_or_root_raises_not_found_naming_the_mount(
    kind: str, operation: str, unraisable: Callable[[], list[str]]
) -> None:
    env = require_services(kind)
    config, what = missing_storage_config(kind, env)
    name = f"nostore_{kind}"
    manager = mount(config, name)

    # a file at the mount root: writes create missing parent directories *inside* a mount
    # (so "dir/file.txt" on an SFTP or WebDAV mount would create the missing root too)
    exc = attempt(manager, name, operation, "file.txt")

    assert_storage_error(exc, StorageNotFoundError, name)
    assert isinstance(exc, FileNotFoundError)
    if kind in ("s3", "gcs", "azure", "smb"):  # says which bucket / container / share
        assert f"'{what}' does not exist" in str(exc), str(exc)
    elif operation != "list":  # a missing directory root: says which file
        assert what in str(exc), str(exc)
    assert not manager.node(f"{name}:file.txt").exists  # a plain False, no error
    del exc
    assert unraisable() == []


# ---------------------------------------------------------------- missing optional driver
EXTRAS = [
    # (type, module that stands for the missing driver, extra, minimal config)
    ("s3", "s3fs", "s3", {"bucket": "b"}),
    ("gcs", "gcsfs", "gcs", {"bucket": "b"}),
    ("azure", "adlfs", "azure", {"container": "c", "account_name": "a"}),
    ("sftp", "paramiko", "sftp", {"host": "h", "username": "u"}),
    ("smb", "smbprotocol", "smb", {"host": "h", "share": "s"}),
    ("webdav", "webdav4", "webdav", {"url": "http://127.0.0.1:9"}),
    ("http", "aiohttp", "http", {"base_url": "http://127.0.0.1:9"}),
]


@pytest.mark.parametrize(("kind", "module", "extra", "config"), EXTRAS)
def test_missing_driver_names_the_extra_to_install(
    kind: str,
    module: str,
    extra: str,
    config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # "import <module>" now fails
    manager = StorageManager()

    with pytest.raises(MissingDependencyError) as caught:
        manager.configure([{"name": f"nodriver_{kind}", "type": kind, **config}])

    exc = caught.value
    assert isinstance(exc, ImportError)
    assert type(exc).__module__ == storage_errors.__name__
    message = str(exc)
    assert f"pip install 'genro-storage[{extra}]'" in message
    assert f"'nodriver_{kind}'" in message and module in message
    assert not manager.has_mount(f"nodriver_{kind}")
