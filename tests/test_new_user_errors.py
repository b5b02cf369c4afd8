"""The errors a new user hits first name the mount, the path and the fix (issue 11)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.errors import MissingDependencyError, StorageNotFoundError


def test_a_slash_instead_of_a_colon_suggests_the_mount_spelling(tmp_path: Path) -> None:
    storage = StorageManager(env=False)
    storage.configure([{"name": "uploads", "type": "local", "path": str(tmp_path)}])
    with pytest.raises(StorageNotFoundError, match=r"Did you mean 'uploads:a\.txt'"):
        storage.node("uploads/a.txt")
    with pytest.raises(StorageNotFoundError) as info:
        storage.node("other/a.txt")
    assert "Did you mean" not in str(info.value)


def test_a_missing_local_file_names_mount_and_path(tmp_path: Path) -> None:
    storage = StorageManager(env=False)
    storage.configure([{"name": "docs", "type": "local", "path": str(tmp_path)}])
    node = storage.node("docs:missing.txt")
    for action in (node.read_bytes, node.read_text, node.stat, lambda: node.open("rb")):
        with pytest.raises(FileNotFoundError) as info:
            action()
        message = str(info.value)
        assert message == "mount 'docs' (local): 'missing.txt' not found (no such file)"
        assert str(tmp_path) not in message and "[Errno" not in message
        assert info.value.errno == 2
    with pytest.raises(StorageNotFoundError, match=r"mount 'docs' .*'nodir' not found"):
        storage.node("docs:nodir").children()


@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [
        ("genro_storage.aio", "asyncer", "async"),
        ("genro_storage.integrations.flask", "flask", "flask"),
        ("genro_storage.integrations.starlette", "starlette", "starlette"),
    ],
)
def test_a_missing_extra_names_the_pip_install(module: str, blocked: str, extra: str) -> None:
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        f"from genro_storage.errors import MissingDependencyError\n"
        f"try:\n    import {module}\n"
        f"except MissingDependencyError as exc:\n    print(exc)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert f"needs the '{blocked}' package" in text
    assert f"pip install 'genro-storage[{extra}]'" in text
    assert issubclass(MissingDependencyError, ImportError)


@pytest.mark.services
def test_ls_on_a_missing_bucket_says_the_bucket_does_not_exist(tmp_path: Path) -> None:
    from tests.services import require_services

    env = require_services("s3")
    config = tmp_path / "mounts.yaml"
    config.write_text(
        "- name: s\n  type: s3\n  bucket: genro-never-created\n"
        f"  endpoint_url: {env['SVC_S3_ENDPOINT']}\n"
        f"  key: {env['SVC_S3_KEY']}\n  secret: {env['SVC_S3_SECRET']}\n"
    )
    run_env = dict(os.environ, PYTHONPATH=os.getcwd())
    for args in (["ls", "s:"], ["stat", "s:"]):
        out = subprocess.run(
            [sys.executable, "-m", "genro_storage", "--config", str(config), *args],
            capture_output=True,
            env=run_env,
            timeout=60,
        )
        assert out.returncode != 0
        assert "bucket 'genro-never-created' does not exist" in out.stderr.decode(), out.stderr


@pytest.mark.services
def test_no_credentials_at_all_says_where_they_are_looked_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from genro_storage.errors import StorageAuthError
    from tests.services import require_services

    env = require_services("s3")
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    storage = StorageManager(env=False)
    storage.configure(
        [{"name": "s", "type": "s3", "bucket": "b", "endpoint_url": env["SVC_S3_ENDPOINT"]}]
    )
    with pytest.raises(StorageAuthError) as info:
        storage.node("s:a.txt").read_text()
    message = str(info.value)
    assert "no credentials were found, so no request was sent" in message
    assert "AWS_ACCESS_KEY_ID" in message and "~/.aws/credentials" in message
    assert "refused" not in message
    storage.close()


@pytest.mark.services
def test_a_failed_multipart_completion_is_reported_as_such(tmp_path: Path) -> None:
    import uuid

    import yaml

    from bench.netproxy import Fault, NetProxy
    from tests._procs import free_port
    from tests.conformance.targets import s3_fs
    from tests.services import require_services
    from tests.test_retries import remote_config, server_port

    area = f"f{uuid.uuid4().hex[:12]}"
    s3_fs(require_services("s3")).mkdir(area)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x01" * (12 * 1024 * 1024))  # three 5 MiB parts: a multipart upload
    always = Fault("500", match=r"^POST .*\?uploadId=")  # CompleteMultipartUpload
    with NetProxy(server_port("s3"), faults=[always], port=free_port()) as proxy:
        config = tmp_path / "m.yaml"
        mount = {"name": "far", **remote_config("s3", proxy.endpoint, area), "retries": 1}
        mount["multipart_threshold"] = 5 * 1024 * 1024  # (default: one PUT up to 200 MiB)
        config.write_text(yaml.safe_dump([mount]))
        out = subprocess.run(
            [sys.executable, "-m", "genro_storage", "-c", str(config), "put", str(big), "far:b"],
            capture_output=True,
            env=dict(os.environ, PYTHONPATH=os.getcwd()),
            timeout=120,
        )
    message = out.stderr.decode()
    assert out.returncode != 0 and always.fired >= 1
    assert "failed on the destination side" in message and "far:b " in message, message
    assert "not found" not in message and "no such file" not in message, message
